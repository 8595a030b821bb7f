import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../errors';
import { classMatrix } from './token-labels';

/**
 * Intra-cluster variance of one image's tokens: for each class with at least two tokens (authentic
 * and every event, as in pixelSupConLoss), the mean squared distance of its embeddings to their
 * class mean; the loss is the mean over those classes (0 when there is none). It tightens what the
 * contrastive term only orders, so the decoder's density clustering finds compact cores.
 */
export function uniformityLoss(z: tf.Tensor2D, labels: Int32Array): tf.Scalar {
  const [n] = z.shape;
  if (labels.length !== n) throw new ModelError(`UniformityLoss: ${labels.length} labels for ${n} embeddings`);
  const { onehot, counts } = classMatrix(labels);
  const k = counts.length;
  const used = counts.filter((c) => c >= 2).length;
  return tf.tidy(() => {
    if (used === 0) return z.sum().mul(0) as tf.Scalar;
    const member = tf.tensor2d(onehot, [k, n]);
    const inv = tf.tensor2d(counts.map((c) => (c >= 2 ? 1 / c : 0)), [k, 1]);
    const means = tf.matMul(member, z).mul(tf.tensor2d(counts.map((c) => 1 / c), [k, 1])); // [K,D]
    const residual = z.sub(tf.matMul(member, means, true, false)); // [n,D]: z_i - mean of its class
    const sq = residual.square().sum(1).reshape([n, 1]);
    return tf.matMul(member, sq).mul(inv).sum().div(used) as tf.Scalar;
  });
}
