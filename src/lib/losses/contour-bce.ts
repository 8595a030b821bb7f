import * as tf from '@tensorflow/tfjs';

/**
 * Contour binary cross-entropy on logits, class-balanced as HED (Xie & Tu, 2015) balances its edge
 * loss, because contour pixels are a few percent of an image: positives weigh |negatives| / |all|,
 * negatives |positives| / |all| (per batch), the weighted sum divided by the pixel count. With no
 * contour pixel at all every pixel weighs 1 (plain BCE towards "no contour"), so authentic images
 * still teach the head to stay quiet. logits, target [B,H,W,1]; target 0/1.
 */
export function contourBce(logits: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const n = target.size;
    const pos = target.sum().dataSync()[0];
    const wPos = pos > 0 ? (n - pos) / n : 1;
    const wNeg = pos > 0 ? pos / n : 1;
    const weights = target.mul(wPos).add(tf.scalar(1).sub(target).mul(wNeg));
    const ce = tf.relu(logits).sub(logits.mul(target)).add(tf.log1p(tf.exp(tf.abs(logits).neg())));
    return ce.mul(weights).sum().div(n) as tf.Scalar;
  });
}
