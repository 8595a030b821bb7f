/**
 * The separable 2-D filter behind resize and Gaussian blur: a pass along rows into a Float32 buffer,
 * then a pass along columns, rounded and clamped back to the pixel dtype.
 *
 * Arithmetic contract (results are bit-identical to the plain loops it replaced): each output value
 * is a Float32 accumulator that starts at 0 and adds `weight * value` tap by tap, in tap order, rounded
 * to Float32 after every addition (`Math.fround`), exactly as `f32[i] += w * v` would. The loops are
 * only reordered so that accumulators live in locals and the pixel array is read directly (no Float32
 * copy of the source, no per-tap read-modify-write of memory).
 */

/** Taps of a 1-D resampling: output i reads idx[start[i] .. start[i+1]) with weights w[...]. */
export interface AxisWeights {
  start: Int32Array;
  idx: Int32Array;
  w: Float32Array;
}

type Pixels = Uint8Array | Uint16Array;

const fround = Math.fround;

/**
 * Rows: [H, W, C] -> [H, outW, C] (Float32). Taps index source columns.
 */
let scratch = new Float32Array(0);

/** The row pass's buffer, reused between calls (every value is written before it is read). */
function scratchOf(length: number): Float32Array {
  if (scratch.length < length) scratch = new Float32Array(Math.max(length, Math.ceil(scratch.length * 1.25)));
  return scratch.length === length ? scratch : scratch.subarray(0, length);
}

function rowPass(src: Pixels | Float32Array, W: number, H: number, C: number, ax: AxisWeights, outW: number): Float32Array {
  const tmp = scratchOf(H * outW * C);
  const { start, w } = ax;
  // source column offsets in values, not pixels
  const idx = new Int32Array(ax.idx.length);
  for (let t = 0; t < idx.length; t++) idx[t] = ax.idx[t] * C;
  const rowIn = W * C;
  if (C === 3) {
    for (let y = 0, o = 0; y < H; y++) {
      const row = y * rowIn;
      for (let x = 0; x < outW; x++, o += 3) {
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        for (let t = start[x], end = start[x + 1]; t < end; t++) {
          const s = row + idx[t];
          const wt = w[t];
          a0 = fround(a0 + wt * src[s]);
          a1 = fround(a1 + wt * src[s + 1]);
          a2 = fround(a2 + wt * src[s + 2]);
        }
        tmp[o] = a0;
        tmp[o + 1] = a1;
        tmp[o + 2] = a2;
      }
    }
    return tmp;
  }
  for (let y = 0, o = 0; y < H; y++) {
    const row = y * rowIn;
    for (let x = 0; x < outW; x++, o += C) {
      const t0 = start[x];
      const t1 = start[x + 1];
      for (let k = 0; k < C; k++) {
        let a = 0;
        for (let t = t0; t < t1; t++) a = fround(a + w[t] * src[row + idx[t] + k]);
        tmp[o + k] = a;
      }
    }
  }
  return tmp;
}

/**
 * Columns: Float32 [H, rowLen] -> out [outH, rowLen], each value rounded and clamped to [0, max].
 * Taps index source rows.
 */
function columnPass(tmp: Float32Array, rowLen: number, ay: AxisWeights, outH: number, out: Pixels, max: number): void {
  const { start, w } = ay;
  const rows = new Int32Array(ay.idx.length);
  for (let t = 0; t < rows.length; t++) rows[t] = ay.idx[t] * rowLen;
  const clamp = (v: number) => (v < 0 ? 0 : v > max ? max : v);
  const blocks = rowLen - (rowLen % 4);
  for (let y = 0; y < outH; y++) {
    const t0 = start[y];
    const t1 = start[y + 1];
    const o = y * rowLen;
    // four neighbouring values at a time: the tap loop's loads and bounds are shared
    for (let i = 0; i < blocks; i += 4) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let t = t0; t < t1; t++) {
        const s = rows[t] + i;
        const wt = w[t];
        a0 = fround(a0 + wt * tmp[s]);
        a1 = fround(a1 + wt * tmp[s + 1]);
        a2 = fround(a2 + wt * tmp[s + 2]);
        a3 = fround(a3 + wt * tmp[s + 3]);
      }
      out[o + i] = clamp(Math.round(a0));
      out[o + i + 1] = clamp(Math.round(a1));
      out[o + i + 2] = clamp(Math.round(a2));
      out[o + i + 3] = clamp(Math.round(a3));
    }
    for (let i = blocks; i < rowLen; i++) {
      let a = 0;
      for (let t = t0; t < t1; t++) a = fround(a + w[t] * tmp[rows[t] + i]);
      out[o + i] = clamp(Math.round(a));
    }
  }
}

/**
 * Applies `ax` along rows and `ay` along columns to HWC pixels `src` (W x H x C), writing the
 * rounded, clamped result (outW x outH x C) into `out`.
 */
export function separableFilter(
  src: Pixels,
  W: number,
  H: number,
  C: number,
  ax: AxisWeights,
  ay: AxisWeights,
  outW: number,
  outH: number,
  out: Pixels,
  max: number,
): void {
  const tmp = rowPass(src, W, H, C, ax, outW);
  columnPass(tmp, outW * C, ay, outH, out, max);
}
