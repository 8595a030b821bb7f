import * as tf from '@tensorflow/tfjs';

/** The parts of the wasm backend (tfjs-backend-wasm's BackendWasm) that our kernels use. */
export interface WasmBackendLike {
  incRef(dataId: object): void;
  disposeData(dataId: object, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** Byte offset of a tensor's data in the wasm heap (what the project's own SIMD kernels take as pointers). */
export function heapOffset(backend: WasmBackendLike, info: tf.TensorInfo): number {
  const entry = (backend as unknown as { dataIdMap: { get(id: object): { memoryOffset: number | null } | undefined } })
    .dataIdMap.get(info.dataId);
  if (entry?.memoryOffset == null) throw new Error('tensor data is not on the wasm heap');
  return entry.memoryOffset;
}

/**
 * Runs a kernel body written with tf ops on the kernel's raw inputs and returns a fresh backend output.
 * Each input is wrapped in a Tensor after incRef (disposing the wrapper then leaves the caller's tensor alive),
 * and the result is copied into makeOutput's buffer so the engine owns exactly one reference to it.
 */
export function composeKernel(
  backend: WasmBackendLike,
  inputs: tf.TensorInfo[],
  body: (...tensors: tf.Tensor[]) => tf.Tensor,
): tf.TensorInfo {
  const wrapped = inputs.map((info) => {
    backend.incRef(info.dataId);
    return tf.engine().makeTensorFromTensorInfo(info);
  });
  try {
    const result = tf.tidy(() => body(...wrapped));
    try {
      const out = backend.makeOutput(result.shape, result.dtype);
      // Views are taken after makeOutput: allocating can grow (and detach) the wasm heap.
      backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(result));
      return out;
    } finally {
      result.dispose();
    }
  } finally {
    for (const t of wrapped) t.dispose();
  }
}

/** NHWC only: the project's tensors are channels-last; fail loudly on anything else. */
export function assertChannelsLast(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`${kernel} on wasm supports dataFormat NHWC only, got '${dataFormat}'`);
  }
}

/**
 * Spreads dy [N, Ho, Wo, C] onto the stride grid: [N, (Ho-1)*sh+1, (Wo-1)*sw+1, C] with zeros between rows/cols,
 * so a strided convolution's input gradient becomes a stride-1 convolution.
 */
export function insertStrideZeros(dy: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return dy;
  const [n, ho, wo, c] = dy.shape;
  const spread = dy
    .reshape([n, ho, 1, wo, 1, c])
    .pad([[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]])
    .reshape([n, ho * sh, wo * sw, c]) as tf.Tensor4D;
  return spread.slice([0, 0, 0, 0], [n, (ho - 1) * sh + 1, (wo - 1) * sw + 1, c]);
}

/**
 * Input gradient of a convolution as a stride-1 "full" convolution: pads (negative ones crop) that map the
 * stride-spread dy back onto an input of size `inSize`, for effective kernel size `effK` and forward pad `padBefore`.
 */
export function transposedPads(inSize: number, outSize: number, stride: number, effK: number, padBefore: number): [number, number] {
  const before = effK - 1 - padBefore;
  const after = inSize - (outSize - 1) * stride - 1 + padBefore;
  return [before, after];
}

/** Pads with possibly negative amounts (negative = crop) on H and W of an NHWC tensor. */
export function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  let y = x;
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    y = y.pad([[0, 0], [Math.max(top, 0), Math.max(bottom, 0)], [Math.max(left, 0), Math.max(right, 0)], [0, 0]]);
  }
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [n, h, w, c] = y.shape;
    const t = Math.max(-top, 0);
    const l = Math.max(-left, 0);
    y = y.slice([0, t, l, 0], [n, h - t - Math.max(-bottom, 0), w - l - Math.max(-right, 0), c]);
  }
  return y;
}

/**
 * One tap of a convolution window over a padded input: rows i*dh, i*dh+sh, ... (outH of them) and the same on W.
 * [N, Hp, Wp, C] -> [N, outH, outW, C]
 */
export function tapSlice(xp: tf.Tensor4D, i: number, j: number, outH: number, outW: number, sh: number, sw: number, dh: number, dw: number): tf.Tensor4D {
  const [n, , , c] = xp.shape;
  const top = i * dh;
  const left = j * dw;
  if (sh === 1 && sw === 1) return xp.slice([0, top, left, 0], [n, outH, outW, c]);
  return tf.stridedSlice(xp, [0, top, left, 0], [n, top + (outH - 1) * sh + 1, left + (outW - 1) * sw + 1, c], [1, sh, sw, 1]) as tf.Tensor4D;
}

/** A named kernel input; kernels are only called with their declared inputs, so absence is a tfjs bug. */
export function kernelInput(inputs: tf.NamedTensorInfoMap, kernel: string, name: string): tf.TensorInfo {
  const info = inputs[name];
  if (!info) throw new Error(`${kernel}: missing input '${name}'`);
  return info;
}
