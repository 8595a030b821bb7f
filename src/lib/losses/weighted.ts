import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';

/** One named term of a composite loss. */
export interface LossTerm {
  weight: number;
  value: tf.Scalar;
}

/**
 * sum_i w_i L_i. Terms with weight 0 are skipped (their tensors are still the caller's to dispose,
 * which tf.tidy around the forward pass does).
 */
export function weightedSum(terms: Record<string, LossTerm>): tf.Scalar {
  const entries = Object.entries(terms);
  if (entries.length === 0) throw new ConfigError('weightedSum: no loss terms given');
  for (const [name, t] of entries) {
    if (!Number.isFinite(t.weight)) throw new ConfigError(`loss term '${name}' has a non-finite weight ${t.weight}`);
  }
  return tf.tidy(() => {
    let total = tf.scalar(0);
    for (const [, t] of entries) if (t.weight !== 0) total = total.add(t.value.mul(t.weight));
    return total as tf.Scalar;
  });
}
