import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterMatches, clusterMatchesHdbscan } from '../src/lib/classical/cluster';
import type { Matches } from '../src/lib/classical/match';
import { Rng } from '../src/lib/util/random';

/** Matches from (x, y) -> (x + dx, y + dy) on a grid of `step` px inside a box, some with their ends swapped, plus scattered noise. */
function makeMatches(rng: Rng, copies: Array<{ x: number; y: number; w: number; h: number; dx: number; dy: number; step: number }>, noise: number): { m: Matches; copyOf: number[] } {
  const pts: number[][] = [];
  const copyOf: number[] = [];
  copies.forEach((c, k) => {
    for (let y = c.y; y < c.y + c.h; y += c.step) {
      for (let x = c.x; x < c.x + c.w; x += c.step) {
        const p = [x + rng.uniform(-1, 1), y + rng.uniform(-1, 1), x + c.dx, y + c.dy];
        pts.push(rng.bool(0.5) ? [p[2], p[3], p[0], p[1]] : p);
        copyOf.push(k);
      }
    }
  });
  for (let i = 0; i < noise; i++) {
    pts.push([rng.uniform(0, 1000), rng.uniform(0, 1000), rng.uniform(0, 1000), rng.uniform(0, 1000)]);
    copyOf.push(-1);
  }
  const col = (j: number) => Float32Array.from(pts, (p) => p[j]);
  return { m: { count: pts.length, ax: col(0), ay: col(1), bx: col(2), by: col(3), distance: new Float32Array(pts.length), flipped: new Uint8Array(pts.length) }, copyOf };
}

test('HDBSCAN clustering of matches: two copies with sparse matches (60 px apart) are two clusters, oriented; the 40 px radius chains break them up', () => {
  const rng = new Rng('cluster-hdbscan');
  const { m, copyOf } = makeMatches(rng, [
    { x: 100, y: 100, w: 300, h: 240, dx: 450, dy: 20, step: 60 },
    { x: 120, y: 600, w: 240, h: 240, dx: 380, dy: -40, step: 60 },
  ], 30);
  const clusters = clusterMatchesHdbscan(m, 12, 40);
  const big = clusters.filter((c) => c.members.length >= 12);
  assert.equal(big.length, 2, `two clusters, got sizes ${clusters.map((c) => c.members.length)}`);
  for (const c of big) {
    // One copy per cluster (a few scattered matches may join it: RANSAC drops them).
    const copies = new Set(c.members.map((i) => copyOf[i]).filter((k) => k >= 0));
    assert.equal(copies.size, 1, `each cluster holds one copy only: ${c.members.map((i) => copyOf[i])}`);
    const k = [...copies][0];
    // Oriented: after the swaps every member points the same way (displacement of one sign).
    const dx = c.members.filter((i) => copyOf[i] === k).map((i) => (c.swapped[c.members.indexOf(i)] ? m.ax[i] - m.bx[i] : m.bx[i] - m.ax[i]));
    assert.ok(dx.every((d) => Math.sign(d) === Math.sign(dx[0])), 'one orientation');
    assert.ok(c.members.length >= 0.8 * copyOf.filter((q) => q === k).length, 'most of the copy');
  }
  assert.ok(clusterMatches(m, 40).every((c) => c.members.length < 12), 'radius chains do not span 60 px gaps');
});

test('HDBSCAN clustering of matches: fewer matches than a cluster needs give none; above maxMatches it falls back to the radius chains', () => {
  const rng = new Rng('cluster-small');
  const { m } = makeMatches(rng, [{ x: 0, y: 0, w: 30, h: 30, dx: 200, dy: 0, step: 10 }], 0);
  assert.deepEqual(clusterMatchesHdbscan(m, 12, 40), []);
  assert.deepEqual(clusterMatchesHdbscan(m, 3, 40, 4), clusterMatches(m, 40));
});
