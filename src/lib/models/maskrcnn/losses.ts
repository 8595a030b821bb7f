import * as tf from '@tensorflow/tfjs';

/**
 * The losses of torchvision's Mask R-CNN that sifd's losses/ lacks (its BCE is reused).
 */

/** sum(smooth_l1(pred - target)) with PyTorch's `beta` (quadratic below beta, linear above). */
export function smoothL1Sum(pred: tf.Tensor, target: tf.Tensor, beta: number): tf.Scalar {
  return tf.tidy(() => {
    // with m = min(|d|, beta): 0.5 m^2 / beta + (|d| - m), branch-free so tfjs differentiates it
    const d = pred.sub(target).abs();
    const m = tf.minimum(d, beta);
    return m.square().mul(0.5 / beta).add(d.sub(m)).sum() as tf.Scalar;
  });
}

/** Mean cross-entropy of logits [N,K] against integer labels (F.cross_entropy). */
export function crossEntropy(logits: tf.Tensor2D, labels: Int32Array): tf.Scalar {
  return tf.tidy(() => {
    const k = logits.shape[1];
    const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), k);
    return tf.logSoftmax(logits).mul(onehot).sum(1).mean().neg() as tf.Scalar;
  });
}

/** Rows `rows` of a tensor (an int32 index gather; differentiable w.r.t. `x`). */
export function takeRows<T extends tf.Tensor>(x: T, rows: readonly number[]): T {
  return tf.tidy(() => tf.gather(x, tf.tensor1d(Int32Array.from(rows), 'int32')) as T);
}
