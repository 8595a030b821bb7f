import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ransacSimilarity } from '../src/lib/classical/similarity';
import { Rng } from '../src/lib/util/random';

test("RANSAC scoring: 'magsac' prefers 15 tightly fitting matches to 17 that all sit 1-1.5 px off another transform; 'count' the 17", () => {
  const rng = new Rng('ransac-magsac');
  const src: number[] = [];
  const dst: number[] = [];
  // Copy 1: a pure translation by (200, 40), exact.
  for (let i = 0; i < 15; i++) {
    const x = rng.uniform(0, 150);
    const y = rng.uniform(0, 150);
    src.push(x, y);
    dst.push(x + 200, y + 40);
  }
  // Copy 2: translation by (-150, 300), every match displaced 1-1.5 px in a random direction (threshold 3).
  for (let i = 0; i < 17; i++) {
    const x = rng.uniform(300, 450);
    const y = rng.uniform(0, 150);
    const a = rng.uniform(0, 2 * Math.PI);
    const r = rng.uniform(1, 1.5);
    src.push(x, y);
    dst.push(x - 150 + r * Math.cos(a), y + 300 + r * Math.sin(a));
  }
  const count = ransacSimilarity(src, dst, 3, 2000, 4, 1, 'count');
  const magsac = ransacSimilarity(src, dst, 3, 2000, 4, 1, 'magsac');
  assert.ok(count && magsac);
  assert.ok(Math.abs(count.affine[2] + 150) < 3, `count picks the 17 loose matches (tx ${count.affine[2].toFixed(1)})`);
  assert.ok(Math.abs(magsac.affine[2] - 200) < 0.5 && Math.abs(magsac.affine[5] - 40) < 0.5, `magsac picks the tight fit (${magsac.affine.map((v) => v.toFixed(2))})`);
  assert.equal(magsac.inliers, 15);
});
