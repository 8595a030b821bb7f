import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { contourFromMasks } from '../src/lib/losses/contour';
import { contourBce } from '../src/lib/losses/contour-bce';
import { contourContrastiveLoss, sampleContourPixels } from '../src/lib/losses/contour-contrastive';
import { ConfigError } from '../src/lib/errors';
import { Rng } from '../src/lib/util/random';

// Pure-JS cpu backend: exact enough for finite differences and independent of the native/wasm setup.
tf.setBackend('cpu');

/** A [1,h,w,1] mask with ones in rows y0..y1-1, cols x0..x1-1. */
function rectMask(h: number, w: number, y0: number, y1: number, x0: number, x1: number): tf.Tensor4D {
  const data = new Float32Array(h * w);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data[y * w + x] = 1;
  return tf.tensor4d(data, [1, h, w, 1]);
}

const total = (t: tf.Tensor) => tf.tidy(() => t.sum().dataSync()[0]);

function withoutLeaks(fn: () => void): void {
  const start = tf.memory().numTensors;
  fn();
  assert.equal(tf.memory().numTensors, start, 'tensors leaked');
}

test('contour: morphological gradient of width r is r pixels deep on each side, none at the image border', () => {
  withoutLeaks(() => {
    const m = rectMask(8, 8, 2, 6, 2, 6);
    const c = contourFromMasks(m, 1);
    // dilation 6x6 (36) minus erosion 2x2 (4); inner = 16 - 4, outer = 36 - 16
    assert.equal(total(c.band), 32);
    assert.equal(total(c.inner), 12);
    assert.equal(total(c.outer), 20);
    const wide = contourFromMasks(m, 2);
    assert.equal(total(wide.inner), 16); // the whole 4x4 square is within 2 of its boundary
    const half = rectMask(8, 8, 0, 8, 0, 4);
    const e = contourFromMasks(half, 1);
    assert.equal(total(e.band), 16); // columns 3 and 4 only: the image edge is no contour
    assert.throws(() => contourFromMasks(m, 0), ConfigError);
    tf.dispose([m, c.band, c.inner, c.outer, wide.band, wide.inner, wide.outer, half, e.band, e.inner, e.outer]);
  });
});

test('contour BCE: class-balanced weights, gradient matches finite differences', () => {
  withoutLeaks(() => {
    const m = rectMask(6, 6, 1, 4, 1, 4);
    const target = contourFromMasks(m, 1);
    const rng = new Rng(3);
    const logits = tf.tensor4d(Array.from({ length: 36 }, () => rng.normal()), [1, 6, 6, 1]);
    checkGradient((x) => contourBce(x, target.band), logits);
    // perfect logits give a loss near 0; the opposite a large one
    const perfect = tf.tidy(() => contourBce(target.band.mul(40).sub(20), target.band).dataSync()[0]);
    assert.ok(perfect < 1e-6, `perfect logits: ${perfect}`);
    tf.dispose([m, target.band, target.inner, target.outer, logits]);
  });
});

/** Central finite differences of f at a few coordinates of x against tf.grad (float32: eps 1e-2). */
function checkGradient(f: (x: tf.Tensor4D) => tf.Scalar, x: tf.Tensor4D, coords = 12): void {
  const g = tf.grad((t: tf.Tensor) => f(t as tf.Tensor4D))(x);
  const analytic = g.dataSync();
  const base = x.dataSync();
  const eps = 1e-2;
  let checked = 0;
  for (let k = 0; k < base.length && checked < coords; k += Math.max(1, Math.floor(base.length / coords))) {
    const at = (d: number) =>
      tf.tidy(() => {
        const v = Float32Array.from(base);
        v[k] += d;
        return f(tf.tensor4d(v, x.shape)).dataSync()[0];
      });
    const numeric = (at(eps) - at(-eps)) / (2 * eps);
    assert.ok(Math.abs(numeric - analytic[k]) <= 2e-3 + 2e-2 * Math.abs(numeric), `coord ${k}: numeric ${numeric} vs analytic ${analytic[k]}`);
    checked++;
  }
  g.dispose();
}

test('contour contrastive: sampling is bounded, seeded and side-labelled', () => {
  withoutLeaks(() => {
    const m = rectMask(16, 16, 4, 12, 4, 12);
    const c = contourFromMasks(m, 2);
    const a = sampleContourPixels(c.inner, c.outer, 10, new Rng(1));
    const b = sampleContourPixels(c.inner, c.outer, 10, new Rng(1));
    assert.deepEqual(a, b);
    assert.deepEqual(a.groups, [20]);
    const inner = c.inner.dataSync();
    a.index.forEach((p, i) => assert.equal(inner[p], a.side[i]));
    tf.dispose([m, c.band, c.inner, c.outer]);
  });
});

test('contour contrastive: gradient matches finite differences; lower when the sides separate', () => {
  withoutLeaks(() => {
    const m = rectMask(8, 8, 2, 6, 2, 6);
    const c = contourFromMasks(m, 1);
    const rng = new Rng(5);
    const emb = tf.tensor4d(Array.from({ length: 8 * 8 * 4 }, () => rng.normal()), [1, 8, 8, 4]);
    const opts = () => ({ maxPerSide: 6, temperature: 0.5, rng: new Rng(9) });
    checkGradient((x) => contourContrastiveLoss(x, c.inner, c.outer, opts()), emb, 24);
    // embeddings that already separate the sides: forged side +e1, authentic side -e1
    const sep = tf.tidy(() => m.mul(2).sub(1).mul(tf.tensor1d([1, 0, 0, 0])) as tf.Tensor4D);
    const lSep = contourContrastiveLoss(sep, c.inner, c.outer, opts());
    const lRand = contourContrastiveLoss(emb, c.inner, c.outer, opts());
    assert.ok(lSep.dataSync()[0] < lRand.dataSync()[0], `separated ${lSep.dataSync()[0]} vs random ${lRand.dataSync()[0]}`);
    tf.dispose([m, c.band, c.inner, c.outer, emb, sep, lSep, lRand]);
  });
});

test('contour contrastive: exactly zero, with zero gradients, where there is no contour', () => {
  withoutLeaks(() => {
    const emb = tf.randomNormal([2, 8, 8, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
    for (const m of [tf.zeros([2, 8, 8, 1]), tf.ones([2, 8, 8, 1])] as tf.Tensor4D[]) {
      const c = contourFromMasks(m, 1);
      const f = (x: tf.Tensor) => contourContrastiveLoss(x as tf.Tensor4D, c.inner, c.outer, { maxPerSide: 8, temperature: 0.1, rng: new Rng(0) });
      const { value, grad } = tf.valueAndGrad(f)(emb);
      assert.ok(value.dataSync()[0] === 0, `loss ${value.dataSync()[0]}`); // -0 counts as 0
      assert.equal(tf.tidy(() => grad.abs().max().dataSync()[0]), 0);
      tf.dispose([m, c.band, c.inner, c.outer, value, grad]);
    }
    emb.dispose();
  });
});
