import * as tf from '@tensorflow/tfjs';
import { simdKernels } from '../simd/kernels';
import { heapOffset, kernelInput, type WasmBackendLike } from './compose';

/**
 * MaxPoolGrad written over the wasm heap. Replaces tfjs-wasm 4.22's native kernel, which routes some windows'
 * gradient to the wrong element (e.g. all-negative windows of a batch's second image); this one matches the cpu
 * backend: each window's dy goes to its first maximum in row-major window order, padding never wins.
 */
export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const dy = kernelInput(inputs, tf.MaxPoolGrad, 'dy');
    const input = kernelInput(inputs, tf.MaxPoolGrad, 'input');
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth, strideHeight, strideWidth } = info;
    const { effectiveFilterHeight: fh, effectiveFilterWidth: fw, dilationHeight, dilationWidth, padInfo } = info;
    const wasm = backend as unknown as WasmBackendLike;
    const out = wasm.makeOutput(input.shape, 'float32');
    const simd = c % 4 === 0 && input.dtype === 'float32' && dy.dtype === 'float32' ? simdKernels(backend) : undefined;
    if (simd) {
      // Four channels at a time: the same first-maximum rule with vector compares, then a scalar scatter.
      simd.maxPoolGrad(heapOffset(wasm, input), heapOffset(wasm, dy), heapOffset(wasm, out), batchSize, inHeight, inWidth, c,
        outHeight, outWidth, fh, fw, strideHeight, strideWidth, dilationHeight, dilationWidth, padInfo.top, padInfo.left);
      return out;
    }
    const dx = wasm.typedArrayFromHeap(out);
    const x = wasm.typedArrayFromHeap(input);
    const g = wasm.typedArrayFromHeap(dy);
    dx.fill(0);
    for (let n = 0; n < batchSize; n++) {
      for (let oy = 0; oy < outHeight; oy++) {
        const y0 = oy * strideHeight - padInfo.top;
        for (let ox = 0; ox < outWidth; ox++) {
          const x0 = ox * strideWidth - padInfo.left;
          const gBase = ((n * outHeight + oy) * outWidth + ox) * c;
          for (let ch = 0; ch < c; ch++) {
            let best = -Infinity;
            let at = -1;
            for (let wy = 0; wy < fh; wy += dilationHeight) {
              const yy = y0 + wy;
              if (yy < 0 || yy >= inHeight) continue;
              for (let wx = 0; wx < fw; wx += dilationWidth) {
                const xx = x0 + wx;
                if (xx < 0 || xx >= inWidth) continue;
                const i = ((n * inHeight + yy) * inWidth + xx) * c + ch;
                if (x[i] > best) {
                  best = x[i];
                  at = i;
                }
              }
            }
            if (at >= 0) dx[at] += g[gBase + ch];
          }
        }
      }
    }
    return out;
  },
};
