import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../errors';
import { classMatrix } from './token-labels';

/**
 * Pushes the classes of one image apart: the class means (authentic and each event), L2-normalised,
 * and for every pair of distinct classes the hinge max(0, cos(mu_a, mu_b) - margin); the loss is the
 * mean over pairs (0 with fewer than two classes). Distinct events must not merge into one cluster,
 * and no event may sit on the background's cluster.
 */
export function interInstanceSeparationLoss(z: tf.Tensor2D, labels: Int32Array, margin = 0): tf.Scalar {
  const [n] = z.shape;
  if (labels.length !== n) throw new ModelError(`InterInstanceSeparationLoss: ${labels.length} labels for ${n} embeddings`);
  const { onehot, counts } = classMatrix(labels);
  const k = counts.length;
  return tf.tidy(() => {
    if (k < 2) return z.sum().mul(0) as tf.Scalar;
    const sums = tf.matMul(tf.tensor2d(onehot, [k, n]), z); // [K,D]; the norm makes sum and mean the same direction
    const unit = sums.div(sums.square().sum(1, true).add(1e-12).sqrt());
    const cos = tf.matMul(unit, unit, false, true); // [K,K]
    const upper = new Float32Array(k * k);
    for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) upper[a * k + b] = 1;
    const pairs = (k * (k - 1)) / 2;
    return tf.relu(cos.sub(margin)).mul(tf.tensor2d(upper, [k, k])).sum().div(pairs) as tf.Scalar;
  });
}
