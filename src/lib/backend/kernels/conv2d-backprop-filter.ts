import * as tf from '@tensorflow/tfjs';
import { assertChannelsLast, composeKernel, kernelInput, type WasmBackendLike } from './compose';

/** Largest transposed im2col built at once (floats); the batch is split into blocks to stay under it. */
export let COL_BLOCK_FLOATS = 1 << 24;

/** Tunes the im2col block size (benchmarks only); returns the previous value. */
export function setColBlockFloats(floats: number): number {
  const prev = COL_BLOCK_FLOATS;
  COL_BLOCK_FLOATS = Math.max(1, Math.floor(floats));
  return prev;
}

/**
 * dW of a 2-D convolution as a transposed im2col + one GEMM per batch block:
 * x is moved to [Cin, N, Hp, Wp] once, so each tap slice reshapes to [Cin, P] rows and their concat is
 * colT [kh*kw*Cin, P] (P = n*Ho*Wo); then dW [K, Cout] = colT @ dy [P, Cout], which is already HWIO order.
 * This orientation keeps the packed GEMM operand small (dy) and needs no transpose flag: the wasm BatchMatMul
 * is fast (XNNPACK) only without transpose flags and batch dims, and per-call overhead punishes small blocks.
 */
export function conv2dFilterGrad(
  x: tf.Tensor4D, dy: tf.Tensor4D, info: tf.backend_util.Conv2DInfo, backend?: WasmBackendLike,
): tf.Tensor4D {
  const { batchSize, filterHeight: kh, filterWidth: kw, inChannels: cin, outChannels: cout, outHeight: ho, outWidth: wo } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, padInfo } = info;
  const k = kh * kw * cin;
  // [Cin, N, Hp, Wp]: channels first so a tap slice is Cin contiguous rows over positions.
  const xT = tf.tidy(() =>
    tf.pad(x, [[0, 0], [padInfo.top, padInfo.bottom], [padInfo.left, padInfo.right], [0, 0]]).transpose([3, 0, 1, 2]) as tf.Tensor4D);
  const block = Math.max(1, Math.floor(COL_BLOCK_FLOATS / (ho * wo * k)));
  let acc: tf.Tensor2D | undefined;
  for (let b0 = 0; b0 < batchSize; b0 += block) {
    const nb = Math.min(block, batchSize - b0);
    const part = tf.tidy(() => {
      const colT = backend && sh === 1 && sw === 1
        ? stride1ColT(backend, xT, b0, nb, kh, kw, dh, dw, ho, wo)
        : sliceColT(xT, b0, nb, info); // [K, P]
      const dyb = (nb === batchSize ? dy : dy.slice([b0, 0, 0, 0], [nb, -1, -1, -1])).reshape([nb * ho * wo, cout]); // [P, Cout]
      const partial = tf.matMul(colT, dyb) as tf.Tensor2D; // [K, Cout]
      return acc ? (acc.add(partial) as tf.Tensor2D) : partial;
    });
    acc?.dispose();
    acc = part;
  }
  const dW = acc!.reshape([kh, kw, cin, cout]) as tf.Tensor4D;
  acc!.dispose();
  xT.dispose();
  return dW;
}

/** Transposed im2col from tap slices (any stride/dilation): [kh*kw*Cin, nb*Ho*Wo] for images [n0, n0 + nb). */
function sliceColT(xT: tf.Tensor4D, n0: number, nb: number, info: tf.backend_util.Conv2DInfo): tf.Tensor2D {
  const { filterHeight: kh, filterWidth: kw, inChannels: cin, outHeight: ho, outWidth: wo } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const xb = nb === xT.shape[1] ? xT : xT.slice([0, n0, 0, 0], [cin, nb, -1, -1]);
  const rows: tf.Tensor2D[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const top = i * dh;
      const left = j * dw;
      const tap = sh === 1 && sw === 1
        ? xb.slice([0, 0, top, left], [cin, nb, ho, wo])
        : tf.stridedSlice(xb, [0, 0, top, left], [cin, nb, top + (ho - 1) * sh + 1, left + (wo - 1) * sw + 1], [1, 1, sh, sw]);
      rows.push(tap.reshape([cin, nb * ho * wo])); // [Cin, P]
    }
  }
  return rows.length === 1 ? rows[0] : (tf.concat(rows, 0) as tf.Tensor2D);
}

/**
 * Stride-1 transposed im2col written straight into a wasm tensor with row memcpys (the wasm Slice kernel
 * copies element by element and was the largest cost after the GEMM):
 * colT[(i*kw + j)*Cin + c, (n, y, x)] = xT[c, n0 + n, y + i*dh, x + j*dw], for xT [Cin, N, Hp, Wp] already padded.
 */
function stride1ColT(
  backend: WasmBackendLike, xT: tf.Tensor4D, n0: number, nb: number, kh: number, kw: number, dh: number, dw: number, ho: number, wo: number,
): tf.Tensor2D {
  const [cin, nAll, hp, wp] = xT.shape;
  const p = nb * ho * wo;
  const outInfo = backend.makeOutput([kh * kw * cin, p], 'float32');
  const out = backend.typedArrayFromHeap(outInfo) as Float32Array;
  const src = backend.typedArrayFromHeap(xT) as Float32Array; // after makeOutput: allocation may move the heap
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let c = 0; c < cin; c++) {
        let dst = ((i * kw + j) * cin + c) * p;
        for (let n = 0; n < nb; n++) {
          for (let y = 0; y < ho; y++) {
            const from = ((c * nAll + n0 + n) * hp + y + i * dh) * wp + j * dw;
            out.set(src.subarray(from, from + wo), dst);
            dst += wo;
          }
        }
      }
    }
  }
  return tf.engine().makeTensorFromTensorInfo(outInfo) as tf.Tensor2D;
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
    const wasm = backend as unknown as WasmBackendLike;
    return composeKernel(wasm, [x, dy], (xt, dyt) => conv2dFilterGrad(xt as tf.Tensor4D, dyt as tf.Tensor4D, info, wasm));
  },
};
