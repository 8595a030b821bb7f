import * as tf from '@tensorflow/tfjs';
import { simdKernels, type SimdKernels } from '../simd/kernels';
import { assertChannelsLast, composeKernel, heapOffset, kernelInput, type WasmBackendLike } from './compose';

/** Largest transposed im2col built at once (floats); the batch is split into blocks to stay under it. */
export let COL_BLOCK_FLOATS = 1 << 24;

/** Tunes the im2col block size (benchmarks only); returns the previous value. */
export function setColBlockFloats(floats: number): number {
  const prev = COL_BLOCK_FLOATS;
  COL_BLOCK_FLOATS = Math.max(1, Math.floor(floats));
  return prev;
}

/**
 * Positions per GEMM in the stride-1 path. XNNPACK's GEMM does not block the reduction dimension, so one
 * [K, N*Hp*Wp] @ [N*Hp*Wp, Cout] product streams both operands from memory once per output tile; chunks of a few
 * thousand positions keep them in cache (~1.4x on the bench net's largest layer; 8192 measured best with 2 threads).
 */
export let GEMM_CHUNK = 8192;

/** Tunes GEMM_CHUNK (benchmarks only); returns the previous value. */
export function setGemmChunk(positions: number): number {
  const prev = GEMM_CHUNK;
  GEMM_CHUNK = Math.max(1, Math.floor(positions));
  return prev;
}

/**
 * The composed dW, for what sifd's SIMD kernel (directFilterGrad below) does not cover: output channels not a
 * multiple of 4, or the SIMD module unavailable.
 * dW of a 2-D convolution as a transposed im2col + GEMM: x is moved to [Cin, N, Hp, Wp] once, so the im2col
 * colT [kh*kw*Cin, positions] is built from channel rows, and dW [K, Cout] = colT @ dy [positions, Cout] is already
 * HWIO order. This orientation keeps the packed GEMM operand small (dy) and needs no transpose flag: the wasm
 * BatchMatMul is fast (XNNPACK) only without transpose flags and batch dims.
 * Stride 1 on wasm (the common case): padded-grid im2col in cache-sized chunks (stride1FilterGrad).
 * Otherwise: tap slices per batch block of at most COL_BLOCK_FLOATS floats.
 */
export function conv2dFilterGrad(
  x: tf.Tensor4D, dy: tf.Tensor4D, info: tf.backend_util.Conv2DInfo, backend?: WasmBackendLike,
): tf.Tensor4D {
  const { batchSize, filterHeight: kh, filterWidth: kw, inChannels: cin, outChannels: cout, outHeight: ho, outWidth: wo } = info;
  const { strideHeight: sh, strideWidth: sw, padInfo } = info;
  const k = kh * kw * cin;
  // [Cin, N, Hp, Wp]: channels first so a tap slice is Cin contiguous rows over positions.
  const xT = tf.tidy(() =>
    tf.pad(x, [[0, 0], [padInfo.top, padInfo.bottom], [padInfo.left, padInfo.right], [0, 0]]).transpose([3, 0, 1, 2]) as tf.Tensor4D);
  try {
    if (backend !== undefined && sh === 1 && sw === 1) return stride1FilterGrad(backend, xT, dy, info);
    const block = Math.max(1, Math.floor(COL_BLOCK_FLOATS / (ho * wo * k)));
    let acc: tf.Tensor2D | undefined;
    for (let b0 = 0; b0 < batchSize; b0 += block) {
      const nb = Math.min(block, batchSize - b0);
      const part = tf.tidy(() => {
        const colT = sliceColT(xT, b0, nb, info); // [K, P]
        const dyb = (nb === batchSize ? dy : dy.slice([b0, 0, 0, 0], [nb, -1, -1, -1])).reshape([nb * ho * wo, cout]); // [P, Cout]
        const partial = tf.matMul(colT, dyb) as tf.Tensor2D; // [K, Cout]
        return acc ? (acc.add(partial) as tf.Tensor2D) : partial;
      });
      acc?.dispose();
      acc = part;
    }
    const dW = acc!.reshape([kh, kw, cin, cout]) as tf.Tensor4D;
    acc!.dispose();
    return dW;
  } finally {
    xT.dispose();
  }
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
 * Stride-1 filter gradient over the padded grid, with only long memcpys. With q running over the padded
 * [N, Hp, Wp] grid and tap offset o(i, j) = i*dh*Wp + j*dw:
 *   dW[i, j, c, :] = sum_q xT[c, q + o(i, j)] * dyP[q, :]
 * where dyP is dy placed at the top-left of each image's padded grid, zero elsewhere. For q with dyP[q] != 0,
 * q + o stays inside the same image row, so over any range of q, colT's row (i, j, c) is ONE contiguous run of
 * xT's channel row c (clamped at the channel's end and zero-filled past it). The wasm Slice kernel copies element
 * by element and a per-output-row im2col needs ~10^5 short copies per layer; this needs kh*kw*Cin copies per
 * chunk of positions. Chunks are summed in float64.
 */
function stride1FilterGrad(backend: WasmBackendLike, xT: tf.Tensor4D, dy: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { filterHeight: kh, filterWidth: kw, outChannels: cout, outHeight: ho, outWidth: wo, dilationHeight: dh, dilationWidth: dw } = info;
  const [cin, n, hp, wp] = xT.shape;
  const k = kh * kw * cin;
  const grid = hp * wp;
  const total = n * grid; // positions, and the length of one channel row of xT
  const chunk = Math.max(1, Math.min(GEMM_CHUNK, Math.floor(COL_BLOCK_FLOATS / k), total));
  // dy on the padded grid: [N*Hp*Wp, Cout], zero outside each image's top-left Ho x Wo.
  const dyPInfo = backend.makeOutput([total, cout], 'float32');
  {
    const dyP = backend.typedArrayFromHeap(dyPInfo) as Float32Array;
    const g = backend.typedArrayFromHeap(dy) as Float32Array;
    dyP.fill(0);
    const rowLen = wo * cout;
    for (let b = 0; b < n; b++) {
      for (let y = 0; y < ho; y++) {
        const from = (b * ho + y) * rowLen;
        dyP.set(g.subarray(from, from + rowLen), (b * grid + y * wp) * cout);
      }
    }
  }
  const dyPt = tf.engine().makeTensorFromTensorInfo(dyPInfo);
  const acc = new Float64Array(k * cout);
  try {
    for (let q0 = 0; q0 < total; q0 += chunk) {
      const len = Math.min(chunk, total - q0);
      const colInfo = backend.makeOutput([k, len], 'float32');
      const dyInfo = backend.makeOutput([len, cout], 'float32');
      // Views are taken after every makeOutput: allocating can grow (and detach) the wasm heap.
      const col = backend.typedArrayFromHeap(colInfo) as Float32Array;
      const src = backend.typedArrayFromHeap(xT) as Float32Array;
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const off = i * dh * wp + j * dw;
          for (let c = 0; c < cin; c++) {
            const dst = ((i * kw + j) * cin + c) * len;
            const from = c * total + q0 + off;
            const run = Math.max(0, Math.min(len, (c + 1) * total - from));
            col.set(src.subarray(from, from + run), dst);
            if (run < len) col.fill(0, dst + run, dst + len);
          }
        }
      }
      (backend.typedArrayFromHeap(dyInfo) as Float32Array).set(
        (backend.typedArrayFromHeap(dyPt) as Float32Array).subarray(q0 * cout, (q0 + len) * cout));
      const colT = tf.engine().makeTensorFromTensorInfo(colInfo) as tf.Tensor2D;
      const dyb = tf.engine().makeTensorFromTensorInfo(dyInfo) as tf.Tensor2D;
      const part = tf.matMul(colT, dyb); // [K, Cout]
      const pv = backend.typedArrayFromHeap(part) as Float32Array;
      for (let e = 0; e < pv.length; e++) acc[e] += pv[e];
      tf.dispose([colT, dyb, part]);
    }
  } finally {
    dyPt.dispose();
  }
  return tf.tensor4d(Float32Array.from(acc), [kh, kw, cin, cout]);
}

/**
 * dW straight from the heap with sifd's SIMD kernel (simd/filter-grad-wat.ts): no padding, transposes, im2col
 * or GEMM operands are built. Output channels must be a multiple of 4 (the kernel's vector width).
 */
export function directFilterGrad(
  simd: SimdKernels, backend: WasmBackendLike, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: cin, outHeight: ho, outWidth: wo, outChannels: cout } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, padInfo } = info;
  const out = backend.makeOutput([kh, kw, cin, cout], 'float32');
  simd.conv2dFilterGrad(heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, out),
    n, h, w, cin, ho, wo, cout, kh, kw, sh, sw, dh, dw, padInfo.top, padInfo.left);
  return out;
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
    if (x.dtype === 'float32' && dy.dtype === 'float32' && info.outChannels % 4 === 0) {
      const simd = simdKernels(backend);
      if (simd) return directFilterGrad(simd, wasm, x, dy, info);
    }
    return composeKernel(wasm, [x, dy], (xt, dyt) => conv2dFilterGrad(xt as tf.Tensor4D, dyt as tf.Tensor4D, info, wasm));
  },
};
