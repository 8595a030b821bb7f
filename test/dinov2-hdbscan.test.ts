import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { hdbscan, hdbscanFromDistances } from '../src/lib/cluster/hdbscan';
import { Rng } from '../src/lib/util/random';

interface Case {
  name: string;
  minClusterSize: number;
  minSamples: number | null;
  n: number;
  d: number;
  points: number[];
  labels: number[];
}

// made by test/fixtures/dinov2/make_hdbscan.py (scikit-learn HDBSCAN, brute, eom)
const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'dinov2', 'hdbscan.json'), 'utf8')) as { cases: Case[] };

for (const c of fixture.cases) {
  test(`HDBSCAN gives scikit-learn's labels: ${c.name}`, () => {
    const r = hdbscan(c.points, c.n, c.d, { minClusterSize: c.minClusterSize, minSamples: c.minSamples ?? undefined });
    assert.deepEqual(Array.from(r.labels), c.labels);
    assert.equal(r.clusters, new Set(c.labels.filter((l) => l >= 0)).size);
  });
}

test('HDBSCAN on a hand-worked example: two tight triples far apart, and a lone point as noise', () => {
  const pts = [0, 0, 0.1, 0, 0, 0.1, 10, 10, 10.1, 10, 10, 10.1, 5, -20];
  const r = hdbscan(pts, 7, 2, { minClusterSize: 3, minSamples: 2 });
  assert.deepEqual(Array.from(r.labels), [0, 0, 0, 1, 1, 1, -1]);
  assert.equal(r.stability.length, 2);
  assert.ok(r.stability.every((s) => s > 0));
});

test('HDBSCAN finds no cluster in one blob (the root is never selected) and checks its options', () => {
  const rng = new Rng(3);
  const pts = Array.from({ length: 80 }, () => rng.normal());
  const r = hdbscan(pts, 40, 2, { minClusterSize: 30 });
  assert.ok(r.clusters <= 1);
  assert.throws(() => hdbscanFromDistances(new Float64Array(4), 2, { minClusterSize: 1 }), /minClusterSize/);
});

test('HDBSCAN of 1,089 points (a 33x33 token grid) takes well under a second', () => {
  const rng = new Rng(5);
  const n = 1089;
  const d = 8;
  const pts = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) pts[i * d + k] = rng.normal() + (i % 3) * 6 * (k === 0 ? 1 : 0);
  const t0 = Date.now();
  const r = hdbscan(pts, n, d, { minClusterSize: 20, minSamples: 10 });
  const ms = Date.now() - t0;
  assert.ok(r.clusters >= 3, `clusters ${r.clusters}`);
  assert.ok(ms < 3000, `${ms} ms`);
});
