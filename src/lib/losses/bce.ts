import * as tf from '@tensorflow/tfjs';

/**
 * Binary cross-entropy on logits, numerically stable: mean(max(x,0) - x t + log(1 + exp(-|x|))).
 */
export function bceWithLogits(logits: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => elementwiseBce(logits, target).mean() as tf.Scalar);
}

/**
 * Focal loss on logits (Lin et al. 2017): mean(alpha_t (1 - p_t)^gamma BCE).
 * alpha weights the positive class; alpha < 0 disables the class weighting.
 */
export function focalWithLogits(logits: tf.Tensor, target: tf.Tensor, alpha = 0.25, gamma = 2): tf.Scalar {
  return tf.tidy(() => {
    const ce = elementwiseBce(logits, target);
    const p = tf.sigmoid(logits);
    const pt = p.mul(target).add(tf.scalar(1).sub(p).mul(tf.scalar(1).sub(target)));
    let loss = tf.scalar(1).sub(pt).pow(gamma).mul(ce);
    if (alpha >= 0) {
      const at = target.mul(alpha).add(tf.scalar(1).sub(target).mul(1 - alpha));
      loss = loss.mul(at);
    }
    return loss.mean() as tf.Scalar;
  });
}

function elementwiseBce(logits: tf.Tensor, target: tf.Tensor): tf.Tensor {
  return tf.relu(logits).sub(logits.mul(target)).add(tf.log1p(tf.exp(tf.abs(logits).neg())));
}
