import * as tf from '@tensorflow/tfjs';
import { assertChannelsLast, composeKernel, kernelInput, tapSlice, type WasmBackendLike } from './compose';

/**
 * Floats of im2col built per GEMM. Small blocks keep col and the packed GEMM operand in cache: one big
 * [P, K] block ran 3-10x slower per FLOP here than row blocks of this size (measured with bench/train-step).
 */
export let COL_BLOCK_FLOATS = 1 << 20;

/** Tunes the im2col block size (benchmarks only); returns the previous value. */
export function setColBlockFloats(floats: number): number {
  const prev = COL_BLOCK_FLOATS;
  COL_BLOCK_FLOATS = Math.max(1, Math.floor(floats));
  return prev;
}

/**
 * dW of a 2-D convolution as im2col + GEMM over blocks of output rows of one image:
 * col [Pb, kh*kw*Cin] is the concat of the kh*kw tap slices of the rows' input band (Pb = rows*Wo), and
 * dW^T [Cout, K] += dy_b^T [Cout, Pb] @ col. dy^T is materialised because the wasm BatchMatMul is fast
 * (XNNPACK) only without transpose flags and without a batch dimension.
 */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { batchSize, filterHeight: kh, filterWidth: kw, inChannels: cin, outChannels: cout, outHeight: ho, outWidth: wo } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, padInfo } = info;
  const k = kh * kw * cin;
  const xp = tf.pad(x, [[0, 0], [padInfo.top, padInfo.bottom], [padInfo.left, padInfo.right], [0, 0]]);
  const wp = xp.shape[2];
  const rows = Math.max(1, Math.min(ho, Math.floor(COL_BLOCK_FLOATS / (wo * k))));
  let acc: tf.Tensor2D | undefined;
  for (let n = 0; n < batchSize; n++) {
    for (let y0 = 0; y0 < ho; y0 += rows) {
      const nr = Math.min(rows, ho - y0);
      const part = tf.tidy(() => {
        // Input band feeding output rows [y0, y0 + nr): [1, (nr-1)*sh + (kh-1)*dh + 1, Wp, Cin]
        const bandH = (nr - 1) * sh + (kh - 1) * dh + 1;
        const band = xp.slice([n, y0 * sh, 0, 0], [1, bandH, wp, cin]);
        const taps: tf.Tensor4D[] = [];
        for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) taps.push(tapSlice(band, i, j, nr, wo, sh, sw, dh, dw));
        const col = (taps.length === 1 ? taps[0] : tf.concat(taps, 3)).reshape([nr * wo, k]); // [Pb, K]
        const dyT = dy.slice([n, y0, 0, 0], [1, nr, wo, cout]).reshape([nr * wo, cout]).transpose(); // [Cout, Pb]
        const partial = tf.matMul(dyT, col) as tf.Tensor2D; // [Cout, K]
        return acc ? (acc.add(partial) as tf.Tensor2D) : partial;
      });
      acc?.dispose();
      acc = part;
    }
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
