import * as tf from '@tensorflow/tfjs';
import { assertChannelsLast, composeKernel, kernelInput, tapSlice, type WasmBackendLike } from './compose';

/** Largest im2col block built at once (floats); the batch is split to stay under it. */
const MAX_COL_FLOATS = 16 * 1024 * 1024;

/**
 * dW of a 2-D convolution as im2col + one GEMM per batch block:
 * col [P, kh*kw*Cin] is the concat of the kh*kw tap slices (P = n*Ho*Wo), dW^T [Cout, K] = dy^T [Cout, P] @ col.
 * dy^T is materialised because the wasm BatchMatMul is fast (XNNPACK) only without transpose flags.
 */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { batchSize, filterHeight: kh, filterWidth: kw, inChannels: cin, outChannels: cout, outHeight: ho, outWidth: wo } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, padInfo } = info;
  const k = kh * kw * cin;
  const xp = tf.pad(x, [[0, 0], [padInfo.top, padInfo.bottom], [padInfo.left, padInfo.right], [0, 0]]);
  const block = Math.max(1, Math.floor(MAX_COL_FLOATS / (ho * wo * k)));
  let acc: tf.Tensor2D | undefined;
  for (let b0 = 0; b0 < batchSize; b0 += block) {
    const nb = Math.min(block, batchSize - b0);
    const part = tf.tidy(() => {
      const xb = nb === batchSize ? xp : xp.slice([b0, 0, 0, 0], [nb, -1, -1, -1]);
      const dyb = nb === batchSize ? dy : dy.slice([b0, 0, 0, 0], [nb, -1, -1, -1]);
      const taps: tf.Tensor4D[] = [];
      for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) taps.push(tapSlice(xb, i, j, ho, wo, sh, sw, dh, dw));
      const col = (taps.length === 1 ? taps[0] : tf.concat(taps, 3)).reshape([nb * ho * wo, k]); // [P, K]
      const dyT = dyb.reshape([nb * ho * wo, cout]).transpose(); // [Cout, P]
      const partial = tf.matMul(dyT, col) as tf.Tensor2D; // [Cout, K]
      return acc ? (acc.add(partial) as tf.Tensor2D) : partial;
    });
    acc?.dispose();
    acc = part;
  }
  const dW = tf.tidy(() => acc!.transpose().reshape([kh, kw, cin, cout]) as tf.Tensor4D);
  acc!.dispose();
  xp.dispose();
  return dW;
}

export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = kernelInput(inputs, tf.Conv2DBackpropFilter, 'x');
    const dy = kernelInput(inputs, tf.Conv2DBackpropFilter, 'dy');
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    assertChannelsLast(tf.Conv2DBackpropFilter, dataFormat);
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    return composeKernel(backend as unknown as WasmBackendLike, [x, dy], (xt, dyt) =>
      conv2dFilterGrad(xt as tf.Tensor4D, dyt as tf.Tensor4D, info));
  },
};
