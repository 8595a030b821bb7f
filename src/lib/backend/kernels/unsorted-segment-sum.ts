import * as tf from '@tensorflow/tfjs';
import { kernelInput, type WasmBackendLike } from './compose';

/**
 * out[s, ...] = sum of x[i, ...] over every i with segmentIds[i] = s (ids out of [0, numSegments) are dropped,
 * as in TensorFlow). segmentIds may have rank k <= rank(x); it covers x's first k dims.
 * Written as one pass over the wasm heap: it is a scatter-add, which no native wasm kernel provides.
 */
export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = kernelInput(inputs, tf.UnsortedSegmentSum, 'x');
    const segmentIds = kernelInput(inputs, tf.UnsortedSegmentSum, 'segmentIds');
    const { numSegments } = attrs as unknown as tf.UnsortedSegmentSumAttrs;
    const wasm = backend as unknown as WasmBackendLike;
    const idRank = segmentIds.shape.length;
    if (segmentIds.dtype !== 'int32') throw new Error(`UnsortedSegmentSum: segmentIds must be int32, got ${segmentIds.dtype}`);
    if (segmentIds.shape.some((d, i) => d !== x.shape[i])) {
      throw new Error(`UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] must be a prefix of x shape [${x.shape}]`);
    }
    const inner = x.shape.slice(idRank);
    const innerSize = inner.reduce((a, b) => a * b, 1);
    const out = wasm.makeOutput([numSegments, ...inner], x.dtype);
    const o = wasm.typedArrayFromHeap(out);
    const xs = wasm.typedArrayFromHeap(x);
    const ids = wasm.typedArrayFromHeap(segmentIds);
    o.fill(0);
    for (let i = 0; i < ids.length; i++) {
      const s = ids[i];
      if (s < 0 || s >= numSegments) continue;
      const src = i * innerSize;
      const dst = s * innerSize;
      for (let e = 0; e < innerSize; e++) o[dst + e] += xs[src + e];
    }
    return out;
  },
};
