import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, backendReport } from '../src/lib/backend';
import { createBenchNet } from '../src/lib/models/benchnet';
import { buildModel } from '../src/lib/models';
import { Rng } from '../src/lib/util/random';

/** The backends checked against cpu: wasm, and the native tensorflow backend where it is built and loads. */
const BACKENDS: ('wasm' | 'tensorflow')[] = ['wasm'];

before(async () => {
  if ((await initBackend()).backend === 'tensorflow') BACKENDS.push('tensorflow');
  await initBackend({ prefer: 'wasm' });
});

function data(seed: string, shape: number[], binary = false): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < out.length; i++) out[i] = binary ? (rng.bool() ? 1 : 0) : rng.next();
  return out;
}

/** Trains the bench net `steps` Adam steps on the named backend; returns the losses. */
async function trainBenchNet(backend: 'cpu' | 'wasm' | 'tensorflow', steps: number): Promise<number[]> {
  await tf.setBackend(backend);
  const start = tf.memory().numTensors;
  const x = tf.tensor4d(data('x', [1, 16, 16, 3]), [1, 16, 16, 3]);
  const y = tf.tensor4d(data('y', [1, 16, 16, 1], true), [1, 16, 16, 1]);
  const net = createBenchNet(7);
  const opt = tf.train.adam(1e-3);
  const losses: number[] = [];
  let perStep: number | undefined;
  for (let i = 0; i < steps; i++) {
    const loss = opt.minimize(() => tf.losses.sigmoidCrossEntropy(y, net.forward(x)) as tf.Scalar, true)!;
    losses.push(loss.dataSync()[0]);
    loss.dispose();
    // After the first step Adam's slots exist; from then on the tensor count must not move.
    if (i === 1) perStep = tf.memory().numTensors;
    if (i > 1) assert.equal(tf.memory().numTensors, perStep, `${backend}: tensor count grew at step ${i}`);
  }
  net.dispose();
  opt.dispose();
  x.dispose();
  y.dispose();
  assert.equal(tf.memory().numTensors, start, `${backend}: tensors leaked`);
  return losses;
}

test('the bench net trains 10 steps on wasm (and tensorflow where built) with the same losses as on cpu', async () => {
  const cpu = await trainBenchNet('cpu', 10);
  for (const backend of BACKENDS) {
    const got = await trainBenchNet(backend, 10);
    for (let i = 0; i < cpu.length; i++) {
      const rel = Math.abs(got[i] - cpu[i]) / Math.abs(cpu[i]);
      assert.ok(rel <= 1e-3, `step ${i}: ${backend} ${got[i]} vs cpu ${cpu[i]} (rel ${rel})`);
    }
  }
  await tf.setBackend('wasm');
  assert.ok(cpu[9] < cpu[0], `loss should fall: ${cpu[0]} -> ${cpu[9]}`);
});

/**
 * A small transformer-style block hitting the kernels the project's attention models use in backward:
 * embedding gather, LayerNorm (moments), Q/K/V matmuls, Q @ K^T (transposed BatchMatMul), softmax,
 * GELU via erf, strided patchify conv, bilinear resize, max/avg pooling and a depthwise conv with multiplier 2.
 */
function attentionLoss(p: Record<string, tf.Tensor>, img: tf.Tensor4D, tokens: tf.Tensor2D): tf.Scalar {
  const patches = tf.conv2d(img, p.patch as tf.Tensor4D, 4, 'valid'); // [B, 4, 4, D]
  const [b, h, w, d] = patches.shape;
  let x = patches.reshape([b, h * w, d]).add(tf.gather(p.embed, tokens)); // [B, T, D]
  const { mean, variance } = tf.moments(x, -1, true);
  x = x.sub(mean).mul(tf.rsqrt(variance.add(1e-5))).mul(p.gamma).add(p.beta);
  const q = tf.matMul(x, p.wq.expandDims(0).tile([b, 1, 1]));
  const k = tf.matMul(x, p.wk.expandDims(0).tile([b, 1, 1]));
  const v = tf.matMul(x, p.wv.expandDims(0).tile([b, 1, 1]));
  const att = tf.softmax(tf.matMul(q, k, false, true).div(Math.sqrt(d))); // [B, T, T]
  const o = tf.matMul(att, v); // [B, T, D]
  const gelu = o.mul(0.5).mul(tf.erf(o.div(Math.SQRT2)).add(1));
  const map = gelu.reshape([b, h, w, d]);
  const up = tf.image.resizeBilinear(map as tf.Tensor4D, [8, 8], false, true);
  const dw = tf.depthwiseConv2d(up, p.dw as tf.Tensor4D, 1, 'same'); // [B, 8, 8, 2D]
  const pooled = tf.add(tf.maxPool(dw, 2, 2, 'same'), tf.avgPool(dw, 2, 2, 'same'));
  return tf.mean(tf.square(pooled)) as tf.Scalar;
}

test('a conv + attention block gets the same gradients on wasm (and tensorflow) as on cpu (no missing kernel)', async () => {
  const d = 8;
  const shapes: Record<string, number[]> = {
    patch: [4, 4, 3, d], embed: [10, d], gamma: [d], beta: [d], wq: [d, d], wk: [d, d], wv: [d, d], dw: [3, 3, d, 2],
  };
  const grads: Record<string, Record<string, Float32Array>> = {};
  for (const backend of ['cpu', ...BACKENDS] as const) {
    await tf.setBackend(backend);
    const start = tf.memory().numTensors;
    const result = tf.tidy(() => {
      const params: Record<string, tf.Tensor> = {};
      for (const [name, shape] of Object.entries(shapes)) params[name] = tf.tensor(data(name, shape), shape).sub(0.5);
      const img = tf.tensor4d(data('img', [2, 16, 16, 3]), [2, 16, 16, 3]);
      const tokens = tf.tensor2d([1, 3, 3, 7, 0, 9, 2, 2, 5, 5, 1, 0, 4, 8, 6, 3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 1, 2, 2, 3, 3], [2, 16], 'int32');
      const names = Object.keys(shapes);
      const g = tf.grads((...ts: tf.Tensor[]) => attentionLoss(Object.fromEntries(names.map((n, i) => [n, ts[i]])), img, tokens))(names.map((n) => params[n]));
      return Object.fromEntries(names.map((n, i) => [n, g[i].dataSync() as Float32Array]));
    });
    grads[backend] = result;
    assert.equal(tf.memory().numTensors, start, `${backend}: tensors leaked`);
  }
  const errs: string[] = [];
  const bad: string[] = [];
  for (const [backend, name] of BACKENDS.flatMap((bk) => Object.keys(shapes).map((n) => [bk, n] as const))) {
    const a = grads[backend][name];
    const b = grads.cpu[name];
    let err = 0;
    let scale = 1e-12;
    for (let i = 0; i < b.length; i++) {
      err = Math.max(err, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(b[i]));
    }
    errs.push(`${backend} ${name}: ${(err / scale).toExponential(2)}`);
    if (err / scale > 1e-4) bad.push(`${backend} ${name}`);
  }
  await tf.setBackend('wasm');
  assert.deepEqual(bad, [], `rel errors ${errs.join(', ')}`);
});

test('SegFormer (MiT\'s padded patch embeddings) gets the loss and gradients of cpu on every backend', async () => {
  const results: Record<string, { loss: number; grads: Float32Array[] }> = {};
  for (const backend of ['cpu', ...BACKENDS] as const) {
    await tf.setBackend(backend);
    const start = tf.memory().numTensors;
    const model = buildModel('segformer-seg', { variant: 'b0' }, new Rng(3));
    const vars = [...model.params.values()];
    const images = tf.tensor4d(data('seg-img', [1, 64, 64, 3]), [1, 64, 64, 3]);
    const mask = new Uint8Array(64 * 64);
    for (let y = 16; y < 40; y++) mask.fill(1, y * 64 + 20, y * 64 + 44);
    const { value, grads } = tf.variableGrads(
      () => model.forward({ images, instances: [{ data: mask, count: 1, height: 64, width: 64 }] }, { training: true }).loss!, vars);
    results[backend] = { loss: value.dataSync()[0], grads: vars.map((v) => grads[v.name].dataSync() as Float32Array) };
    tf.dispose([value, images, ...Object.values(grads)]);
    model.dispose();
    assert.equal(tf.memory().numTensors, start, `${backend}: tensors leaked`);
  }
  await tf.setBackend('wasm');
  const ref = results.cpu;
  for (const backend of BACKENDS) {
    const got = results[backend];
    assert.ok(Math.abs(got.loss - ref.loss) <= 1e-4 * Math.abs(ref.loss), `${backend} loss ${got.loss} vs cpu ${ref.loss}`);
    let worst = 0;
    ref.grads.forEach((g, k) => {
      let err = 0;
      let scale = 1e-12;
      for (let i = 0; i < g.length; i++) {
        err = Math.max(err, Math.abs(got.grads[k][i] - g[i]));
        scale = Math.max(scale, Math.abs(g[i]));
      }
      worst = Math.max(worst, err / scale);
    });
    assert.ok(worst <= 1e-3, `${backend}: worst relative gradient error ${worst}`);
  }
});

test('initBackend is idempotent, honours SIFD_BACKEND and rejects unknown names with the choices', async () => {
  await tf.setBackend('wasm');
  const a = await initBackend({ prefer: 'wasm' });
  const b = await initBackend();
  assert.equal(a, b);
  assert.equal(backendReport(), a);
  assert.ok(a.skipped.some((s) => s.backend === 'tensorflow' || s.backend.startsWith('tensorflow (')));
  process.env.SIFD_BACKEND = 'cpu';
  try {
    const forced = await initBackend({ prefer: 'wasm' });
    assert.equal(forced.backend, 'cpu');
    assert.equal(forced.chosenBy, 'SIFD_BACKEND');
    assert.equal(tf.getBackend(), 'cpu');
    process.env.SIFD_BACKEND = 'gpu';
    await assert.rejects(initBackend(), /SIFD_BACKEND='gpu' is not a backend; choose one of tensorflow, wasm, cpu/);
  } finally {
    delete process.env.SIFD_BACKEND;
  }
  const back = await initBackend({ prefer: 'wasm' });
  assert.equal(back.backend, 'wasm');
  assert.deepEqual(back.wasmKernels?.includes('Conv2DBackpropFilter'), true);
  assert.deepEqual(back.wasmSimdKernels, { active: true }, 'sifd\'s SIMD kernel module assembled offline from its generated text');
});
