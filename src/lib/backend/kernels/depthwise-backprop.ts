import * as tf from '@tensorflow/tfjs';
import { simdKernels } from '../simd/kernels';
import { composeKernel, heapOffset, kernelInput, insertStrideZeros, padOrCrop, tapSlice, transposedPads, type WasmBackendLike } from './compose';

/**
 * dW of a depthwise convolution, one tap at a time: dW[i, j, c, m] = sum over (n, y, x) of
 * x_tap(i, j)[n, y, x, c] * dy[n, y, x, c*M + m]. Every op is a native wasm kernel (slice, multiply, sum).
 */
export function depthwiseFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { filterHeight: kh, filterWidth: kw, inChannels: c, outChannels, outHeight: ho, outWidth: wo, padInfo } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, batchSize: n } = info;
  const mult = outChannels / c;
  const xp = tf.pad(x, [[0, 0], [padInfo.top, padInfo.bottom], [padInfo.left, padInfo.right], [0, 0]]);
  const dy5 = dy.reshape([n, ho, wo, c, mult]); // channel c*M + m -> [c, m]
  const taps: tf.Tensor2D[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const tap = tapSlice(xp, i, j, ho, wo, sh, sw, dh, dw); // [N, Ho, Wo, C]
      taps.push(tf.mul(tap.expandDims(4), dy5).sum([0, 1, 2]) as tf.Tensor2D); // [C, M]
    }
  }
  return tf.stack(taps).reshape([kh, kw, c, mult]) as tf.Tensor4D;
}

/**
 * dx of a depthwise convolution: for each multiplier slot m, a stride-1 depthwise convolution of the
 * stride-spread dy[..., c*M + m] with the H/W-flipped filter[:, :, c, m] (same dilation), summed over m.
 */
export function depthwiseInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { inHeight, inWidth, inChannels: c, outChannels, outHeight, outWidth, padInfo, batchSize: n } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, effectiveFilterHeight, effectiveFilterWidth } = info;
  const mult = outChannels / c;
  const spread = insertStrideZeros(dy, sh, sw);
  const [top, bottom] = transposedPads(inHeight, outHeight, sh, effectiveFilterHeight, padInfo.top);
  const [left, right] = transposedPads(inWidth, outWidth, sw, effectiveFilterWidth, padInfo.left);
  const padded = padOrCrop(spread, top, bottom, left, right); // [N, H + effK - 1, W + effK - 1, C*M]
  const flipped = tf.reverse(filter, [0, 1]); // [kh, kw, C, M]
  const [, hp, wp] = padded.shape;
  const perSlot = mult === 1 ? [padded] : tf.unstack(padded.reshape([n, hp, wp, c, mult]), 4) as tf.Tensor4D[];
  const filters = mult === 1 ? [flipped] : tf.unstack(flipped, 3).map((f) => f.expandDims(3) as tf.Tensor4D);
  let dx: tf.Tensor4D | undefined;
  for (let m = 0; m < mult; m++) {
    const part = tf.depthwiseConv2d(perSlot[m], filters[m], 1, 'valid', 'NHWC', [dh, dw]);
    dx = dx ? (dx.add(part) as tf.Tensor4D) : part;
  }
  return dx!;
}

function depthwiseInfo(xShape: number[], filterShape: number[], attrs: tf.DepthwiseConv2dNativeBackpropFilterAttrs | tf.DepthwiseConv2dNativeBackpropInputAttrs) {
  const { strides, dilations, pad, dimRoundingMode } = attrs;
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    strides, dilations, pad, dimRoundingMode, true);
}

/**
 * dW of a depthwise convolution in one pass over the wasm heap (float64 accumulators, like the cpu backend):
 * dW[i, j, c, m] = sum over (n, y, x) of xpad[n, y*sh + i*dh, x*sw + j*dw, c] * dy[n, y, x, c*M + m].
 * The tf-op composition above (a tap slice, multiply and a Sum that transposes, per tap) was ~5x slower.
 */
export function depthwiseFilterGradHeap(
  backend: WasmBackendLike, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outChannels, outHeight: ho, outWidth: wo, padInfo } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const mult = outChannels / c;
  const cm = c * mult;
  const acc = new Float64Array(kh * kw * cm);
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < ho; y++) {
      for (let i = 0; i < kh; i++) {
        const yy = y * sh + i * dh - padInfo.top;
        if (yy < 0 || yy >= h) continue;
        for (let xo = 0; xo < wo; xo++) {
          const gBase = ((b * ho + y) * wo + xo) * cm;
          for (let j = 0; j < kw; j++) {
            const xx = xo * sw + j * dw - padInfo.left;
            if (xx < 0 || xx >= w) continue;
            const xBase = ((b * h + yy) * w + xx) * c;
            const aBase = (i * kw + j) * cm;
            if (mult === 1) {
              for (let ch = 0; ch < c; ch++) acc[aBase + ch] += xs[xBase + ch] * g[gBase + ch];
            } else {
              for (let ch = 0; ch < c; ch++) {
                const xv = xs[xBase + ch];
                const at = ch * mult;
                for (let m = 0; m < mult; m++) acc[aBase + at + m] += xv * g[gBase + at + m];
              }
            }
          }
        }
      }
    }
  }
  const out = backend.makeOutput([kh, kw, c, mult], 'float32');
  (backend.typedArrayFromHeap(out) as Float32Array).set(acc);
  return out;
}

export const depthwiseBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = kernelInput(inputs, tf.DepthwiseConv2dNativeBackpropFilter, 'x');
    const dy = kernelInput(inputs, tf.DepthwiseConv2dNativeBackpropFilter, 'dy');
    const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
    const info = depthwiseInfo(x.shape, a.filterShape, a);
    const wasm = backend as unknown as WasmBackendLike;
    const simd = info.outChannels === info.inChannels && info.inChannels % 4 === 0 && x.dtype === 'float32' && dy.dtype === 'float32'
      ? simdKernels(backend) : undefined;
    if (simd) {
      // sifd's SIMD kernel (multiplier 1, channels in fours): the same sum with f32 vectors, straight from the heap.
      const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo, padInfo } = info;
      const out = wasm.makeOutput([info.filterHeight, info.filterWidth, c, 1], 'float32');
      simd.depthwiseFilterGrad(heapOffset(wasm, x), heapOffset(wasm, dy), heapOffset(wasm, out), n, h, w, c, ho, wo, c,
        info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
        padInfo.top, padInfo.left);
      return out;
    }
    return depthwiseFilterGradHeap(wasm, x, dy, info);
  },
};

export const depthwiseBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const dy = kernelInput(inputs, tf.DepthwiseConv2dNativeBackpropInput, 'dy');
    const filter = kernelInput(inputs, tf.DepthwiseConv2dNativeBackpropInput, 'filter');
    const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
    const info = depthwiseInfo(a.inputShape, filter.shape, a);
    return composeKernel(backend as unknown as WasmBackendLike, [dy, filter], (dyt, ft) =>
      depthwiseInputGrad(dyt as tf.Tensor4D, ft as tf.Tensor4D, info));
  },
};
