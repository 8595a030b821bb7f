import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { makeMitEncoder, MIT_VARIANTS } from '../src/lib/models/segformer/mit';
import { ParamStore } from '../src/lib/models/segformer/params';
import { matmul } from '../src/lib/models/segformer/matmul';
import { conv2dSymmetric } from '../src/lib/models/segformer/ops';
import { makeCorrelation, selfSimilarityTopK } from '../src/lib/models/segformer/correlation';
import { instanceProbabilities, instanceToForeground, selectInstances } from '../src/lib/models/segformer/instance';
import { SegformerModel } from '../src/lib/models/segformer/model';
import { hungarianSetLoss, matchQueries } from '../src/lib/losses/hungarian';
import { buildModel } from '../src/lib/models';
import { createOptimizer } from '../src/lib/train/optimizers';
import { Rng } from '../src/lib/util/random';
import type { Masks } from '../src/lib/data/types';

import { initBackend } from '../src/lib/backend';
import { trainModel } from '../src/lib/train/trainer';
import { loadPredictorFromRun } from '../src/lib/infer/run';
import { DEFAULT_TRAIN_CONFIG } from '../src/lib/train/config';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { resampledTwinMap } from '../src/lib/classical/resampledTwins';
import { type EvidenceKind, inputChannels, trustedEvidencePlane } from '../src/lib/evidence/index';
import { pasteResampled, texture } from './fixtures/resampled';
import { copyMoveFigures } from './fixtures/texture';

// The best backend: native TensorFlow where it is built, else wasm with the project's training kernels (SIFD_BACKEND
// or SIFD_NATIVE=0 pick another); the values are the same.
before(async () => {
  await initBackend();
});

/**
 * SegFormer paper (Xie et al. 2021, Table 1) encoder parameters. The 3.7M / 14.0M / 25.4M often
 * quoted for mit_b0/b1/b2 are ImageNet classifiers: they add a 1000-class head (0.26M / 0.51M)
 * and, in PVTv2, Mix-FFN ratios 8/8/4/4 instead of SegFormer's 4.
 */
const PUBLISHED_ENCODER = { b0: 3.4e6, b1: 13.1e6, b2: 24.2e6 };

test('MiT encoder parameter counts are within 3% of the published SegFormer encoders', () => {
  for (const [variant, published] of Object.entries(PUBLISHED_ENCODER)) {
    const p = new ParamStore(new Rng(0));
    makeMitEncoder(p, 'encoder', MIT_VARIANTS[variant]);
    const n = p.count();
    p.dispose();
    assert.ok(Math.abs(n - published) / published < 0.03, `${variant}: ${n} vs ${published}`);
  }
});

test('MiT encoder gives four pyramid levels at strides 4/8/16/32 and leaks nothing', () => {
  const p = new ParamStore(new Rng(0));
  const enc = makeMitEncoder(p, 'encoder', MIT_VARIANTS.b0);
  const x = tf.zeros([1, 64, 96, 3]) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  const feats = enc(x);
  assert.deepEqual(feats.map((f) => f.shape), [[1, 16, 24, 32], [1, 8, 12, 64], [1, 4, 6, 160], [1, 2, 3, 256]]);
  tf.dispose(feats);
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
  p.dispose();
});

test('matmul (wasm fast path) equals tf.matMul in value and gradient, batched and transposed', () => {
  const rng = new Rng(11);
  const rand = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
  const cases: Array<[number[], number[], boolean, boolean]> = [
    [[5, 3], [3, 4], false, false],
    [[3, 5], [3, 4], true, false],
    [[2, 3, 5, 6], [2, 3, 4, 6], false, true],
    [[2, 6, 5], [2, 6, 4], true, false],
  ];
  const before = tf.memory().numTensors;
  for (const [sa, sb, ta, tb] of cases) {
    const a = rand(sa);
    const b = rand(sb);
    const w = tf.tidy(() => rand(tf.matMul(a, b, ta, tb).shape));
    const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) => matmul(x, y, ta, tb).mul(w).sum());
    const ref = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, ta, tb).mul(w).sum());
    const [ga, gb] = ours([a, b]);
    const [ra, rb] = ref([a, b]);
    const value = matmul(a, b, ta, tb);
    const expected = tf.matMul(a, b, ta, tb);
    for (const [x, y, what] of [[value, expected, 'value'], [ga, ra, 'dA'], [gb, rb, 'dB']] as const) {
      assert.deepEqual(x.shape, y.shape, `${what} shape for ${sa} x ${sb}`);
      const d = tf.tidy(() => x.sub(y).abs().max().dataSync()[0]);
      assert.ok(d < 1e-4, `${what} differs by ${d} for ${sa} x ${sb} (${ta}, ${tb})`);
    }
    tf.dispose([a, b, w, ga, gb, ra, rb, value, expected]);
  }
  assert.equal(tf.memory().numTensors, before);
});

test('same seed gives the same weights, another seed different ones', () => {
  const a = new SegformerModel({ variant: 'tiny', decoderDim: 32 }, new Rng(3));
  const b = new SegformerModel({ variant: 'tiny', decoderDim: 32 }, new Rng(3));
  const c = new SegformerModel({ variant: 'tiny', decoderDim: 32 }, new Rng(4));
  const name = 'encoder/stage1/patch_embed/proj/w';
  const va = a.params.get(name).dataSync();
  assert.deepEqual(va, b.params.get(name).dataSync());
  assert.notDeepEqual(va, c.params.get(name).dataSync());
  [a, b, c].forEach((m) => m.dispose());
});

test('correlation: a copied patch finds its twin (top-1 ~ 1), its own neighbourhood is excluded', () => {
  // 8x8 map of random unit features; cell (6,6) is a copy of cell (1,1).
  const rng = new Rng(5);
  const h = 8, w = 8, c = 16;
  const data = Float32Array.from({ length: h * w * c }, () => rng.normal());
  for (let k = 0; k < c; k++) data[(6 * w + 6) * c + k] = data[(1 * w + 1) * c + k];
  // cell (3,3) next to an identical neighbour (3,4): excluded, so its top-1 is low.
  for (let k = 0; k < c; k++) data[(3 * w + 4) * c + k] = data[(3 * w + 3) * c + k];
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => selfSimilarityTopK(tf.tensor4d(data, [1, h, w, c]), 3, 1));
  const v = out.arraySync()[0];
  out.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.ok(Math.abs(v[1][1][0] - 1) < 1e-4 && Math.abs(v[6][6][0] - 1) < 1e-4, `twins top-1: ${v[1][1][0]}, ${v[6][6][0]}`);
  assert.ok(v[3][3][0] < 0.9, `neighbour must be excluded, got ${v[3][3][0]}`);
  assert.ok(v[1][1][0] >= v[1][1][1] && v[1][1][1] >= v[1][1][2], 'sorted descending');
});

test('correlation window and stats equal the brute-force block similarity, mean and std', () => {
  const rng = new Rng(11);
  const h = 5, w = 6, c = 4, r = 1, win = 3, k = 2;
  const data = Float32Array.from({ length: h * w * c }, () => rng.normal());
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => selfSimilarityTopK(tf.tensor4d(data, [1, h, w, c]), { topK: k, excludeRadius: r, window: win, stats: true }));
  assert.deepEqual(out.shape, [1, h, w, k + 2]);
  const v = out.dataSync();
  out.dispose();
  assert.equal(tf.memory().numTensors, before);
  // Brute force: unit cells; block similarity = sum over the 3x3 block (zeros past the border) / 9.
  const unit = (y: number, x: number): number[] | null => {
    if (y < 0 || y >= h || x < 0 || x >= w) return null;
    const f = Array.from(data.subarray((y * w + x) * c, (y * w + x + 1) * c));
    const n = Math.sqrt(f.reduce((a, b) => a + b * b, 0) + 1e-6);
    return f.map((e) => e / n);
  };
  const block = (yi: number, xi: number, yj: number, xj: number) => {
    let s = 0;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const a = unit(yi + dy, xi + dx), b = unit(yj + dy, xj + dx);
      if (a && b) s += a.reduce((acc, e, q) => acc + e * b[q], 0);
    }
    return s / (win * win);
  };
  const count = h * w - (2 * r + 1) ** 2;
  for (let yi = 0; yi < h; yi++) for (let xi = 0; xi < w; xi++) {
    const kept: number[] = [];
    for (let yj = 0; yj < h; yj++) for (let xj = 0; xj < w; xj++) if (Math.abs(yj - yi) > r || Math.abs(xj - xi) > r) kept.push(block(yi, xi, yj, xj));
    kept.sort((a, b) => b - a);
    const mean = kept.reduce((a, b) => a + b, 0) / count;
    const std = Math.sqrt(kept.reduce((a, b) => a + (b - mean) ** 2, 0) / count + 1e-6);
    const o = (yi * w + xi) * (k + 2);
    for (let j = 0; j < k; j++) assert.ok(Math.abs(v[o + j] - kept[j]) < 1e-5, `top-${j + 1} at ${yi},${xi}: ${v[o + j]} vs ${kept[j]}`);
    assert.ok(Math.abs(v[o + k] - mean) < 1e-5, `mean at ${yi},${xi}: ${v[o + k]} vs ${mean}`);
    assert.ok(Math.abs(v[o + k + 1] - std) < 1e-4, `std at ${yi},${xi}: ${v[o + k + 1]} vs ${std}`);
  }
});

test('correlation block pools a large map down to maxCells and refuses an even window', () => {
  const store = new ParamStore(new Rng(3));
  const block = makeCorrelation(store, 'corr', { inChannels: 8, projDim: 8, topK: 4, excludeRadius: 1, window: 3, stats: true, maxCells: 64 });
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => block(tf.randomNormal([2, 32, 16, 8], 0, 1, 'float32', 1) as tf.Tensor4D));
  assert.deepEqual(out.shape, [2, 8, 4, 6], '32x16 = 512 cells pooled by 4 to 8x4 = 32 <= 64');
  out.dispose();
  const zeros = tf.zeros([1, 6, 6, 2]) as tf.Tensor4D;
  assert.throws(() => selfSimilarityTopK(zeros, { topK: 2, excludeRadius: 1, window: 2 }), /odd integer/);
  zeros.dispose();
  assert.equal(tf.memory().numTensors, before);
  store.dispose();
});

test('correlation top-k gradient equals the gather formulation and finite differences', () => {
  const rng = new Rng(9);
  const shape: [number, number, number, number] = [1, 4, 4, 3];
  const x0 = Float32Array.from({ length: 48 }, () => rng.normal());
  const weights = tf.tensor4d(Float32Array.from({ length: 16 * 2 }, () => rng.normal()), [1, 4, 4, 2]);
  const f = (x: tf.Tensor4D) => selfSimilarityTopK(x, 2, 0).mul(weights).sum() as tf.Scalar;
  // Reference: the same selection through tf.gather, whose gradient tfjs (cpu) provides.
  const ref = (x: tf.Tensor4D) => {
    const flat = x.reshape([16, 3]);
    const unit = flat.div(flat.square().sum(-1, true).add(1e-6).sqrt());
    const sim = tf.matMul(unit, unit, false, true).add(tf.eye(16).mul(-4)); // radius 0 excludes self only
    const iv = tf.topk(sim, 2).indices.dataSync();
    const flatIdx = tf.tensor1d(Array.from(iv, (v, j) => v + Math.floor(j / 2) * 16), 'int32');
    return tf.gather(sim.reshape([-1]), flatIdx).reshape([1, 4, 4, 2]).mul(weights).sum() as tf.Scalar;
  };
  const before = tf.memory().numTensors;
  const grad = tf.tidy(() => tf.grad((x) => f(x as tf.Tensor4D))(tf.tensor4d(x0, shape)).dataSync());
  const expected = tf.tidy(() => tf.grad((x) => ref(x as tf.Tensor4D))(tf.tensor4d(x0, shape)).dataSync());
  assert.equal(tf.memory().numTensors, before);
  for (let i = 0; i < 48; i++) assert.ok(Math.abs(grad[i] - expected[i]) < 1e-5, `d/dx[${i}]: ${grad[i]} vs ${expected[i]}`);
  // Finite differences where the top-k selection is the same on both sides (the function is smooth there).
  const selection = (x: Float32Array) =>
    tf.tidy(() => {
      const unit = tf.tensor2d(x, [16, 3]).div(tf.tensor2d(x, [16, 3]).norm('euclidean', 1, true));
      const sim = tf.matMul(unit, unit, false, true).add(tf.eye(16).mul(-4));
      return Array.from(tf.topk(sim, 2).indices.dataSync()).join();
    });
  const eps = 1e-3;
  let checked = 0;
  for (let i = 0; i < 48; i += 3) {
    const plus = Float32Array.from(x0);
    const minus = Float32Array.from(x0);
    plus[i] += eps;
    minus[i] -= eps;
    if (selection(plus) !== selection(minus)) continue;
    checked++;
    const numeric = tf.tidy(() => (f(tf.tensor4d(plus, shape)).dataSync()[0] - f(tf.tensor4d(minus, shape)).dataSync()[0]) / (2 * eps));
    assert.ok(Math.abs(numeric - grad[i]) < 5e-3, `d/dx[${i}]: ${grad[i]} vs finite difference ${numeric}`);
  }
  assert.ok(checked >= 8, `only ${checked} coordinates had a stable selection`);
  weights.dispose();
});

test('matchQueries finds the minimum-cost assignment (hand-worked 3x2)', () => {
  // rows = queries, cols = instances. Best: q2->m0 (0.1) + q0->m1 (0.2) = 0.3.
  const pairs = matchQueries([
    [0.9, 0.2],
    [0.8, 0.7],
    [0.1, 0.6],
  ]);
  assert.deepEqual(pairs.sort((a, b) => a[0] - b[0]), [[0, 1], [2, 0]]);
  assert.deepEqual(matchQueries([[0.5], [0.4]]), [[1, 0]]);
  assert.deepEqual(matchQueries([[], []]), []);
  // more instances than queries: each query takes its cheapest feasible instance
  assert.deepEqual(matchQueries([[0.1, 0.2, 0.05], [0.3, 0.01, 0.4]]), [[0, 2], [1, 1]]);
});

test('hungarian set loss: matched query learns the mask, authentic images only objectness', () => {
  // One image 2x2, 2 queries, 1 instance = top row. Query 1 predicts it (logit +-10), query 0 the opposite.
  const logits = tf.tensor4d([[[[-10, -10], [10, 10]], [[10, 10], [-10, -10]]]]); // [1,2,2,2]
  const obj = tf.tensor2d([[0, 0]]);
  const target = tf.tensor4d([[[[1, 1], [0, 0]]]]); // [1,1,2,2]
  const r = hungarianSetLoss(logits, obj, { masks: target, counts: [1] }, { dice: 1, bce: 1, objectness: 1, noObject: 1 });
  assert.deepEqual(r.matches, [[[1, 0]]]);
  assert.ok(r.dice.dataSync()[0] < 1e-3, 'dice of the exact mask ~ 0');
  assert.ok(r.bce.dataSync()[0] < 1e-3);
  assert.ok(Math.abs(r.objectness.dataSync()[0] - Math.log(2)) < 1e-5, 'objectness BCE at logit 0 is ln 2');
  tf.dispose([r.loss, r.dice, r.bce, r.objectness]);
  const none = hungarianSetLoss(logits, obj, { masks: tf.zeros([1, 0, 2, 2]) as tf.Tensor4D, counts: [0] });
  assert.deepEqual(none.matches, [[]]);
  assert.equal(none.dice.dataSync()[0], 0);
  tf.dispose([none.loss, none.dice, none.bce, none.objectness, logits, obj, target]);
  assert.throws(() => hungarianSetLoss(tf.zeros([1, 2, 2, 2]) as tf.Tensor4D, tf.zeros([1, 2]) as tf.Tensor2D, { masks: tf.zeros([1, 1, 3, 3]) as tf.Tensor4D, counts: [1] }), /do not fit/);
});

test('instance probabilities: objectness darkens a query; foreground is the max; selection sorted by score', () => {
  const maskLogits = tf.tensor4d([[[[5, -5]], [[5, 5]], [[-5, 5]]]]); // [1,3,1,2]
  const objLogits = tf.tensor2d([[5, -5, 0]]);
  const out = instanceProbabilities(maskLogits, objLogits);
  const s5 = 1 / (1 + Math.exp(-5));
  const expected = [s5 * s5, (1 - s5) * s5, s5 * (1 - s5), s5 * (1 - s5), 0.5 * (1 - s5), 0.5 * s5];
  out.instances.dataSync().forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `instance prob ${i}: ${v}`));
  const fg = instanceToForeground(out, 0.5);
  // pixel 0: query 0 (0.987); pixel 1: best is query 2 at 0.497 < 0.5 -> background
  assert.deepEqual(Array.from(fg.dataSync()), [1, 0]);
  fg.dispose();
  const sel = selectInstances(out, 0, { scoreThreshold: 0.4, maskThreshold: 0.3, minArea: 1 });
  assert.equal(sel.masks.count, 2);
  assert.deepEqual(Array.from(sel.masks.data), [1, 0, 0, 1]);
  assert.deepEqual(sel.scores.map((s) => Math.round(s * 100) / 100), [0.99, 0.5]);
  tf.dispose([maskLogits, objLogits, out.instances, out.scores]);
});

test('registry builds segformer-cmfd and segformer-seg; bad config is refused', () => {
  const rng = new Rng(0);
  const cmfd = buildModel('segformer-cmfd', { variant: 'tiny', decoderDim: 32 }, rng);
  const seg = buildModel('segformer-seg', { variant: 'tiny', decoderDim: 32 }, rng);
  const images = tf.zeros([1, 64, 64, 3]) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  const a = cmfd.forward({ images }, { training: false });
  assert.deepEqual(a.masks!.shape, [1, 64, 64, 1]);
  assert.deepEqual(a.instances!.shape, [1, 5, 64, 64]);
  assert.deepEqual(a.scores!.shape, [1, 5]);
  const masks = tf.zeros([1, 64, 64, 1]) as tf.Tensor4D;
  const b = seg.forward({ images, masks }, { training: true });
  assert.equal(b.loss!.rank, 0);
  tf.dispose([a.masks!, a.instances!, a.scores!, b.masks!, b.loss!, masks]);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => buildModel('segformer-cmfd', { variant: 'b9' }), /unknown MiT variant 'b9'.*b0/);
  assert.throws(() => buildModel('segformer-cmfd', { queris: 3 }), /did you mean 'queries'/);
  assert.throws(() => cmfd.forward({ images: tf.zeros([1, 48, 64, 3]) as tf.Tensor4D }, { training: false }), /multiple of 32/);
  [cmfd, seg].forEach((m) => m.dispose());
  images.dispose();
});

/** Copy-move images (normalised like the loader): smooth random texture, one patch copied; instances = source, copy. */
function copyMoveBatch(rng: Rng, size: number, count: number): { images: Float32Array; instances: Masks[] } {
  const { images, masks } = copyMoveFigures(rng, size, count, { parts: true });
  return { images, instances: masks };
}

test('overfit: segformer-cmfd reaches foreground Dice >= 0.9 on one batch of 2 forged images, no leak across steps', () => {
  const size = 64;
  const batch = copyMoveBatch(new Rng(1), size, 2);
  const images = tf.tensor4d(batch.images, [2, size, size, 3]);
  const union = tf.tensor4d(
    Float32Array.from({ length: 2 * size * size }, (_, i) => {
      const n = Math.floor(i / (size * size));
      const p = i % (size * size);
      return batch.instances[n].data[p] | batch.instances[n].data[size * size + p];
    }),
    [2, size, size, 1],
  );
  const model = buildModel('segformer-cmfd', { variant: 'tiny', decoderDim: 64 }, new Rng(0));
  const opt = createOptimizer({ kind: 'adamw', weightDecay: 0.01 }, 1e-3);
  const vars = [...model.params.values()];
  const dice = () =>
    tf.tidy(() => {
      const out = model.forward({ images }, { training: false });
      const fg = out.masks!.greater(0.5).toFloat();
      const inter = fg.mul(union).sum().dataSync()[0];
      return (2 * inter) / (fg.sum().dataSync()[0] + union.sum().dataSync()[0]);
    });
  const step = () => {
    const { value, grads } = tf.variableGrads(() => model.forward({ images, instances: batch.instances }, { training: true }).loss!, vars);
    const byName = new Map<string, tf.Tensor>([...model.params].map(([name, v]) => [name, grads[v.name]]));
    opt.apply(model.params, byName);
    tf.dispose([value, ...Object.values(grads)]);
  };
  step(); // creates the optimizer's slots
  const counts: number[] = [];
  let best = 0;
  let steps = 1;
  for (; steps < 60 && best < 0.9; steps++) {
    step();
    counts.push(tf.memory().numTensors);
    if (steps % 5 === 0) best = Math.max(best, dice());
  }
  assert.ok(best >= 0.9, `Dice ${best.toFixed(3)} after ${steps} steps`);
  assert.equal(new Set(counts).size, 1, `tensor count changed across steps: ${[...new Set(counts)]}`);
  opt.dispose();
  model.dispose();
  tf.dispose([images, union]);
});

test('checkpoints resume through the trainer: 1 epoch + resume 1 epoch = 2 epochs straight', async () => {
  const size = 64;
  const data = copyMoveBatch(new Rng(7), size, 4);
  const batches = () =>
    [0, 1].map((k) => ({
      images: tf.tensor4d(data.images.subarray(k * 2 * size * size * 3, (k + 1) * 2 * size * size * 3), [2, size, size, 3]),
      masks: tf.zeros([2, size, size, 1]) as tf.Tensor4D,
      instances: data.instances.slice(k * 2, k * 2 + 2),
    }));
  const config = { ...DEFAULT_TRAIN_CONFIG, epochs: 2, batchSize: 2, size, lr: 1e-3, augment: 'none' };
  const modelConfig = { variant: 'tiny', decoderDim: 32, queries: 3 };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-segformer-resume-'));
  try {
    const straight = buildModel('segformer-cmfd', modelConfig, new Rng(0));
    await trainModel({ model: straight, config, train: () => batches(), runDir: path.join(tmp, 'a') });
    const first = buildModel('segformer-cmfd', modelConfig, new Rng(0));
    await trainModel({ model: first, config: { ...config, epochs: 1 }, train: () => batches(), runDir: path.join(tmp, 'b') });
    first.dispose();
    const resumed = buildModel('segformer-cmfd', modelConfig, new Rng(0));
    const before = tf.memory().numTensors;
    const r = await trainModel({ model: resumed, config, train: () => batches(), runDir: path.join(tmp, 'b'), resume: true });
    assert.equal(tf.memory().numTensors, before, 'resumed training leaks no tensors');
    assert.ok(r.resumedFrom, 'resumed from the epoch-1 checkpoint');
    for (const [name, v] of straight.params) {
      const a = v.dataSync();
      const b = resumed.params.get(name)!.dataSync();
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5, `${name}[${i}]: ${a[i]} vs ${b[i]}`);
    }
    straight.dispose();
    resumed.dispose();
    // The run's predictor gives instances and the merged probability map, both at the image's size.
    const predictor = await loadPredictorFromRun(path.join(tmp, 'b'));
    const image = { data: new Uint8Array(48 * 80 * 3).map((_, i) => (i * 37) % 256), width: 80, height: 48, channels: 3 };
    const pred = await predictor.predict(image);
    predictor.dispose();
    assert.equal(pred.instances.height, 48);
    assert.equal(pred.instances.width, 80);
    assert.equal(pred.probability?.length, 48 * 80);
    assert.ok(pred.probability!.every((p) => p >= 0 && p <= 1));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

/** One epoch of a tiny segformer-cmfd on one random batch with `evidence`'s input channels, saved in runDir. */
async function trainEvidenceRun(evidence: EvidenceKind, rng: Rng, instancesSeed: number, runDir: string): Promise<void> {
  const size = 64;
  const channels = inputChannels(evidence);
  const images = tf.tensor4d(Float32Array.from({ length: 2 * size * size * channels }, () => rng.uniform(-1, 1)), [2, size, size, channels]);
  const batch = { images, masks: tf.zeros([2, size, size, 1]) as tf.Tensor4D, instances: copyMoveBatch(new Rng(instancesSeed), size, 2).instances };
  const config = { ...DEFAULT_TRAIN_CONFIG, epochs: 1, batchSize: 2, size, lr: 1e-3, augment: 'none', evidence };
  const model = buildModel('segformer-cmfd', { variant: 'tiny', decoderDim: 32, queries: 3, inChannels: channels }, new Rng(0));
  await trainModel({ model, config, train: () => [batch], runDir });
  model.dispose();
}

test('a run trained with the evidence channel predicts through it: the predictor recomputes the map at native size', async () => {
  const start = tf.memory().numTensors;
  const rng = new Rng(11);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-segformer-evidence-'));
  try {
    await trainEvidenceRun('exact-twins', rng, 3, tmp);
    await assert.rejects(loadPredictorFromRun(tmp, { evidenceKeep: 1.5 }), /evidenceKeep must be in \[0, 1\] or null/);
    const predictor = await loadPredictorFromRun(tmp);
    const image = { data: Uint8Array.from({ length: 50 * 90 * 3 }, () => rng.int(0, 255)), width: 90, height: 50, channels: 3 };
    const pred = await predictor.predict(image);
    predictor.dispose();
    assert.equal(pred.instances.width, 90);
    assert.equal(pred.probability?.length, 50 * 90);
    assert.equal(tf.memory().numTensors, start, 'training and prediction leak no tensors');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('a run with resampled-twin evidence: that plane joins the prediction whatever the model says, the others only with evidenceKeep', async () => {
  const start = tf.memory().numTensors;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-segformer-trusted-'));
  try {
    await trainEvidenceRun('twins-blocks-resampled', new Rng(12), 4, tmp);
    const image = texture(160, 120, 'trusted-plane');
    pasteResampled(image, [30, 30], 13, [115, 80], 41, 1);
    const twins = resampledTwinMap(image);
    assert.ok(twins.reduce((a, v) => a + v, 0) > 500, 'the turned copy and its source are found');
    const n = 160 * 120;
    assert.throws(() => trustedEvidencePlane('twins-blocks-resampled', twins, n), /not three 19200-pixel planes/);
    assert.equal(trustedEvidencePlane('twins-blocks', new Uint8Array(2 * n), n), null);
    // evidenceKeep 1: no vetted region can join; the trusted one still does
    const predictor = await loadPredictorFromRun(tmp, { evidenceKeep: 1 });
    const pred = await predictor.predict(image);
    predictor.dispose();
    const inInstance = new Uint8Array(n);
    for (let k = 0; k < pred.instances.count; k++) for (let p = 0; p < n; p++) inInstance[p] |= pred.instances.data[k * n + p];
    for (let p = 0; p < n; p++) if (twins[p]) assert.equal(inInstance[p], 1, `trusted pixel ${p} missing from the prediction`);
    assert.equal(tf.memory().numTensors, start, 'training and prediction leak no tensors');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('conv2dSymmetric (what the tensorflow backend runs) equals tf.conv2d with numeric padding, values and gradients', async () => {
  const backend = tf.getBackend();
  await tf.setBackend('cpu');
  try {
    const rng = new Rng('conv2d-symmetric');
    const cases: [number, number, number][] = [[7, 4, 3], [3, 2, 1], [3, 1, 1], [5, 1, 2], [1, 1, 0], [4, 2, 1], [3, 3, 2]]; // [k, stride, pad]
    for (const [k, stride, pad] of cases) {
      const h = rng.int(k, 19);
      const w = rng.int(k, 19);
      const x = tf.tensor4d(Float32Array.from({ length: 2 * h * w * 3 }, () => rng.normal()), [2, h, w, 3]);
      const f = tf.tensor4d(Float32Array.from({ length: k * k * 3 * 4 }, () => rng.normal()), [k, k, 3, 4]);
      const ref = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad).square().sum())([x, f]);
      const got = tf.grads((a: tf.Tensor, b: tf.Tensor) => conv2dSymmetric(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad).square().sum())([x, f]);
      const yRef = tf.conv2d(x, f, stride, pad);
      const yGot = conv2dSymmetric(x, f, stride, pad);
      const label = `k${k} s${stride} p${pad} ${h}x${w}`;
      assert.deepEqual(yGot.shape, yRef.shape, label);
      for (const [a, b, what] of [[yGot, yRef, 'y'], [got[0], ref[0], 'dx'], [got[1], ref[1], 'dw']] as [tf.Tensor, tf.Tensor, string][]) {
        const err = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / Math.max(1e-12, tf.max(tf.abs(b)).dataSync()[0]));
        assert.ok(err <= 1e-5, `${label} ${what}: rel err ${err}`);
      }
      tf.dispose([x, f, yRef, yGot, ...ref, ...got]);
    }
  } finally {
    await tf.setBackend(backend);
  }
});
