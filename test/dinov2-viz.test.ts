import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pca } from '../src/lib/util/pca';
import { cascadeStageMasks, embeddingPcaFigure, lossTermsFigure, tokenMasks } from '../src/viz/figures/metric';
import { runCascade } from '../src/lib/models/dinov2/index';

test('pca: the components follow the spread (x wide, y narrow, z constant), deterministic', () => {
  const pts: number[] = [];
  for (let i = 0; i < 50; i++) pts.push(((i * 7) % 50) - 25, ((i * 3) % 10) - 5, 1);
  const a = pca(pts, 50, 3, 2);
  assert.ok(a.variance[0] > a.variance[1] * 5, `${a.variance}`);
  // the first coordinate is x (up to sign), centred
  const xs = Array.from({ length: 50 }, (_, i) => pts[i * 3] - -0.5);
  const corr = xs.reduce((s, x, i) => s + x * a.coords[i * 2], 0) / Math.sqrt(xs.reduce((s, x) => s + x * x, 0) * Array.from({ length: 50 }, (_, i) => a.coords[i * 2] ** 2).reduce((p, q) => p + q, 0));
  assert.ok(Math.abs(corr) > 0.99, `${corr}`);
  assert.deepEqual(pca(pts, 50, 3, 2).coords, a.coords);
});

test('notebook 05 figures: loss terms, PCA coloured by truth, cascade stage masks at image size', () => {
  const f = lossTermsFigure([{ step: 1, loss: 3, supcon: 2, uniformity: 0.5, separation: 0.5 }]);
  assert.equal(f.data.length, 4);
  const labels = Int32Array.from([0, 0, 1, 1, 2]);
  const emb = [1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9, 0.5, 0.5];
  assert.deepEqual((embeddingPcaFigure(emb, 5, 2, labels).data as { name: string }[]).map((t) => t.name), ['authentic', 'event 1', 'event 2']);
  const m = tokenMasks([[1, 0, 0, 1]], 2, 2, 4, 6);
  assert.deepEqual(Array.from(m.data.subarray(0, 6)), [1, 1, 1, 0, 0, 0]);
  const grid = new Float32Array(36 * 4);
  for (let t = 0; t < 36; t++) grid[t * 4 + (t === 7 || t === 8 || t === 13 || t === 14 || t === 27 || t === 28 ? 1 : 0)] = 1;
  const stages = cascadeStageMasks(runCascade(grid, 6, 6, 4), 30, 30);
  assert.equal(stages.length, 4);
  for (const s of stages) assert.equal(s.masks.height, 30);
});
