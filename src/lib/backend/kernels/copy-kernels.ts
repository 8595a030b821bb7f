import * as tf from '@tensorflow/tfjs';
import { simdKernels } from '../simd/kernels';
import { heapOffset, kernelInput, type WasmBackendLike } from './compose';

type Heap = Float32Array | Int32Array | Uint8Array;

/**
 * Copies `rows` rows of `len` elements from src (row stride srcStride, from srcAt) to dst (row stride dstStride,
 * from dstAt). Short rows (channels of an NHWC tensor) go element by element: a subarray per row costs more than
 * the copy itself, and the native wasm Slice kernel (behind SplitV) copies element by element with index math.
 */
export function copyRows(
  dst: Heap, dstAt: number, dstStride: number, src: Heap, srcAt: number, srcStride: number, rows: number, len: number,
): void {
  if (len >= 64) {
    for (let r = 0; r < rows; r++) {
      const from = srcAt + r * srcStride;
      dst.set(src.subarray(from, from + len), dstAt + r * dstStride);
    }
    return;
  }
  for (let r = 0; r < rows; r++) {
    let s = srcAt + r * srcStride;
    let d = dstAt + r * dstStride;
    const end = s + len;
    while (s < end) dst[d++] = src[s++];
  }
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * copyRows between two tensors on the heap (positions and lengths in elements): sifd's SIMD copyRows (v128 moves
 * or memory.copy per row, no JavaScript per element) when it is available, else the typed-array loop above.
 */
function copyTensorRows(
  backend: WasmBackendLike, dst: tf.TensorInfo, dstAt: number, dstStride: number,
  src: tf.TensorInfo, srcAt: number, srcStride: number, rows: number, len: number,
): void {
  const simd = simdKernels(backend);
  const dstView = backend.typedArrayFromHeap(dst);
  if (simd) {
    const bytes = dstView.BYTES_PER_ELEMENT;
    simd.copyRows(heapOffset(backend, dst) + dstAt * bytes, dstStride * bytes, heapOffset(backend, src) + srcAt * bytes,
      srcStride * bytes, rows, len * bytes);
    return;
  }
  copyRows(dstView, dstAt, dstStride, backend.typedArrayFromHeap(src), srcAt, srcStride, rows, len);
}

/** SplitV over the wasm heap: each piece is `outer` row copies (outer = product of the dims before the axis). */
export const splitVConfig: tf.KernelConfig = {
  kernelName: tf.SplitV,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = kernelInput(inputs, tf.SplitV, 'x');
    const { numOrSizeSplits, axis } = attrs as unknown as tf.SplitVAttrs;
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, ax);
    const wasm = backend as unknown as WasmBackendLike;
    const outer = size(x.shape.slice(0, ax));
    const inner = size(x.shape.slice(ax + 1));
    const rowLen = x.shape[ax] * inner;
    const outs = sizes.map((s) => {
      const shape = x.shape.slice();
      shape[ax] = s;
      return wasm.makeOutput(shape, x.dtype);
    });
    let at = 0;
    sizes.forEach((s, k) => {
      const len = s * inner;
      if (len > 0 && outer > 0) copyTensorRows(wasm, outs[k], 0, len, x, at, rowLen, outer, len);
      at += len;
    });
    return outs;
  },
};

/** The package's own Concat, for what ours does not handle (strings). Set when ours is registered. */
let stockConcat: tf.KernelFunc | undefined;

export const concatConfig: tf.KernelConfig = {
  kernelName: tf.Concat,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { inputs, backend, attrs } = args;
    const list = Object.keys(inputs).map((k) => inputs[k]).filter((t): t is tf.TensorInfo => t !== undefined);
    if (list.length === 0 || list[0].dtype === 'string' || list.length === 1) {
      if (!stockConcat) throw new Error('Concat: the stock wasm kernel was not captured');
      return stockConcat(args);
    }
    const ax = tf.util.parseAxisParam((attrs as unknown as tf.ConcatAttrs).axis, list[0].shape)[0];
    tf.backend_util.assertParamsConsistent(list.map((t) => t.shape), ax);
    const outShape = tf.backend_util.computeOutShape(list.map((t) => t.shape), ax);
    const wasm = backend as unknown as WasmBackendLike;
    const out = wasm.makeOutput(outShape, list[0].dtype);
    const outer = size(outShape.slice(0, ax));
    const outRow = size(outShape.slice(ax));
    if (outer * outRow === 0) return out;
    let at = 0;
    for (const t of list) {
      const len = size(t.shape.slice(ax));
      if (len > 0 && size(t.shape) > 0) copyTensorRows(wasm, out, at, outRow, t, 0, len, outer, len);
      at += len;
    }
    return out;
  },
};

/** Remembers the package's Concat before ours replaces it (idempotent: never captures our own). */
export function captureStockConcat(existing: tf.KernelConfig | undefined): void {
  if (existing && existing.kernelFunc !== concatConfig.kernelFunc) stockConcat = existing.kernelFunc;
}

/**
 * Identity without a copy: the output shares the input's heap buffer (one more reference), as the cpu backend
 * does. The package's kernel copies, ~70 times per bench-net step (gradient plumbing). Strings go to the package.
 */
let stockIdentity: tf.KernelFunc | undefined;

export const identityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const x = kernelInput(args.inputs, tf.Identity, 'x');
    if (x.dtype === 'string') {
      if (!stockIdentity) throw new Error('Identity: the stock wasm kernel was not captured');
      return stockIdentity(args);
    }
    (args.backend as unknown as WasmBackendLike).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  },
};

/** Remembers the package's Identity before ours replaces it (idempotent: never captures our own). */
export function captureStockIdentity(existing: tf.KernelConfig | undefined): void {
  if (existing && existing.kernelFunc !== identityConfig.kernelFunc) stockIdentity = existing.kernelFunc;
}
