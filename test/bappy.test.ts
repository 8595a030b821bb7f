/**
 * Bappy et al.'s system (src/lib/models/bappy): the 64-patch tiling and its IoU >= 12.5% labels on a
 * hand-worked example, sifd's ConvLSTM against finite differences, both models overfitting a few
 * figures with a constant tensor count, and both through the trainer's validation and `sifd train`
 * -> `sifd predict`.
 */
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend/index';
import { createLoader } from '../src/lib/data/loader';
import { scan } from '../src/lib/data/scan';
import type { Masks, Sample } from '../src/lib/data/types';
import { readMasks } from '../src/lib/data/npy';
import { generateDataset } from '../src/lib/data/synth/index';
import { fromPatches, makeConvLstmCell, patchLabels, patchLabelsTensor, runConvLstm, sequenceOrder, toPatches } from '../src/lib/models/bappy/index';
import { ParamStore } from '../src/lib/models/segformer/params';
import { buildModel, getModelSpec } from '../src/lib/models/index';
import { createOptimizer } from '../src/lib/train/optimizers';
import { DEFAULT_TRAIN_CONFIG } from '../src/lib/train/config';
import { trainModel } from '../src/lib/train/trainer';
import { Rng } from '../src/lib/util/random';
import { patchGridMasks } from '../src/viz/patch-grid';
import { sifdInProcess as sifd } from './helpers/cli';
import { assertRunPredictsAtImageSize } from './helpers/run-predictor';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-bappy-'));
const data = path.join(root, 'data');
let forged: Sample[] = [];

before(async () => {
  await initBackend({ prefer: 'wasm' });
  await generateDataset({ out: data, n: 12, seed: 5, sizes: { min: 96, max: 160 }, testFraction: 0.25 });
  forged = (await scan(data)).samples.filter((s) => s.split === 'train' && s.label === 'forged');
});

after(() => fs.rmSync(root, { recursive: true, force: true }));

/** A 256x256 mask with `counts[k]` pixels set in patch k (raster order), filled row by row from the patch's corner. */
function maskWithCounts(counts: Record<number, number>): Uint8Array {
  const m = new Uint8Array(256 * 256);
  for (const [k, n] of Object.entries(counts)) {
    const r = Math.floor(Number(k) / 8);
    const c = Number(k) % 8;
    for (let i = 0; i < n; i++) m[(r * 32 + Math.floor(i / 32)) * 256 + c * 32 + (i % 32)] = 1;
  }
  return m;
}

test('patch labels: IoU(mask, patch) = manipulated share of the 32x32 patch; 128/1024 = 12.5% is manipulated, 127 is not, 129 is', () => {
  // Patch 0: 128 pixels (IoU exactly 0.125); patch 1: 127 (0.1240); patch 2: 129 (0.1260); patch 9: all 1024;
  // patch 63: 1 pixel. Hand-worked: 128 / |patch ∪ (mask ∩ patch)| = 128 / 1024 = 0.125 >= 0.125.
  const mask = maskWithCounts({ 0: 128, 1: 127, 2: 129, 9: 1024, 63: 1 });
  const expected = new Uint8Array(64);
  expected[0] = expected[2] = expected[9] = 1;
  assert.deepEqual([...patchLabels(mask, 256, 256)], [...expected]);
  // The tensor labels of the training losses agree.
  const t = tf.tensor4d(Float32Array.from(mask), [1, 256, 256, 1]);
  const labels = patchLabelsTensor(t);
  assert.deepEqual([...labels.dataSync()], [...expected]);
  tf.dispose([t, labels]);
  // A forged region covering 20 whole patches still labels each of them (an IoU over the whole image would not).
  const big = maskWithCounts(Object.fromEntries(Array.from({ length: 20 }, (_, k) => [k, 1024])));
  assert.equal(patchLabels(big, 256, 256).reduce((a, b) => a + b, 0), 20);
  // At another size the patches are size/8 wide: 64x64 -> 8x8 patches, 12.5% = 8 pixels.
  const small = new Uint8Array(64 * 64);
  for (let x = 0; x < 8; x++) small[x] = 1; // the first row of patch 0
  for (let x = 8; x < 15; x++) small[x] = 1; // 7 pixels of patch 1
  assert.deepEqual([...patchLabels(small, 64, 64).slice(0, 3)], [1, 0, 0]);
  assert.throws(() => patchLabels(small, 60, 60), /multiple of 8/);
});

test('tiling: toPatches gives the patches in raster order (index r*8+c), fromPatches inverts it; snake order reverses odd rows', () => {
  const start = tf.memory().numTensors;
  const x = tf.tensor4d(Float32Array.from({ length: 2 * 64 * 64 * 3 }, (_, i) => i), [2, 64, 64, 3]);
  const p = toPatches(x); // [2,64,8,8,3]
  assert.deepEqual(p.shape, [2, 64, 8, 8, 3]);
  // Patch 11 of image 1 = row 1, column 3: its pixel (2,5) is the image's pixel (8+2, 24+5).
  const got = tf.tidy(() => p.slice([1, 11, 2, 5, 0], [1, 1, 1, 1, 3]).dataSync());
  const want = tf.tidy(() => x.slice([1, 10, 29, 0], [1, 1, 1, 3]).dataSync());
  assert.deepEqual([...got], [...want]);
  const back = fromPatches(p);
  assert.deepEqual([...back.dataSync()], [...x.dataSync()]);
  tf.dispose([x, p, back]);
  assert.equal(tf.memory().numTensors, start);
  assert.deepEqual(sequenceOrder('raster').slice(6, 10), [6, 7, 8, 9]);
  assert.deepEqual(sequenceOrder('snake').slice(6, 10), [6, 7, 15, 14]);
});

test('ConvLSTM: gradients of the weights and the inputs match central finite differences over a 3-step sequence', () => {
  const start = tf.memory().numTensors;
  const p = new ParamStore(new Rng(3));
  const cell = makeConvLstmCell(p, 'cell', 2, 3, 3);
  const rng = new Rng(4);
  const rand = (shape: [number, number, number, number]) => tf.tensor4d(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
  const xs = [rand([2, 4, 4, 2]), rand([2, 4, 4, 2]), rand([2, 4, 4, 2])];
  const rs = [rand([2, 4, 4, 3]), rand([2, 4, 4, 3]), rand([2, 4, 4, 3])];
  // f = sum_t <h_t, r_t>: every step's output and the carried state both matter.
  const f = (inputs: tf.Tensor4D[]) =>
    tf.tidy(() => runConvLstm(cell, inputs).reduce((acc, h, t) => acc.add(h.mul(rs[t]).sum()), tf.scalar(0)) as tf.Scalar);
  const vars = [...p.variables.values()];
  const { value, grads } = tf.variableGrads(() => f(xs), vars);
  const inputGrads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => f([a, b, c] as tf.Tensor4D[]))(xs);
  const eps = 1e-2;
  const lossAt = () => tf.tidy(() => f(xs).dataSync()[0]);
  const check = (label: string, t: tf.Tensor, grad: tf.Tensor, set: (v: Float32Array) => void) => {
    const base = Float32Array.from(t.dataSync());
    const g = grad.dataSync();
    const picks = Array.from({ length: 6 }, () => rng.int(0, base.length - 1));
    for (const i of picks) {
      const v = Float32Array.from(base);
      v[i] = base[i] + eps;
      set(v);
      const up = lossAt();
      v[i] = base[i] - eps;
      set(v);
      const down = lossAt();
      set(base);
      const numeric = (up - down) / (2 * eps);
      assert.ok(Math.abs(numeric - g[i]) <= 2e-3 + 2e-2 * Math.abs(g[i]), `${label}[${i}]: analytic ${g[i]}, numeric ${numeric}`);
    }
  };
  for (const [name, v] of p.variables) {
    check(name, v, grads[v.name], (vals) => tf.tidy(() => v.assign(tf.tensor(vals, v.shape))));
  }
  xs.forEach((original, t) => {
    check(`x${t}`, original, inputGrads[t], (vals) => {
      if (xs[t] !== original) xs[t].dispose();
      xs[t] = tf.tensor(vals, original.shape) as tf.Tensor4D;
    });
    xs[t].dispose(); // the copy holding the restored values
    xs[t] = original;
  });
  // The forget gate starts open (bias 1), the other gates at 0.
  const bias = p.get('cell/b').dataSync();
  assert.deepEqual([...bias.slice(0, 9)], [0, 0, 0, 1, 1, 1, 0, 0, 0]);
  tf.dispose([value, ...Object.values(grads), ...inputGrads, ...xs, ...rs]);
  p.dispose();
  assert.equal(tf.memory().numTensors, start, 'tensors leaked');
});

/** The first `n` forged training figures at `size`, as one batch [n,size,size,3] + [n,size,size,1]. */
/**
 * The first `n` forged training figures (those whose copies cover at least `minShare` of the image:
 * a copy of 2% is a few dozen pixels at 64 px, below what a patch model can outline), as one batch.
 */
async function figures(n: number, size: number, minShare = 0): Promise<{ images: tf.Tensor4D; masks: tf.Tensor4D }> {
  const chosen = forged.filter((s) => minShare <= 0 || forgedShare(readMasks(s.maskPath!)) >= minShare).slice(0, n);
  const loader = createLoader({ samples: chosen, batchSize: n, size, seed: 1, shuffle: false });
  let out: { images: tf.Tensor4D; masks: tf.Tensor4D } | undefined;
  for await (const b of loader.epoch(0)) {
    out = { images: b.images.clone(), masks: b.masks.clone() };
    b.dispose();
  }
  await loader.close();
  assert.ok(out && out.images.shape[0] === n, `${n} forged figures`);
  return out;
}

/** Share of the image that any event covers. */
function forgedShare(m: Masks): number {
  const n = m.height * m.width;
  let covered = 0;
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < m.count; c++) {
      if (m.data[c * n + p]) {
        covered++;
        break;
      }
    }
  }
  return covered / n;
}

/**
 * Trains `name` on one fixed batch with sifd's AdamW until `score` reaches `goal` (checked every
 * 10 steps) or `maxSteps`; the tensor count must not move across steps. Returns the best score and steps.
 */
async function overfit(
  name: string,
  config: Record<string, unknown>,
  batch: { images: tf.Tensor4D; masks: tf.Tensor4D },
  opts: { lr: number; maxSteps: number; goal: number; score: (masks: tf.Tensor4D) => number },
): Promise<{ best: number; steps: number }> {
  const model = buildModel(name, config, new Rng(1));
  const opt = createOptimizer({ kind: 'adamw', weightDecay: 0 }, opts.lr);
  const vars = [...model.params.values()];
  const step = () => {
    const { value, grads } = tf.variableGrads(() => model.forward(batch, { training: true }).loss!, vars);
    opt.apply(model.params, new Map([...model.params].map(([n, v]) => [n, grads[v.name]])));
    tf.dispose([value, ...Object.values(grads)]);
  };
  step(); // creates the optimizer's slots
  const counts: number[] = [];
  let best = 0;
  let steps = 1;
  for (; steps < opts.maxSteps && best < opts.goal; steps++) {
    step();
    counts.push(tf.memory().numTensors);
    if (steps % 10 === 0) {
      const out = model.forward({ images: batch.images }, { training: false });
      best = Math.max(best, opts.score(out.masks!));
      out.masks!.dispose();
    }
  }
  assert.equal(new Set(counts).size, 1, `${name}: tensor count changed across steps: ${[...new Set(counts)]}`);
  console.log(`${name}: best ${best.toFixed(3)} after ${steps} steps`);
  opt.dispose();
  model.dispose();
  return { best, steps };
}

/** Pooled pixel F1 of masks > 0.5 against the truth. */
function pixelF1(pred: tf.Tensor4D, truth: tf.Tensor4D): number {
  return tf.tidy(() => {
    const fg = pred.greater(0.5).toFloat();
    const inter = fg.mul(truth).sum().dataSync()[0];
    return (2 * inter) / (fg.sum().dataSync()[0] + truth.sum().dataSync()[0]);
  });
}

/** Share of the 64 patches per image whose label (IoU >= 12.5%) the predicted mask gets right. */
function patchAccuracy(pred: tf.Tensor4D, truth: tf.Tensor4D): number {
  return tf.tidy(() => patchLabelsTensor(pred.greater(0.5).toFloat() as tf.Tensor4D).equal(patchLabelsTensor(truth)).toFloat().mean().dataSync()[0]);
}

test('overfit: bappy-convlstm reaches pixel F1 >= 0.8 on 2 synthetic figures (copies of 5% of the image or more) within 300 steps, constant tensor count', async () => {
  const start = tf.memory().numTensors;
  const batch = await figures(2, 64, 0.05);
  const { best, steps } = await overfit('bappy-convlstm', {}, batch, {
    lr: 1e-2,
    maxSteps: 300,
    goal: 0.8,
    score: (m) => pixelF1(m, batch.masks),
  });
  assert.ok(best >= 0.8, `pixel F1 ${best.toFixed(3)} after ${steps} steps`);
  tf.dispose([batch.images, batch.masks]);
  assert.equal(tf.memory().numTensors, start, 'tensors leaked');
});

test('overfit: bappy-patch reaches patch accuracy >= 0.9 on 4 synthetic figures within 300 steps, constant tensor count', async () => {
  const start = tf.memory().numTensors;
  const batch = await figures(4, 64);
  const before = tf.tidy(() => patchLabelsTensor(batch.masks).mean().dataSync()[0]);
  assert.ok(before > 0.05, `the figures hold manipulated patches (${before})`);
  const { best, steps } = await overfit('bappy-patch', {}, batch, {
    lr: 3e-3,
    maxSteps: 300,
    goal: 0.9,
    score: (m) => patchAccuracy(m, batch.masks),
  });
  assert.ok(best >= 0.9, `patch accuracy ${best.toFixed(3)} after ${steps} steps (all-authentic would score ${(1 - before).toFixed(3)})`);
  tf.dispose([batch.images, batch.masks]);
  assert.equal(tf.memory().numTensors, start, 'tensors leaked');
});

for (const name of ['bappy-patch', 'bappy-convlstm']) {
  test(`${name}: registered with foreground targets, trains and validates through the trainer (patch and pixel metrics), sifd train -> sifd predict`, async () => {
    const start = tf.memory().numTensors;
    const spec = getModelSpec(name);
    assert.deepEqual([...spec.targets], ['foreground']);
    const { samples } = await scan(data);
    const labelled = samples.filter((s) => s.split !== 'test' && s.label !== 'unknown');
    const loader = createLoader({ samples: labelled, batchSize: 4, size: 64, seed: 1 });
    const model = buildModel(name, { width: 8 }, new Rng(1));
    const counts: number[] = [];
    try {
      const result = await trainModel({
        model,
        config: { ...DEFAULT_TRAIN_CONFIG, epochs: 1, lr: 1e-2, size: 64, batchSize: 4 },
        train: ({ epoch }) => loader.epoch(epoch),
        val: () => loader.epoch(0),
        callbacks: [{ onBatchEnd: () => counts.push(tf.memory().numTensors) }],
      });
      assert.ok(counts.every((c) => c === counts[0]), `tensor count moved across steps: ${counts}`);
      const r = result.history[0];
      assert.ok(Number.isFinite(r.trainLoss) && Number.isFinite(r.valLoss), JSON.stringify(r));
      assert.deepEqual(Object.keys(r.metrics ?? {}), ['valPatchAcc', 'valPatchF1', 'valDice', 'valIoU', 'valOF1']);
      for (const v of Object.values(r.metrics ?? {})) assert.ok(v >= 0 && v <= 1, JSON.stringify(r.metrics));
    } finally {
      model.dispose();
      await loader.close();
    }
    assert.equal(tf.memory().numTensors, start, 'tensors leaked');

    const run = path.join(root, 'runs', name);
    const tr = await sifd('train', '--model', name, '--data', data, '--out', run, '--size', '64', '--batch', '4', '--backend', 'wasm', '--seed', '1', '--epochs', '1', '--model-config', '{"width": 8}');
    assert.equal(tr.code, 0, tr.err);
    const sub = path.join(root, `${name}.csv`);
    const p = await sifd('predict', '--run', run, '--images', path.join(data, 'test_images'), '--out', sub);
    assert.equal(p.code, 0, p.err);
    assert.equal(fs.readFileSync(sub, 'utf8').trim().split('\n').length, 1 + fs.readdirSync(path.join(data, 'test_images')).length);
    await assertRunPredictsAtImageSize(run, data);
    assert.equal(tf.memory().numTensors, start, 'tensors leaked');
  });
}

test('bappy configs: bad options are refused naming the option', () => {
  assert.throws(() => buildModel('bappy-convlstm', { order: 'spiral' }), /unknown order 'spiral'/);
  assert.throws(() => buildModel('bappy-convlstm', { kernel: 2 }), /'kernel' must be odd/);
  assert.throws(() => buildModel('bappy-patch', { posWeight: -1 }), /'posWeight' must be a finite number >= 0/);
  const model = buildModel('bappy-patch', {});
  try {
    const images = tf.zeros([1, 60, 60, 3]) as tf.Tensor4D;
    assert.throws(() => model.forward({ images }, { training: false }), /multiple of 64/);
    images.dispose();
  } finally {
    model.dispose();
  }
});

test('patch grid overlay channels: manipulated patches, the truth, the 8x8 grid lines', () => {
  const truth = new Uint8Array(64 * 64);
  for (let y = 0; y < 8; y++) truth[y * 64 + 3] = 1; // one column of patch 0: 8/64 = 12.5%
  const m = patchGridMasks(truth, 64);
  assert.equal(m.count, 3);
  const plane = (c: number) => m.data.subarray(c * 4096, (c + 1) * 4096);
  assert.equal(plane(0).reduce((a, b) => a + b, 0), 64, 'patch 0 filled, nothing else');
  assert.equal(plane(0)[7 * 64 + 7], 1);
  assert.deepEqual(plane(1), truth);
  assert.equal(plane(2)[8 * 64 + 5], 1, 'row 8 is a grid line');
  assert.equal(plane(2)[9 * 64 + 5], 0);
});
