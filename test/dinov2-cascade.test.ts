import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import {
  cascadeToInstances,
  growPixels,
  growRegion,
  growTokens,
  makeCascadeDecode,
  runCascade,
  suspicionScore,
  upsampleBilinear,
  upsampleNearest,
  validateCascadeParams,
} from '../src/lib/models/dinov2/index';
import type { DecodeContext } from '../src/lib/models/types';
import { Rng } from '../src/lib/util/random';

before(async () => {
  await initBackend();
});

const D = 8;

/** A token grid whose tokens sit near one of a few unit directions, plus the token sets per direction. */
function grid(h: number, w: number, parts: { dir: number; cells: [number, number][] }[], seed = 1, noise = 0.05): Float32Array {
  const rng = new Rng(seed);
  const e = new Float32Array(h * w * D);
  const dirOf = new Int32Array(h * w); // 0 = background direction
  for (const p of parts) for (const [y, x] of p.cells) dirOf[y * w + x] = p.dir;
  for (let t = 0; t < h * w; t++) for (let k = 0; k < D; k++) e[t * D + k] = (k === dirOf[t] ? 1 : 0) + rng.normal() * noise;
  return e;
}

function block(y0: number, x0: number, hh: number, ww: number): [number, number][] {
  const out: [number, number][] = [];
  for (let y = y0; y < y0 + hh; y++) for (let x = x0; x < x0 + ww; x++) out.push([y, x]);
  return out;
}

function ctx(height: number, width: number, minArea = 1): DecodeContext {
  return { height, width, restore: (m) => m, threshold: 0.5, minArea };
}

function cells(mask: Uint8Array): number[] {
  return [...mask.keys()].filter((i) => mask[i]);
}

test('upsampleBilinear: half-pixel centres, edges clamped; upsampleNearest: blocks', () => {
  assert.deepEqual(Array.from(upsampleBilinear([0, 1], 1, 2, 1, 4)), [0, 0.25, 0.75, 1]);
  assert.deepEqual(Array.from(upsampleNearest([0, 1], 1, 2, 1, 4)), [0, 0, 1, 1]);
  const same = upsampleBilinear([1, 2, 3, 4], 2, 2, 2, 2);
  assert.deepEqual(Array.from(same), [1, 2, 3, 4]);
});

test('growRegion: 4-connected growth from the seeds through accepted cells only', () => {
  // 3x4: accepted cells marked 1; the seed at (0,0) reaches (0,1),(1,1) but not the island at (2,3)
  const acc = [1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1];
  const seeds = new Uint8Array(12);
  seeds[0] = 1;
  assert.deepEqual(cells(growRegion(seeds, 3, 4, (c) => acc[c] === 1)), [0, 1, 5]);
});

test('growTokens / growPixels: similarity to the event must reach the threshold and beat the background', () => {
  const simEv = Float32Array.from([0.9, 0.7, 0.5, 0.9]);
  const simBg = Float32Array.from([0.1, 0.8, 0.2, 0.1]);
  const core = Uint8Array.from([1, 0, 0, 0]);
  // token 1 passes the threshold but is closer to the background; token 3 is not adjacent through accepted cells
  assert.deepEqual(cells(growTokens(core, simEv, simBg, 1, 4, 0.6)), [0]);
  // on a 2x2 grid token 3 touches only tokens 1 and 2, which both fail
  assert.deepEqual(cells(growTokens(core, simEv, simBg, 2, 2, 0.6)), [0]);
  // the token's pixels stay; growth goes on through pixels that pass (2) and stops at the first that fails (3)
  const px = growPixels(Float32Array.from([1, 1, 0, 0, 0]), Float32Array.from([0.9, 0.4, 0.8, 0.5, 0.9]), Float32Array.from([0, 0, 0, 0.6, 0]), 1, 5, 0.6);
  assert.deepEqual(cells(px), [0, 1, 2]);
});

test('suspicionScore: mean of the k largest outlier distances, capped at 1; outliers at or past the distance', () => {
  const s = suspicionScore(Float32Array.from([0.5, 0.7, 0.9, 0.2]), 2, 0.5);
  assert.ok(Math.abs(s.score - 0.65) < 1e-6, `${s.score}`);
  assert.deepEqual(Array.from(s.outliers), [1, 0, 0, 1]);
  assert.equal(suspicionScore(Float32Array.from([-1, -1]), 2, 0.5).score, 1);
});

test('cascade stage 1: HDBSCAN finds the background and two events (source + copy each), grown to the right pixels', () => {
  const h = 12;
  const w = 12;
  const a = [...block(1, 1, 2, 3), ...block(8, 7, 2, 3)];
  const b = [...block(5, 1, 3, 2), ...block(1, 8, 3, 2)];
  const emb = grid(h, w, [{ dir: 1, cells: a }, { dir: 2, cells: b }]);
  const r = runCascade(emb, h, w, D, { patch: 4 });
  assert.equal(r.events.length, 2);
  assert.ok(r.events.every((e) => e.stage === 'cluster'));
  assert.equal(r.suspicion, null);
  const want = [a, b].map((cs) => cs.map(([y, x]) => y * w + x).sort((p, q) => p - q));
  const got = r.events.map((e) => cells(e.grown)).sort((p, q) => p[0] - q[0]);
  assert.deepEqual(got, want.sort((p, q) => p[0] - q[0]));
  // to pixels: each event's blocks at 4 px per token
  const pred = cascadeToInstances(r, ctx(h * 4, w * 4), { patch: 4 });
  assert.equal(pred.instances.count, 2);
  const n = h * 4 * w * 4;
  const areas = [0, 1].map((k) => pred.instances.data.subarray(k * n, (k + 1) * n).reduce((s, v) => s + v, 0));
  // the blocks hold 12 tokens = 192 px each; bilinear similarity trims or spills about a pixel per side
  for (const area of areas) assert.ok(area > 140 && area < 260, `${areas}`);
});

test('cascade on an authentic grid: no cluster besides the background, low suspicion, no event', () => {
  const r = runCascade(grid(12, 12, []), 12, 12, D, { patch: 4 });
  assert.equal(r.events.length, 0);
  assert.ok(r.suspicion !== null && r.suspicion.score < 0.1, `${r.suspicion?.score}`);
  const pred = cascadeToInstances(r, ctx(48, 48), { patch: 4 });
  assert.equal(pred.instances.count, 0);
  assert.match(pred.notes![0], /authentic/);
});

test('cascade stage 2: scattered outliers too few to cluster become one suspicious event', () => {
  const emb = grid(12, 12, [
    { dir: 3, cells: [[2, 2]] },
    { dir: 4, cells: [[2, 3]] },
    { dir: 5, cells: [[3, 2]] },
  ]);
  const r = runCascade(emb, 12, 12, D, { patch: 4, minClusterSize: 4 });
  assert.equal(r.events.length, 1);
  assert.equal(r.events[0].stage, 'suspicion');
  assert.deepEqual(cells(r.events[0].core), [26, 27, 38]);
  assert.ok(r.events[0].score > 0.45);
  // a stricter threshold declares the image authentic
  assert.equal(runCascade(emb, 12, 12, D, { patch: 4, suspicionThreshold: 0.9 }).events.length, 0);
});

test('makeCascadeDecode: the contract decoder reads embeddings [1,h,w,D], leaks nothing, checks its parameters', () => {
  const h = 12;
  const a = [...block(1, 1, 2, 3), ...block(8, 7, 2, 3)];
  const t = tf.tensor4d(grid(h, h, [{ dir: 1, cells: a }]), [1, h, h, D]);
  const start = tf.memory().numTensors;
  const pred = makeCascadeDecode({ patch: 4 })({ embeddings: t }, ctx(48, 48, 10));
  assert.equal(tf.memory().numTensors, start);
  t.dispose();
  assert.equal(pred.instances.count, 1);
  assert.equal(pred.scores.length, 1);
  assert.throws(() => makeCascadeDecode()({}, ctx(4, 4)), /embeddings/);
  assert.throws(() => validateCascadeParams({ minClusterSize: 1 }), /minClusterSize/);
  assert.throws(() => validateCascadeParams({ tokengrow: 1 } as never), /unknown cascade parameter 'tokengrow'/);
});

test('bench: the cascade on a 33x33 grid of 512-d embeddings (the reference size)', () => {
  const h = 33;
  const rng = new Rng(9);
  const d = 512;
  const e = new Float32Array(h * h * d);
  const forged = new Set([...block(3, 3, 4, 5), ...block(20, 22, 4, 5)].map(([y, x]) => y * h + x));
  for (let t = 0; t < h * h; t++) for (let k = 0; k < d; k++) e[t * d + k] = (k === (forged.has(t) ? 1 : 0) ? 1 : 0) + rng.normal() * 0.02;
  const t0 = Date.now();
  const r = runCascade(e, h, h, d);
  const tokensMs = Date.now() - t0;
  const pred = cascadeToInstances(r, ctx(462, 462, 10));
  const totalMs = Date.now() - t0;
  console.log(JSON.stringify({ bench: 'dinov2 cascade per image', grid: '33x33', dim: d, tokenStagesMs: tokensMs, totalMs }));
  assert.equal(pred.instances.count, 1);
  assert.ok(totalMs < 15000, `${totalMs} ms`);
});
