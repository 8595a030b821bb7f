import * as tf from '@tensorflow/tfjs';
import { convPadded } from '../backbones/layers';
import type { ParamStore } from '../params';

/**
 * The head layers of torchvision's Mask R-CNN with its initialisations (RPN convs normal(0.01),
 * mask convs kaiming fan_out, linears close to PyTorch's default), parameters named `w`/`b` as the
 * weight maps expect. Weights are drawn from the store's seeded Rng.
 */

/** Conv2d k x k, stride 1, PyTorch padding (k-1)/2, with bias; weights N(0, std) truncated at 2 std. */
export function makeHeadConv(p: ParamStore, prefix: string, cin: number, cout: number, k: number, std: number): (x: tf.Tensor4D) => tf.Tensor4D {
  const w = p.truncNormal(`${prefix}/w`, [k, k, cin, cout], std) as tf.Tensor4D;
  const b = p.zeros(`${prefix}/b`, [cout]);
  const pad = (k - 1) / 2;
  return (x) => tf.tidy(() => convPadded(x, w, { stride: 1, dilation: 1, pad, depthwise: false }).add(b) as tf.Tensor4D);
}

/** kaiming_normal_(mode='fan_out', nonlinearity='relu'): std sqrt(2 / (k * k * cout)). */
export function kaimingFanOut(k: number, cout: number): number {
  return Math.sqrt(2 / (k * k * cout));
}

/**
 * Linear in -> out ([N,in] x w [in,out] + b). PyTorch's default init is U(+-1/sqrt(in)) for both;
 * here a (truncated) normal of the same std for the weight and zero bias: the training start differs
 * in distribution only, and imported weights replace it anyway.
 */
export function makeLinear(p: ParamStore, prefix: string, cin: number, cout: number, std = 1 / Math.sqrt(3 * cin)): (x: tf.Tensor2D) => tf.Tensor2D {
  const w = p.truncNormal(`${prefix}/w`, [cin, cout], std) as tf.Tensor2D;
  const b = p.zeros(`${prefix}/b`, [cout]);
  return (x) => tf.tidy(() => tf.matMul(x, w).add(b) as tf.Tensor2D);
}

/** ConvTranspose2d kernel 2, stride 2 (the mask predictor's upsampling); w [2,2,cout,cin] as tfjs wants it. */
export function makeUpConv(p: ParamStore, prefix: string, cin: number, cout: number): (x: tf.Tensor4D) => tf.Tensor4D {
  const w = p.truncNormal(`${prefix}/w`, [2, 2, cout, cin], kaimingFanOut(2, cout)) as tf.Tensor4D;
  const b = p.zeros(`${prefix}/b`, [cout]);
  return (x) =>
    tf.tidy(() => {
      const [n, h, wd] = x.shape;
      return tf.conv2dTranspose(x, w, [n, 2 * h, 2 * wd, cout], 2, 'valid').add(b) as tf.Tensor4D;
    });
}
