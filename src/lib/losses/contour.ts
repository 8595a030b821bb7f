import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';

/**
 * The manipulation contour of a mask by a morphological gradient: dilation minus erosion with a
 * (2r+1)x(2r+1) square, r = `width`. The band is r pixels deep on each side of the boundary: `inner`
 * on the forged side (mask and contour), `outer` on the authentic side. Max-pooling with 'same'
 * padding ignores the padded cells, so the image border is not a contour. Inputs are targets: no
 * gradient flows through this. masks [B,H,W,1] 0/1 -> three [B,H,W,1] 0/1 maps; caller disposes.
 */
export interface Contour {
  band: tf.Tensor4D;
  inner: tf.Tensor4D;
  outer: tf.Tensor4D;
}

export function contourFromMasks(masks: tf.Tensor4D, width: number): Contour {
  if (!Number.isInteger(width) || width < 1) throw new ConfigError(`contour width must be an integer >= 1, got ${width}`);
  return tf.tidy(() => {
    const k = 2 * width + 1;
    const dilated = tf.maxPool(masks, k, 1, 'same');
    const eroded = tf.maxPool(masks.neg(), k, 1, 'same').neg();
    const band = dilated.sub(eroded) as tf.Tensor4D;
    return { band, inner: band.mul(masks) as tf.Tensor4D, outer: band.mul(tf.scalar(1).sub(masks)) as tf.Tensor4D };
  });
}
