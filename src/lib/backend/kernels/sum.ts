import * as tf from '@tensorflow/tfjs';
import { simdKernels } from '../simd/kernels';
import { heapOffset, kernelInput, type WasmBackendLike } from './compose';

/** The package's own Sum, for every case ours leaves to it. Set when ours is registered. */
let stockSum: tf.KernelFunc | undefined;

/**
 * Sum over the LEADING axes of a float32 tensor (a bias gradient: dy [N, H, W, C] summed to [C]) in one pass over
 * the heap with float64 accumulators, like the cpu backend. The package's kernel reduces only innermost axes, so it
 * transposes the whole tensor first; every other case still goes to it.
 */
export const sumConfig: tf.KernelConfig = {
  kernelName: tf.Sum,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { inputs, backend, attrs } = args;
    const x = kernelInput(inputs, tf.Sum, 'x');
    const { axis, keepDims } = attrs as unknown as tf.SumAttrs;
    const rank = x.shape.length;
    const axes = [...new Set(tf.util.parseAxisParam(axis, x.shape))].sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
    const total = x.shape.reduce((a, b) => a * b, 1);
    if (!leading || x.dtype !== 'float32' || total === 0) {
      if (!stockSum) throw new Error('Sum: the stock wasm kernel was not captured');
      return stockSum(args);
    }
    const inner = x.shape.slice(axes.length).reduce((a, b) => a * b, 1);
    const rows = total / inner;
    const outShape = keepDims ? x.shape.map((d, i) => (i < axes.length ? 1 : d)) : x.shape.slice(axes.length);
    const wasm = backend as unknown as WasmBackendLike;
    const out = wasm.makeOutput(outShape, 'float32');
    const simd = simdKernels(backend);
    if (simd) {
      simd.sumLeading(heapOffset(wasm, x), heapOffset(wasm, out), rows, inner);
      return out;
    }
    const src = wasm.typedArrayFromHeap(x) as Float32Array;
    const acc = new Float64Array(inner);
    for (let r = 0, at = 0; r < rows; r++) {
      for (let c = 0; c < inner; c++) acc[c] += src[at++];
    }
    (wasm.typedArrayFromHeap(out) as Float32Array).set(acc);
    return out;
  },
};

/** Remembers the package's Sum before ours replaces it (idempotent: never captures our own). */
export function captureStockSum(existing: tf.KernelConfig | undefined): void {
  if (existing && existing.kernelFunc !== sumConfig.kernelFunc) stockSum = existing.kernelFunc;
}
