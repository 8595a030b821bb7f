/**
 * RoIAlign (src/lib/models/maskrcnn/roi-align.ts) against torchvision 0.14's `roi_align` outputs and
 * backward (test/fixtures/maskrcnn/make_maskrcnn.py), and its gradient against finite differences,
 * on cpu and the fastest backend sifd picks here.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import { roiAlign, type RoiAlignOptions } from '../src/lib/models/maskrcnn/roi-align';
import { readSafetensors } from '../src/lib/weights/safetensors';

const io = readSafetensors(path.join(__dirname, 'fixtures', 'maskrcnn', 'roi_align.io.safetensors')).tensors;
const backends: string[] = ['cpu'];

before(async () => {
  const best = (await initBackend()).backend;
  if (best !== 'cpu') backends.push(best);
});
after(async () => {
  await initBackend();
});

function ref(key: string): tf.Tensor {
  const t = io.get(key);
  assert.ok(t, `fixture has no '${key}'`);
  return tf.tensor(t.data, t.shape);
}

/** The fixture's rois [R,5] (batch, x1, y1, x2, y2) split into boxes and batch indices. */
function rois(): { boxes: Float32Array; batch: Int32Array } {
  const t = io.get('rois')!;
  const r = t.shape[0];
  const boxes = new Float32Array(r * 4);
  const batch = new Int32Array(r);
  for (let i = 0; i < r; i++) {
    batch[i] = t.data[i * 5];
    boxes.set(t.data.subarray(i * 5 + 1, i * 5 + 5), i * 4);
  }
  return { boxes, batch };
}

const CASES: Array<[string, RoiAlignOptions]> = [
  ['7.2', { outputSize: 7, spatialScale: 0.5, samplingRatio: 2 }],
  ['14.2', { outputSize: 14, spatialScale: 0.5, samplingRatio: 2 }],
  ['7.adaptive', { outputSize: 7, spatialScale: 0.5, samplingRatio: -1 }],
  ['14.adaptive', { outputSize: 14, spatialScale: 0.5, samplingRatio: -1 }],
];

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]);
}

test('roiAlign matches torchvision roi_align (aligned=False) and its backward, boxes inside, straddling and outside the map', async () => {
  const { boxes, batch } = rois();
  for (const backend of backends) {
    await tf.setBackend(backend);
    const start = tf.memory().numTensors;
    for (const [tag, opts] of CASES) {
      tf.tidy(() => {
        const x = ref('input').transpose([0, 2, 3, 1]) as tf.Tensor4D; // NHWC
        const g = ref(`upstream.${tag}`).transpose([0, 2, 3, 1]);
        const out = roiAlign(x, boxes, batch, opts);
        const dOut = maxDiff(out, ref(`out.${tag}`).transpose([0, 2, 3, 1]));
        assert.ok(dOut < 1e-5, `${backend} ${tag}: output max |diff| ${dOut}`);
        const grad = tf.grad((f: tf.Tensor) => roiAlign(f as tf.Tensor4D, boxes, batch, opts).mul(g).sum())(x);
        const dGrad = maxDiff(grad, ref(`grad.${tag}`).transpose([0, 2, 3, 1]));
        assert.ok(dGrad < 1e-5, `${backend} ${tag}: gradient max |diff| ${dGrad}`);
      });
    }
    assert.equal(tf.memory().numTensors, start, `${backend}: tensors leaked`);
  }
});

test('roiAlign keeps the caller order when RoIs of different images interleave', () => {
  const { boxes, batch } = rois(); // batch indices 0,0,1,1,0,1,0: interleaved
  tf.tidy(() => {
    const x = ref('input').transpose([0, 2, 3, 1]) as tf.Tensor4D;
    const opts = CASES[0][1];
    const all = roiAlign(x, boxes, batch, opts);
    for (let i = 0; i < batch.length; i++) {
      const one = roiAlign(x, boxes.slice(i * 4, i * 4 + 4), batch.slice(i, i + 1), opts);
      assert.ok(maxDiff(one, all.slice([i, 0, 0, 0], [1, -1, -1, -1])) < 1e-6, `roi ${i}`);
    }
  });
});

test('roiAlign gradient equals central finite differences (it is linear in the features)', () => {
  const start = tf.memory().numTensors;
  const boxes = new Float32Array([1.2, 0.7, 9.9, 6.3, -3, 2, 4, 12]);
  const batch = new Int32Array([0, 1]);
  const opts: RoiAlignOptions = { outputSize: 3, spatialScale: 0.5, samplingRatio: 2 };
  const shape: [number, number, number, number] = [2, 5, 6, 2];
  const values = Float32Array.from({ length: 2 * 5 * 6 * 2 }, (_, i) => Math.sin(i * 1.7));
  const weights = tf.tensor(Float32Array.from({ length: 2 * 3 * 3 * 2 }, (_, i) => Math.cos(i * 0.9)), [2, 3, 3, 2]);
  const loss = (v: Float32Array) => tf.tidy(() => roiAlign(tf.tensor4d(v, shape), boxes, batch, opts).mul(weights).sum().dataSync()[0]);
  const analytic = tf.tidy(() => tf.grad((f: tf.Tensor) => roiAlign(f as tf.Tensor4D, boxes, batch, opts).mul(weights).sum())(tf.tensor4d(values, shape)).dataSync());
  const eps = 1e-2;
  let worst = 0;
  for (let i = 0; i < values.length; i++) {
    const plus = values.slice();
    const minus = values.slice();
    plus[i] += eps;
    minus[i] -= eps;
    worst = Math.max(worst, Math.abs((loss(plus) - loss(minus)) / (2 * eps) - analytic[i]));
  }
  weights.dispose();
  assert.ok(worst < 1e-3, `max |numeric - analytic| ${worst}`);
  assert.ok(analytic.some((v) => v !== 0), 'the gradient reaches the features');
  assert.equal(tf.memory().numTensors, start);
});
