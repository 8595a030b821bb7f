import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import { Rng } from '../src/lib/util/random';
import { setColBlockFloats } from '../src/lib/backend/kernels/conv2d-backprop-filter';
import { setSimdKernelsEnabled, simdKernels } from '../src/lib/backend/simd/kernels';

/** Runs `f` with sifd's SIMD kernels off, so the composed (im2col + GEMM) and JavaScript paths are what runs. */
async function composedOnly<T>(f: () => Promise<T>): Promise<T> {
  const prev = setSimdKernelsEnabled(false);
  try {
    return await f();
  } finally {
    setSimdKernelsEnabled(prev);
  }
}

/** Runs `f` on the named backend and returns its result as plain numbers (tensors disposed). */
async function on(backend: 'cpu' | 'wasm' | 'tensorflow', f: () => tf.Tensor): Promise<{ shape: number[]; values: Float32Array }> {
  await tf.setBackend(backend);
  const start = tf.memory().numTensors;
  const t = tf.tidy(f);
  const out = { shape: t.shape, values: t.dataSync() as Float32Array };
  t.dispose();
  assert.equal(tf.memory().numTensors, start, `${backend}: tensors leaked`);
  return out;
}

/** Max |a - b| relative to max |b| (the cpu reference). */
function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 1e-12;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

function randn(rng: Rng, shape: number[]): () => tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.normal();
  return () => tf.tensor(data, shape);
}

async function compare(label: string, f: () => tf.Tensor): Promise<void> {
  const ref = await on('cpu', f);
  const got = await on('wasm', f);
  assert.deepEqual(got.shape, ref.shape, `${label}: shape`);
  const err = relErr(got.values, ref.values);
  assert.ok(err <= 1e-4, `${label}: rel err ${err}`);
}

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

function randomPad(rng: Rng): Pad {
  const r = rng.int(0, 3);
  if (r === 0) return 'same';
  if (r === 1) return 'valid';
  return [[0, 0], [rng.int(0, 3), rng.int(0, 3)], [rng.int(0, 3), rng.int(0, 3)], [0, 0]];
}

/** The native tensorflow backend, where it is built and loads: sifd's kernel fixes are checked on it too. */
let native = false;

before(async () => {
  native = (await initBackend()).backend === 'tensorflow';
  const report = await initBackend({ prefer: 'wasm' });
  assert.equal(report.backend, 'wasm');
});

test('Conv2DBackpropFilter and Conv2DBackpropInput match cpu on random shapes, strides and paddings', async () => {
  const rng = new Rng('conv2d-grads');
  for (let trial = 0; trial < 12; trial++) {
    const n = rng.int(1, 4);
    const h = rng.int(5, 14);
    const w = rng.int(5, 14);
    const cin = rng.int(1, 7);
    const cout = rng.int(1, 7);
    const kh = rng.int(1, 5);
    const kw = rng.int(1, 5);
    const strides: [number, number] = [rng.int(1, 4), rng.int(1, 4)];
    const pad = randomPad(rng);
    const label = `n${n} ${h}x${w} ${cin}->${cout} k${kh}x${kw} s${strides} pad ${JSON.stringify(pad)}`;
    const x = randn(rng, [n, h, w, cin]);
    const filter = randn(rng, [kh, kw, cin, cout]);
    const yShape = await on('cpu', () => tf.conv2d(x() as tf.Tensor4D, filter() as tf.Tensor4D, strides, pad)).then((r) => r.shape);
    const dy = randn(rng, yShape);
    await compare(`dW ${label}`, () =>
      tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: x(), dy: dy() }, { strides, pad, dataFormat: 'NHWC', filterShape: [kh, kw, cin, cout] }) as tf.Tensor);
    await compare(`dx ${label}`, () =>
      tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dy(), filter: filter() }, { strides, pad, dataFormat: 'NHWC', inputShape: [n, h, w, cin] }) as tf.Tensor);
  }
});

/** Sum of elementwise products, on whatever backend is active. */
function dot(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.sum(tf.mul(a, b));
}

test('Depthwise backprop filter and input match cpu with multipliers, strides and paddings', async () => {
  const rng = new Rng('depthwise-grads');
  for (let trial = 0; trial < 12; trial++) {
    const n = rng.int(1, 3);
    const h = rng.int(6, 14);
    const w = rng.int(6, 14);
    const c = rng.int(1, 6);
    const mult = rng.int(1, 4);
    const k = rng.int(1, 4);
    const strides: [number, number] = [rng.int(1, 3), rng.int(1, 3)];
    const pad = randomPad(rng);
    const label = `n${n} ${h}x${w} c${c} m${mult} k${k} s${strides} pad ${JSON.stringify(pad)}`;
    const x = randn(rng, [n, h, w, c]);
    const filter = randn(rng, [k, k, c, mult]);
    const yShape = await on('cpu', () => tf.depthwiseConv2d(x() as tf.Tensor4D, filter() as tf.Tensor4D, strides, pad)).then((r) => r.shape);
    const dy = randn(rng, yShape);
    const attrs = { strides, dilations: [1, 1], pad };
    await compare(`dW ${label}`, () =>
      tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, { x: x(), dy: dy() }, { ...attrs, filterShape: [k, k, c, mult] }) as tf.Tensor);
    await compare(`dx ${label}`, () =>
      tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, { dy: dy(), filter: filter() }, { ...attrs, inputShape: [n, h, w, c] }) as tf.Tensor);
  }
});

// tfjs's cpu backprop kernels ignore dilations, so dilated cases are checked against the forward op (which
// supports them) by the adjoint identities <dW, V> = <dy, conv(x, V)> and <dx, U> = <dy, conv(U, W)>.
test('Depthwise backprop filter and input with dilations satisfy the adjoint identities of the cpu forward op', async () => {
  const rng = new Rng('depthwise-dilated');
  for (let trial = 0; trial < 11; trial++) {
    const n = rng.int(1, 2);
    const h = rng.int(8, 14);
    const w = rng.int(8, 14);
    const simd = trial >= 8; // multiplier 1 and channels in fours: sifd's SIMD kernel computes dW
    const c = simd ? 4 * rng.int(1, 6) : rng.int(1, 4);
    const mult = simd ? 1 : rng.int(1, 3);
    const k = rng.int(2, 3);
    const dilations: [number, number] = [rng.int(1, 3), rng.int(2, 3)];
    const pad = randomPad(rng);
    const label = `n${n} ${h}x${w} c${c} m${mult} k${k} d${dilations} pad ${JSON.stringify(pad)}`;
    const x = randn(rng, [n, h, w, c]);
    const filter = randn(rng, [k, k, c, mult]);
    const conv = (a: tf.Tensor, f: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, f as tf.Tensor4D, 1, pad, 'NHWC', dilations);
    const yShape = await on('cpu', () => conv(x(), filter())).then((r) => r.shape);
    const dy = randn(rng, yShape);
    const probeW = randn(rng, [k, k, c, mult]);
    const probeX = randn(rng, [n, h, w, c]);
    const attrs = { strides: [1, 1], dilations, pad };
    const dW = await on('wasm', () => dot(tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, { x: x(), dy: dy() }, { ...attrs, filterShape: [k, k, c, mult] }) as tf.Tensor, probeW()));
    const refW = await on('cpu', () => dot(dy(), conv(x(), probeW())));
    assert.ok(relErr(dW.values, refW.values) <= 1e-4, `dW ${label}: ${dW.values[0]} vs ${refW.values[0]}`);
    const dx = await on('wasm', () => dot(tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, { dy: dy(), filter: filter() }, { ...attrs, inputShape: [n, h, w, c] }) as tf.Tensor, probeX()));
    const refX = await on('cpu', () => dot(dy(), conv(probeX(), filter())));
    assert.ok(relErr(dx.values, refX.values) <= 1e-4, `dx ${label}: ${dx.values[0]} vs ${refX.values[0]}`);
  }
});

test('UnsortedSegmentSum matches cpu, drops out-of-range ids', async () => {
  const rng = new Rng('segsum');
  const x = randn(rng, [6, 4, 3]);
  const ids1 = [2, 0, 2, -1, 5, 1];
  await compare('rank-1 ids', () => tf.unsortedSegmentSum(x() as tf.Tensor3D, tf.tensor1d(ids1, 'int32'), 4));
  // Hand-worked: rows 0 and 2 go to segment 2, row 3 (id -1) and row 4 (id 5 >= 4) are dropped.
  const got = await on('wasm', () => tf.unsortedSegmentSum(tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8], [9, 9]]), tf.tensor1d([2, 0, 2, -1, 5], 'int32'), 3));
  assert.deepEqual(Array.from(got.values), [3, 4, 0, 0, 6, 8]);
});

test('MaxPoolGrad matches cpu (tfjs-wasm 4.22 native kernel misroutes some windows) on random pools', async () => {
  const rng = new Rng('maxpool-grad');
  for (let trial = 0; trial < 14; trial++) {
    const n = rng.int(1, 3);
    const h = rng.int(4, 11);
    const w = rng.int(4, 11);
    const c = trial % 2 === 0 ? 4 * rng.int(1, 3) : rng.int(1, 5); // channels in fours: sifd's SIMD kernel
    const f: [number, number] = [rng.int(1, 3), rng.int(1, 3)];
    const s: [number, number] = [rng.int(1, 3), rng.int(1, 3)];
    const pad = rng.bool() ? 'same' : 'valid';
    const x = randn(rng, [n, h, w, c]);
    await compare(`maxPool grad n${n} ${h}x${w}x${c} f${f} s${s} ${pad}`, () =>
      tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, f, s, pad).mul(tf.range(1, 1 + tf.maxPool(t as tf.Tensor4D, f, s, pad).size).reshape(tf.maxPool(t as tf.Tensor4D, f, s, pad).shape)).sum())(x()));
  }
});

test('Conv2DBackpropFilter split into per-image blocks (large inputs) still matches cpu', async () => {
  const rng = new Rng('conv2d-blocks');
  const x = randn(rng, [3, 9, 7, 4]);
  const dy = randn(rng, [3, 5, 4, 6]);
  const prev = setColBlockFloats(1); // forces one image per GEMM block
  try {
    await composedOnly(async () => {
      await compare('dW blocked', () =>
        tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: x(), dy: dy() }, { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 4, 6] }) as tf.Tensor);
      const dy1 = randn(rng, [3, 9, 7, 6]);
      await compare('dW blocked stride 1', () =>
        tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: x(), dy: dy1() }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 4, 6] }) as tf.Tensor);
    });
  } finally {
    setColBlockFloats(prev);
  }
});

test('stride-1 Conv2DBackpropFilter (padded-grid im2col) matches cpu for any padding and GEMM chunk size', async () => {
  const rng = new Rng('conv2d-stride1');
  for (let trial = 0; trial < 10; trial++) {
    const n = rng.int(1, 4);
    const h = rng.int(4, 12);
    const w = rng.int(4, 12);
    const cin = rng.int(1, 6);
    const cout = rng.int(1, 6);
    const kh = rng.int(1, 4);
    const kw = rng.int(1, 4);
    const pad = randomPad(rng);
    const blocked = trial % 2 === 1;
    const label = `n${n} ${h}x${w} ${cin}->${cout} k${kh}x${kw} pad ${JSON.stringify(pad)}${blocked ? ' blocked' : ''}`;
    const x = randn(rng, [n, h, w, cin]);
    const filterShape: [number, number, number, number] = [kh, kw, cin, cout];
    const yShape = await on('cpu', () => tf.conv2d(x() as tf.Tensor4D, tf.zeros(filterShape) as tf.Tensor4D, 1, pad)).then((r) => r.shape);
    if (yShape.some((d) => d <= 0)) continue;
    const dy = randn(rng, yShape);
    // Blocked: GEMM chunks of 1..9 positions (COL_BLOCK_FLOATS / K), so chunks end mid-row and mid-image.
    const prev = blocked ? setColBlockFloats(kh * kw * cin * rng.int(1, 9)) : undefined;
    try {
      await composedOnly(() => compare(`dW ${label}`, () =>
        tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: x(), dy: dy() }, { strides: 1, pad, dataFormat: 'NHWC', filterShape }) as tf.Tensor));
    } finally {
      if (prev !== undefined) setColBlockFloats(prev);
    }
  }
});

test('SIMD filter gradients (sifd\'s own wasm kernels) are active and match cpu: channel remainders, strides, paddings', async () => {
  assert.ok(simdKernels(tf.backend()), 'the SIMD kernels assembled and bound to the wasm heap');
  const rng = new Rng('simd-filter-grads');
  for (let trial = 0; trial < 14; trial++) {
    const n = rng.int(1, 3);
    const h = rng.int(5, 16);
    const w = rng.int(5, 16);
    const cin = trial < 9 ? trial + 1 : rng.int(1, 13); // every remainder of the 4-channel blocks
    const cout = 4 * rng.int(1, 6); // 8-wide blocks, then a 4-wide tail
    const kh = rng.int(1, 5);
    const kw = rng.int(1, 5);
    const strides: [number, number] = [rng.int(1, 3), rng.int(1, 3)];
    const pad = randomPad(rng);
    const label = `n${n} ${h}x${w} ${cin}->${cout} k${kh}x${kw} s${strides} pad ${JSON.stringify(pad)}`;
    const x = randn(rng, [n, h, w, cin]);
    const filterShape: [number, number, number, number] = [kh, kw, cin, cout];
    const yShape = await on('cpu', () => tf.conv2d(x() as tf.Tensor4D, tf.zeros(filterShape) as tf.Tensor4D, strides, pad)).then((r) => r.shape);
    if (yShape.some((d) => d <= 0)) continue;
    const dy = randn(rng, yShape);
    await compare(`dW ${label}`, () =>
      tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: x(), dy: dy() }, { strides, pad, dataFormat: 'NHWC', filterShape }) as tf.Tensor);
  }
  for (let trial = 0; trial < 8; trial++) {
    const n = rng.int(1, 3);
    const h = rng.int(6, 14);
    const w = rng.int(6, 14);
    const c = 4 * rng.int(1, 9); // 16-channel blocks, then 4-channel ones
    const k = rng.int(1, 4);
    const strides: [number, number] = [rng.int(1, 3), rng.int(1, 3)];
    const pad = randomPad(rng);
    const label = `depthwise n${n} ${h}x${w} c${c} k${k} s${strides} pad ${JSON.stringify(pad)}`;
    const x = randn(rng, [n, h, w, c]);
    const yShape = await on('cpu', () => tf.depthwiseConv2d(x() as tf.Tensor4D, tf.zeros([k, k, c, 1]) as tf.Tensor4D, strides, pad)).then((r) => r.shape);
    const dy = randn(rng, yShape);
    await compare(`dW ${label}`, () =>
      tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, { x: x(), dy: dy() }, { strides, dilations: [1, 1], pad, filterShape: [k, k, c, 1] }) as tf.Tensor);
  }
});

/** SplitV, Concat and leading-axes Sum on random shapes; `tag` labels the mode (SIMD or the JavaScript fallback). */
async function checkCopyKernels(tag: string): Promise<void> {
  const rng = new Rng('copy-kernels');
  for (let trial = 0; trial < 12; trial++) {
    const rank = rng.int(1, 4); // rng.int is inclusive
    const shape = Array.from({ length: rank }, () => rng.int(1, 6));
    if (trial === 0) shape.splice(0, shape.length, 2, 9, 7, 70); // long rows: the subarray copy path; sum tails
    if (trial === 1) shape.splice(0, shape.length, 3, 5, 6, 32); // rows of 16-byte multiples: v128 moves
    const axis = rng.int(0, shape.length - 1);
    const x = randn(rng, shape);
    const k = shape[axis];
    const sizes = k === 1 ? [1] : [rng.int(1, k - 1), -1];
    const label = `${tag} [${shape}] axis ${axis}`;
    await compare(`split ${label} ${sizes}`, () => tf.concat(tf.split(x(), sizes, axis).map((t, i) => t.mul(i + 1)), axis));
    const other = shape.slice();
    other[axis] = rng.int(1, 4);
    const y = randn(rng, other);
    await compare(`concat ${label}`, () => tf.concat([x(), y(), x()], axis - shape.length));
    await compare(`concat int32 ${label}`, () => tf.concat([x().toInt(), y().toInt()], axis).toFloat());
    const lead = Array.from({ length: rng.int(1, shape.length) }, (_, i) => i);
    await compare(`sum leading ${lead} ${label}`, () => tf.sum(x(), lead, trial % 2 === 0));
    await compare(`sum last ${label}`, () => tf.sum(x(), -1));
    await compare(`sum inner ${label}`, () => tf.sum(x(), shape.length > 1 ? [1] : [0], true));
  }
  await compare('sum int32 leading', () => tf.sum(tf.tensor2d([[1, 2], [3, 4], [5, 6]], [3, 2], 'int32'), 0).toFloat());
  await compare('concat bool', () => tf.concat([tf.tensor1d([true, false], 'bool'), tf.tensor1d([false], 'bool')]).toFloat());
}

test('SplitV, Concat and leading-axes Sum (heap versions of stock kernels) match cpu, SIMD and JavaScript paths', async () => {
  await checkCopyKernels('simd');
  await composedOnly(() => checkCopyKernels('js'));
});

test('Identity on wasm shares the input buffer: no copy, no leak, the input survives the output', async () => {
  await tf.setBackend('wasm');
  const start = tf.memory().numTensors;
  const x = tf.tensor2d([[1, 2], [3, 4]]);
  const y = tf.engine().runKernel(tf.Identity, { x }) as tf.Tensor;
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4]);
  y.dispose();
  assert.deepEqual(Array.from(x.dataSync()), [1, 2, 3, 4], 'disposing the output leaves the input intact');
  const z = tf.engine().runKernel(tf.Identity, { x }) as tf.Tensor;
  x.dispose();
  assert.deepEqual(Array.from(z.dataSync()), [1, 2, 3, 4], 'the output outlives its input');
  z.dispose();
  assert.equal(tf.memory().numTensors, start);
});

test('ResizeBilinearGrad (wasm SIMD, wasm JavaScript, the corrected cpu kernel, tensorflow where built) is the adjoint of the forward resize', async () => {
  const rng = new Rng('resize-grad');
  for (let trial = 0; trial < 12; trial++) {
    const n = rng.int(1, 2);
    const h = rng.int(2, 9);
    const w = rng.int(2, 9);
    const c = trial % 3 === 2 ? rng.int(1, 3) : 4 * rng.int(1, 3);
    const size: [number, number] = [rng.int(1, 19), rng.int(1, 19)]; // up and down, non-square
    const alignCorners = trial % 4 === 1;
    const halfPixel = !alignCorners && trial % 2 === 0;
    const label = `n${n} ${h}x${w}x${c} -> ${size} align ${alignCorners} half-pixel ${halfPixel}`;
    const x = randn(rng, [n, h, w, c]);
    const dy = randn(rng, [n, size[0], size[1], c]);
    // <resize(x), dy> on the cpu forward op must equal <x, ResizeBilinearGrad(dy)> on each backend.
    const forward = await on('cpu', () => dot(tf.image.resizeBilinear(x() as tf.Tensor4D, size, alignCorners, halfPixel), dy()));
    const grad = () => tf.engine().runKernel(tf.ResizeBilinearGrad, { images: x(), dy: dy() }, { alignCorners, halfPixelCenters: halfPixel }) as tf.Tensor;
    for (const backend of ['cpu', 'wasm', ...(native ? ['tensorflow' as const] : [])] as const) {
      const adj = await on(backend, () => dot(grad(), x()));
      assert.ok(relErr(adj.values, forward.values) <= 1e-4, `${backend} ${label}: ${adj.values[0]} vs ${forward.values[0]}`);
    }
    const js = await composedOnly(() => on('wasm', () => dot(grad(), x())));
    assert.ok(relErr(js.values, forward.values) <= 1e-4, `wasm js ${label}`);
    await compare(`dx ${label}`, grad);
  }
});

test('Step on tensorflow (sifd\'s two-op kernel, tfjs-node\'s for alpha != 0) matches cpu, NaN kept, nothing left behind', async (t) => {
  if (!native) return t.skip('the native backend is not built here');
  const x = () => tf.tensor([NaN, -2, -0, 0, 1e-30, 3, -Infinity, Infinity]);
  for (const alpha of [0, 0.2]) {
    const ref = await on('cpu', () => tf.step(x(), alpha));
    await tf.setBackend('tensorflow');
    const before = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    const got = await on('tensorflow', () => tf.step(x(), alpha));
    assert.equal((tf.backend() as unknown as { numDataIds(): number }).numDataIds(), before, `alpha ${alpha}: backend tensors left`);
    assert.deepEqual(Array.from(got.values), Array.from(ref.values), `alpha ${alpha}`);
  }
  await tf.setBackend('wasm');
});
