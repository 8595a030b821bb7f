import * as tf from '@tensorflow/tfjs';
import { ConfigError, ModelError } from '../errors';

/**
 * Supervised contrastive loss (Khosla et al. 2020, L_out) over the tokens of one image: z [n,D]
 * L2-normalised embeddings, one label each (tokenLabels). For every anchor i with at least one
 * positive, -mean over positives p of log( exp(z_i.z_p / t) / sum_{a != i} exp(z_i.z_a / t) );
 * the loss is the mean over those anchors (0 when none has a positive).
 *
 * Authentic tokens (label 0) are a class of their own: positives of each other, negatives of every
 * event. So the authentic part of an image gathers in one place of the metric space and each event
 * (its source and copies alike) in another, which is what the cascade decoder relies on (the
 * largest cluster is the background; the others are events). Treating authentic tokens as
 * negatives only would leave repeated plain background (blank panels, gel lanes) free to cluster
 * like a clone.
 */
export function pixelSupConLoss(z: tf.Tensor2D, labels: Int32Array, temperature = 0.1): tf.Scalar {
  if (!(temperature > 0)) throw new ConfigError(`PixelSupConLoss temperature must be > 0, got ${temperature}`);
  const [n] = z.shape;
  if (labels.length !== n) throw new ModelError(`PixelSupConLoss: ${labels.length} labels for ${n} embeddings`);
  const pos = new Float32Array(n * n);
  const counts = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i !== j && labels[i] === labels[j]) (pos[i * n + j] = 1), (counts[i] += 1);
    }
  }
  const anchors = counts.reduce((a, c) => a + (c > 0 ? 1 : 0), 0);
  return tf.tidy(() => {
    if (anchors === 0) return z.sum().mul(0) as tf.Scalar;
    const sim = tf.matMul(z, z, false, true).div(temperature); // [n,n]
    // the anchor itself is no candidate: a large negative logit, whose softmax weight (and gradient) is 0
    const selfMask = tf.eye(n).mul(-1e9);
    const logProb = sim.sub(tf.logSumExp(sim.add(selfMask), 1, true));
    const weights = Float32Array.from(pos, (v, k) => (v ? v / counts[Math.floor(k / n)] : 0));
    const perAnchor = logProb.mul(tf.tensor2d(weights, [n, n])).sum(1); // mean log-prob of positives
    return perAnchor.sum().div(-anchors) as tf.Scalar;
  });
}
