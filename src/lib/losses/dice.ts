import * as tf from '@tensorflow/tfjs';

/**
 * Soft Dice loss, per sample then averaged: 1 - (2 sum(p t) + s) / (sum p + sum t + s).
 * `probs` and `target` are [B,...] with values in [0,1]; `smooth` keeps empty-vs-empty at loss 0.
 */
export function diceLoss(probs: tf.Tensor, target: tf.Tensor, smooth = 1): tf.Scalar {
  return tf.tidy(() => {
    const b = probs.shape[0] ?? 1;
    const p = probs.reshape([b, -1]); // [B,N]
    const t = target.reshape([b, -1]);
    const inter = p.mul(t).sum(1); // [B]
    const denom = p.sum(1).add(t.sum(1));
    const dice = inter.mul(2).add(smooth).div(denom.add(smooth));
    return tf.scalar(1).sub(dice.mean()) as tf.Scalar;
  });
}
