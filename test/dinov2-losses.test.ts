import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import { pixelSupConLoss } from '../src/lib/losses/supcon';
import { uniformityLoss } from '../src/lib/losses/uniformity';
import { interInstanceSeparationLoss } from '../src/lib/losses/separation';
import { sampleTokens, tokenLabels } from '../src/lib/losses/token-labels';
import { Rng } from '../src/lib/util/random';

before(async () => {
  await initBackend();
});

type Loss = (z: tf.Tensor2D, labels: Int32Array) => tf.Scalar;

const LOSSES: Record<string, Loss> = {
  supcon: (z, l) => pixelSupConLoss(z, l, 0.5),
  uniformity: (z, l) => uniformityLoss(z, l),
  separation: (z, l) => interInstanceSeparationLoss(z, l, -0.2),
};

function randomZ(n: number, d: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * d }, () => rng.normal() * 0.5);
}

/** Central finite differences of loss(z) against tf.grad, on every coordinate. */
function gradCheck(loss: Loss, values: Float32Array, n: number, d: number, labels: Int32Array): number {
  const f = (v: Float32Array) => tf.tidy(() => loss(tf.tensor2d(v, [n, d]), labels).dataSync()[0]);
  const analytic = tf.tidy(() => tf.grad((z: tf.Tensor) => loss(z as tf.Tensor2D, labels))(tf.tensor2d(values, [n, d])).dataSync());
  const eps = 1e-2;
  let worst = 0;
  for (let i = 0; i < values.length; i++) {
    const up = values.slice();
    const down = values.slice();
    up[i] += eps;
    down[i] -= eps;
    const numeric = (f(up) - f(down)) / (2 * eps);
    worst = Math.max(worst, Math.abs(numeric - analytic[i]) / Math.max(1, Math.abs(numeric)));
  }
  return worst;
}

for (const [name, loss] of Object.entries(LOSSES)) {
  test(`${name}: gradient matches finite differences, no tensor leaks`, () => {
    const labels = Int32Array.from([0, 0, 0, 1, 1, 2, 2, 2]);
    const start = tf.memory().numTensors;
    const err = gradCheck(loss, randomZ(8, 5, 11), 8, 5, labels);
    assert.ok(err < 5e-3, `${name}: worst relative gradient error ${err}`);
    assert.equal(tf.memory().numTensors, start);
  });
}

test('PixelSupConLoss known value: two classes of identical orthogonal embeddings, t = 1 -> log(e + 2) - 1', () => {
  const start = tf.memory().numTensors;
  const z = tf.tensor2d([1, 0, 1, 0, 0, 1, 0, 1], [4, 2]);
  const v = tf.tidy(() => pixelSupConLoss(z, Int32Array.from([0, 0, 1, 1]), 1).dataSync()[0]);
  assert.ok(Math.abs(v - (Math.log(Math.E + 2) - 1)) < 1e-5, `${v}`);
  // no anchor has a positive: zero (and still a tensor with a gradient path)
  const zero = tf.tidy(() => pixelSupConLoss(z, Int32Array.from([0, 1, 2, 3]), 0.1).dataSync()[0]);
  assert.equal(zero, 0);
  // a lower temperature separates the classes more sharply: the loss falls
  const sharp = tf.tidy(() => pixelSupConLoss(z, Int32Array.from([0, 0, 1, 1]), 0.1).dataSync()[0]);
  assert.ok(sharp < v);
  z.dispose();
  assert.equal(tf.memory().numTensors, start);
  assert.throws(() => pixelSupConLoss(z, Int32Array.from([0]), 1), /labels/);
});

test('UniformityLoss known values: ||a - b||^2 / 4 for a pair, 0 for collapsed classes and singletons', () => {
  const start = tf.memory().numTensors;
  const v = tf.tidy(() => uniformityLoss(tf.tensor2d([0, 0, 2, 0, 5, 5], [3, 2]), Int32Array.from([1, 1, 0])).dataSync()[0]);
  assert.ok(Math.abs(v - 1) < 1e-6, `${v}`);
  // two classes: (1 + 0) / 2
  const two = tf.tidy(() => uniformityLoss(tf.tensor2d([0, 0, 2, 0, 5, 5, 5, 5], [4, 2]), Int32Array.from([1, 1, 0, 0])).dataSync()[0]);
  assert.ok(Math.abs(two - 0.5) < 1e-6, `${two}`);
  const none = tf.tidy(() => uniformityLoss(tf.tensor2d([0, 0, 2, 0], [2, 2]), Int32Array.from([0, 1])).dataSync()[0]);
  assert.equal(none, 0);
  assert.equal(tf.memory().numTensors, start);
});

test('InterInstanceSeparationLoss known values: orthogonal means 0, equal means 1, margin shifts the hinge', () => {
  const start = tf.memory().numTensors;
  const orth = tf.tidy(() => interInstanceSeparationLoss(tf.tensor2d([1, 0, 1, 0, 0, 1], [3, 2]), Int32Array.from([0, 0, 1])).dataSync()[0]);
  assert.ok(Math.abs(orth) < 1e-6, `${orth}`);
  const same = tf.tidy(() => interInstanceSeparationLoss(tf.tensor2d([1, 0, 2, 0], [2, 2]), Int32Array.from([0, 1])).dataSync()[0]);
  assert.ok(Math.abs(same - 1) < 1e-6, `${same}`);
  const margin = tf.tidy(() => interInstanceSeparationLoss(tf.tensor2d([1, 0, 0, 1], [2, 2]), Int32Array.from([0, 1]), -0.5).dataSync()[0]);
  assert.ok(Math.abs(margin - 0.5) < 1e-6, `${margin}`);
  const single = tf.tidy(() => interInstanceSeparationLoss(tf.tensor2d([1, 0, 0, 1], [2, 2]), Int32Array.from([3, 3])).dataSync()[0]);
  assert.equal(single, 0);
  assert.equal(tf.memory().numTensors, start);
});

test('tokenLabels: area vote per patch, ties to authentic, overlapping events by their own areas', () => {
  // 4x4 image, 2x2 token grid (patches of 2x2); event 1 covers patch (0,0) fully and 1 pixel of patch (0,1);
  // event 2 covers 2 pixels of patch (1,1) (a tie with authentic -> authentic) and 3 pixels of patch (1,0)
  const H = 4;
  const W = 4;
  const data = new Uint8Array(2 * H * W);
  for (const [y, x] of [[0, 0], [0, 1], [1, 0], [1, 1], [0, 2]]) data[y * W + x] = 1;
  for (const [y, x] of [[2, 2], [3, 3], [2, 0], [2, 1], [3, 0]]) data[H * W + y * W + x] = 1;
  assert.deepEqual(Array.from(tokenLabels({ data, count: 2, height: H, width: W }, 2, 2)), [1, 0, 2, 0]);
  assert.deepEqual(Array.from(tokenLabels({ data: new Uint8Array(0), count: 0, height: H, width: W }, 2, 2)), [0, 0, 0, 0]);
});

test('sampleTokens: bounded, seeded, keeps small forgeries, everything when under the budget', () => {
  const labels = new Int32Array(1089);
  for (let i = 0; i < 20; i++) labels[i * 7] = 1;
  const a = sampleTokens(labels, 128, new Rng(1));
  const b = sampleTokens(labels, 128, new Rng(1));
  assert.equal(a.length, 128);
  assert.deepEqual(a, b);
  assert.equal(Array.from(a).filter((i) => labels[i] === 1).length, 20);
  assert.equal(new Set(a).size, 128);
  assert.equal(sampleTokens(labels.slice(0, 50), 128, new Rng(1)).length, 50);
  assert.throws(() => sampleTokens(labels, 1, new Rng(1)), /at least 2/);
});
