import * as tf from '@tensorflow/tfjs';

/**
 * Matrix product that stays on tfjs-wasm's fast path (other backends get tf.matMul). Measured on wasm (4.22):
 * a rank-2 non-transposed matMul runs through XNNPACK, but the same product with a transpose
 * flag is ~10x slower, and a batched (batch > 1) BatchMatMul ~20x slower than a loop of 2D
 * products. tfjs's own matMul gradient uses transpose flags, so the gradient is custom too.
 * Batch dimensions of a and b must be equal (no broadcasting).
 */
export function matmul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  // Other backends run batched and transposed products natively: the loop of 2D products would only add ops
  // (on tensorflow, hundreds per SegFormer step, each paying the per-op cost of the JavaScript around it).
  if (tf.getBackend() !== 'wasm') return tf.matMul(a, b, transposeA, transposeB);
  return tf.tidy(() => nn(transposeA ? swapLast(a) : a, transposeB ? swapLast(b) : b));
}

/** Swap the last two axes. */
function swapLast(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, i) => i);
  perm[t.rank - 2] = t.rank - 1;
  perm[t.rank - 1] = t.rank - 2;
  return tf.transpose(t, perm);
}

/** [..., n, k] x [..., k, m] -> [..., n, m] as 2D products, without gradient tracking of its own. */
function rawNN(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    if (a.rank === 2) return tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
    const lead = a.shape.slice(0, -2);
    const [n, k] = a.shape.slice(-2);
    const m = b.shape[b.rank - 1];
    const p = lead.reduce((x, y) => x * y, 1);
    const a3 = a.reshape([p, n, k]);
    const b3 = b.reshape([p, k, m]);
    if (p === 1) return tf.matMul(a3.reshape([n, k]) as tf.Tensor2D, b3.reshape([k, m]) as tf.Tensor2D).reshape([...lead, n, m]);
    const bs = tf.unstack(b3);
    const out = tf.stack(tf.unstack(a3).map((ai, i) => tf.matMul(ai as tf.Tensor2D, bs[i] as tf.Tensor2D)));
    return out.reshape([...lead, n, m]);
  });
}

const nn = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: rawNN(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved;
      return [rawNN(dy, swapLast(sb)), rawNN(swapLast(sa), dy)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
