import * as tf from '@tensorflow/tfjs';
import { assertChannelsLast, composeKernel, kernelInput, insertStrideZeros, transposedPads, type WasmBackendLike } from './compose';

/**
 * dx of a 2-D convolution as one forward convolution (XNNPACK): dy spread onto the stride grid, convolved with
 * the filter flipped in H/W and with in/out channels swapped ([kh, kw, Cout, Cin]). Replaces tfjs-wasm's scalar
 * loop kernel, which dominated the backward pass.
 */
export function conv2dInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { inHeight, inWidth, outHeight, outWidth, strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, padInfo } = info;
  const flipped = tf.reverse(filter, [0, 1]).transpose([0, 1, 3, 2]) as tf.Tensor4D; // [kh, kw, Cout, Cin]
  const spread = insertStrideZeros(dy, sh, sw);
  const [top, bottom] = transposedPads(inHeight, outHeight, sh, kh, padInfo.top);
  const [left, right] = transposedPads(inWidth, outWidth, sw, kw, padInfo.left);
  const pads: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0], [Math.max(top, 0), Math.max(bottom, 0)], [Math.max(left, 0), Math.max(right, 0)], [0, 0]];
  let dx = tf.conv2d(spread, flipped, 1, pads);
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    // Negative pads: the forward pad exceeded the kernel reach, so the result starts inside the full output.
    dx = dx.slice([0, Math.max(-top, 0), Math.max(-left, 0), 0], [-1, inHeight, inWidth, -1]);
  }
  return dx;
}

export const conv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const dy = kernelInput(inputs, tf.Conv2DBackpropInput, 'dy');
    const filter = kernelInput(inputs, tf.Conv2DBackpropInput, 'filter');
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
    assertChannelsLast(tf.Conv2DBackpropInput, dataFormat);
    const info = tf.backend_util.computeConv2DInfo(
      inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    return composeKernel(backend as unknown as WasmBackendLike, [dy, filter], (dyt, ft) =>
      conv2dInputGrad(dyt as tf.Tensor4D, ft as tf.Tensor4D, info));
  },
};
