/**
 * Sub-pixel refinement of a copy transform on the grey levels of its verified source region.
 *
 * RANSAC fits the affine to keypoint positions, which are good to a few tenths of a pixel; over a
 * rotated or rescaled copy of a hundred pixels that error slides fine texture out of register and
 * the dense ZNCC of a true copy drops to ~0.9, where the gate cannot tell it from look-alike
 * structure. Gauss-Newton on the grey levels themselves (Lucas-Kanade, forward additive) with a
 * gain and offset for brightness/contrast edits brings the transform to the one that makes the
 * copy's pixels agree with its source's, which the verification then measures again.
 */
import type { Affine } from './geometry';
import type { GrayImage } from './grayscale';

export interface RefineOptions {
  /** Gauss-Newton steps at most (each one 8x8 solve over the sampled pixels). */
  iterations?: number;
  /** Source pixels used at most (a regular subsample of the region beyond this). */
  maxPixels?: number;
  /** The refined transform may move no corner of the region's box further than this from the original (pixels). */
  maxShift?: number;
}

/** Stop when the step moves the region's box corners by less than this (pixels). */
const CONVERGED_PX = 0.01;

/**
 * The affine (source -> copy, working frame) that best maps the grey levels of the `source` region
 * (0/1 mask, the image's size) onto their copy, starting from `a`; null when the region is too
 * small or the refinement diverges (singular system, a flip of orientation, a step out of range).
 */
export function refineAffine(gray: GrayImage, a: Affine, source: Uint8Array, opts: RefineOptions = {}): Affine | null {
  return refineAffineAt(gray, a, samplePixels(source, gray.width, gray.height, opts.maxPixels ?? MAX_PIXELS), opts);
}

/** Source pixels a refinement reads at most, by default. */
const MAX_PIXELS = 20000;

/** refineAffine over the given source pixels (x, y pairs, at least one pixel inside the border). */
function refineAffineAt(gray: GrayImage, a: Affine, pts: Int32Array, opts: RefineOptions): Affine | null {
  const { iterations = 12, maxShift = 3 } = opts;
  const { width: W, height: H, data } = gray;
  if (pts.length < 2 * 32) return null;
  const n = pts.length / 2;
  let cx = 0;
  let cy = 0;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let k = 0; k < pts.length; k += 2) {
    cx += pts[k];
    cy += pts[k + 1];
    x0 = Math.min(x0, pts[k]);
    x1 = Math.max(x1, pts[k]);
    y0 = Math.min(y0, pts[k + 1]);
    y1 = Math.max(y1, pts[k + 1]);
  }
  cx /= n;
  cy /= n;
  const corners = [x0, y0, x1, y0, x0, y1, x1, y1];
  const orientation = Math.sign(a[0] * a[4] - a[1] * a[3]);
  const cur: Affine = [...a];
  const ata = new Float64Array(64);
  const atb = new Float64Array(8);
  const row = new Float64Array(8);
  const s = new Float64Array(3);
  for (let it = 0; it < iterations; it++) {
    ata.fill(0);
    atb.fill(0);
    let used = 0;
    for (let k = 0; k < pts.length; k += 2) {
      const x = pts[k];
      const y = pts[k + 1];
      const u = cur[0] * x + cur[1] * y + cur[2];
      const v = cur[3] * x + cur[4] * y + cur[5];
      if (!sampleWithGradient(data, W, H, u, v, s)) continue;
      const dx = x - cx;
      const dy = y - cy;
      // I(A x) + grad . dA x  ~  alpha I(x) + beta, linear in (dA, alpha, beta).
      row[0] = s[1] * dx;
      row[1] = s[1] * dy;
      row[2] = s[1];
      row[3] = s[2] * dx;
      row[4] = s[2] * dy;
      row[5] = s[2];
      row[6] = -data[y * W + x];
      row[7] = -1;
      const b = -s[0];
      for (let i = 0; i < 8; i++) {
        atb[i] += row[i] * b;
        for (let j = i; j < 8; j++) ata[i * 8 + j] += row[i] * row[j];
      }
      used++;
    }
    if (used < 32) return null;
    for (let i = 0; i < 8; i++) for (let j = 0; j < i; j++) ata[i * 8 + j] = ata[j * 8 + i];
    const d = solve(ata, atb, 8);
    if (!d) return null;
    cur[0] += d[0];
    cur[1] += d[1];
    cur[2] += d[2] - d[0] * cx - d[1] * cy;
    cur[3] += d[3];
    cur[4] += d[4];
    cur[5] += d[5] - d[3] * cx - d[4] * cy;
    if (Math.sign(cur[0] * cur[4] - cur[1] * cur[3]) !== orientation) return null;
    if (maxCornerMove(cur, a, corners) > maxShift) return null;
    let step = 0;
    for (let c = 0; c < corners.length; c += 2) {
      const ex = d[0] * (corners[c] - cx) + d[1] * (corners[c + 1] - cy) + d[2];
      const ey = d[3] * (corners[c] - cx) + d[4] * (corners[c + 1] - cy) + d[5];
      step = Math.max(step, Math.hypot(ex, ey));
    }
    if (step < CONVERGED_PX) break;
  }
  return cur;
}

/**
 * refineAffine over the given pixels (indices y * W + x) rather than a mask, every k-th of them so
 * that at most opts.maxPixels are read.
 */
export function refineAffineOver(gray: GrayImage, a: Affine, pixels: readonly number[], opts: RefineOptions = {}): Affine | null {
  const { width: W, height: H } = gray;
  const stride = Math.max(1, Math.ceil(pixels.length / (opts.maxPixels ?? MAX_PIXELS)));
  const xy: number[] = [];
  for (let k = 0; k < pixels.length; k += stride) {
    const x = pixels[k] % W;
    const y = (pixels[k] - x) / W;
    if (x >= 1 && y >= 1 && x < W - 1 && y < H - 1) xy.push(x, y);
  }
  return refineAffineAt(gray, a, Int32Array.from(xy), opts);
}

/** `a` rescaled by `s` about the point (cx, cy), which it still maps where `a` does. */
export function rescaledAbout(a: Affine, cx: number, cy: number, s: number): Affine {
  const u = a[0] * cx + a[1] * cy + a[2];
  const v = a[3] * cx + a[4] * cy + a[5];
  const b: Affine = [a[0] * s, a[1] * s, 0, a[3] * s, a[4] * s, 0];
  b[2] = u - b[0] * cx - b[1] * cy;
  b[5] = v - b[3] * cx - b[4] * cy;
  return b;
}

/** x, y of the mask's pixels away from the border, every k-th in raster order so that at most `max` remain. */
function samplePixels(mask: Uint8Array, W: number, H: number, max: number): Int32Array {
  let count = 0;
  for (let i = 0; i < mask.length; i++) count += mask[i];
  const stride = Math.max(1, Math.ceil(count / max));
  const out: number[] = [];
  let seen = 0;
  for (let y = 1; y < H - 1; y++) {
    for (let x = 1; x < W - 1; x++) {
      if (!mask[y * W + x]) continue;
      if (seen++ % stride === 0) out.push(x, y);
    }
  }
  return Int32Array.from(out);
}

/**
 * Bilinear grey level and its gradient (central differences, interpolated the same way) at (u, v)
 * into out[0..2]; false when the 4x4 neighbourhood leaves the image.
 */
function sampleWithGradient(data: Uint8Array, W: number, H: number, u: number, v: number, out: Float64Array): boolean {
  const ix = Math.floor(u);
  const iy = Math.floor(v);
  if (ix < 1 || iy < 1 || ix > W - 3 || iy > H - 3) return false;
  const fx = u - ix;
  const fy = v - iy;
  const at = (x: number, y: number) => data[y * W + x];
  const gx = (x: number, y: number) => (at(x + 1, y) - at(x - 1, y)) / 2;
  const gy = (x: number, y: number) => (at(x, y + 1) - at(x, y - 1)) / 2;
  const lerp = (f: (x: number, y: number) => number) => {
    const top = f(ix, iy) + fx * (f(ix + 1, iy) - f(ix, iy));
    const bottom = f(ix, iy + 1) + fx * (f(ix + 1, iy + 1) - f(ix, iy + 1));
    return top + fy * (bottom - top);
  };
  out[0] = lerp(at);
  out[1] = lerp(gx);
  out[2] = lerp(gy);
  return true;
}

/** How far `b` moves any of the corners (x, y pairs) relative to `a`. */
function maxCornerMove(b: Affine, a: Affine, corners: readonly number[]): number {
  let m = 0;
  for (let c = 0; c < corners.length; c += 2) {
    const x = corners[c];
    const y = corners[c + 1];
    m = Math.max(m, Math.hypot((b[0] - a[0]) * x + (b[1] - a[1]) * y + b[2] - a[2], (b[3] - a[3]) * x + (b[4] - a[4]) * y + b[5] - a[5]));
  }
  return m;
}

/** Solves the n x n system M x = b (Gaussian elimination, partial pivoting); null when singular. */
function solve(m: Float64Array, b: Float64Array, n: number): Float64Array | null {
  const a = Float64Array.from(m);
  const x = Float64Array.from(b);
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(a[i * n + i]));
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r * n + col]) > Math.abs(a[piv * n + col])) piv = r;
    if (Math.abs(a[piv * n + col]) <= 1e-12 * Math.max(1, scale)) return null;
    if (piv !== col) {
      for (let c = 0; c < n; c++) [a[col * n + c], a[piv * n + c]] = [a[piv * n + c], a[col * n + c]];
      [x[col], x[piv]] = [x[piv], x[col]];
    }
    for (let r = col + 1; r < n; r++) {
      const f = a[r * n + col] / a[col * n + col];
      if (f === 0) continue;
      for (let c = col; c < n; c++) a[r * n + c] -= f * a[col * n + c];
      x[r] -= f * x[col];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let sum = x[r];
    for (let c = r + 1; c < n; c++) sum -= a[r * n + c] * x[c];
    x[r] = sum / a[r * n + r];
  }
  return x;
}
