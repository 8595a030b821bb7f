import * as tf from '@tensorflow/tfjs';

/**
 * Dropout whose masks come from a seed fixed at build time (advanced by one per call), so a run
 * with the same seed drops the same units: tf.dropout alone draws from an unseeded generator.
 * Rate 0 is the identity.
 */
export function seededDropout(rate: number, seed: number): (x: tf.Tensor4D) => tf.Tensor4D {
  let calls = 0;
  return (x) => (rate > 0 ? (tf.dropout(x, rate, undefined, (seed + calls++) >>> 0) as tf.Tensor4D) : x);
}
