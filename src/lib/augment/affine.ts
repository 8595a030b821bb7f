import type { Rng } from '../util/random';
import { ConfigError } from '../errors';
import { allocLike, checkPair, maxValue, range, type Pair, type Transform } from './transform';

export type Interpolation = 'nearest' | 'bilinear';
/** What lies outside the source: a constant (masks get 0), a mirror (reflect-101) or the edge pixel. */
export type BorderMode = 'constant' | 'reflect' | 'replicate';

export interface WarpOptions {
  interpolation?: Interpolation;
  border?: BorderMode;
  /** Image value outside the source for border 'constant' (0..1 of the dtype range); masks always get 0. */
  fill?: number;
}

/** Inverse affine map [a, b, c, d, e, f]: source = (a*u + b*v + c, d*u + e*v + f) for output point (u, v). */
export type Affine = readonly [number, number, number, number, number, number];

/** Maps an integer coordinate into [0, n), or -1 when it falls outside with border 'constant'. */
function borderIndex(i: number, n: number, border: BorderMode): number {
  if (i >= 0 && i < n) return i;
  if (border === 'constant') return -1;
  if (border === 'replicate' || n === 1) return i < 0 ? 0 : n - 1;
  const period = 2 * n - 2;
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - j;
  return j;
}

/**
 * Resamples image and masks through one inverse affine map, in continuous coordinates where pixel
 * (x, y) covers [x, x+1) x [y, y+1). Masks always use nearest sampling with the exact integer
 * indices the image uses under 'nearest', so a marker stays aligned pixel for pixel.
 */
export function warpAffine(p: Pair, inv: Affine, outW: number, outH: number, opts: WarpOptions = {}): Pair {
  checkPair(p, 'warpAffine');
  const interpolation = opts.interpolation ?? 'bilinear';
  const border = opts.border ?? 'constant';
  const { image, masks } = p;
  const W = image.width;
  const H = image.height;
  const C = image.channels;
  const fill = Math.round((opts.fill ?? 0) * maxValue(image));
  const src = image.data;
  const out = allocLike(src, outW * outH * C);
  const plane = W * H;
  const outPlane = outW * outH;
  const mout = new Uint8Array(masks.count * outPlane);
  const [a, b, c, d, e, f] = inv;
  const count = masks.count;
  const mdata = masks.data;
  const bilinear = interpolation !== 'nearest';
  for (let y = 0, o = 0; y < outH; y++) {
    const v = y + 0.5;
    for (let x = 0; x < outW; x++, o++) {
      const u = x + 0.5;
      const sx = a * u + b * v + c - 0.5; // source position in pixel-index units
      const sy = d * u + e * v + f - 0.5;
      const rx = Math.floor(sx + 0.5);
      const ry = Math.floor(sy + 0.5);
      const nx = rx >= 0 && rx < W ? rx : borderIndex(rx, W, border);
      const ny = ry >= 0 && ry < H ? ry : borderIndex(ry, H, border);
      const nearest = nx < 0 || ny < 0 ? -1 : ny * W + nx;
      for (let m = 0; m < count; m++) {
        mout[m * outPlane + o] = nearest < 0 ? 0 : mdata[m * plane + nearest];
      }
      if (!bilinear) {
        for (let k = 0; k < C; k++) out[o * C + k] = nearest < 0 ? fill : src[nearest * C + k];
        continue;
      }
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < W && y0 + 1 < H) {
        // all four neighbours inside: no border handling (the common case)
        const i00 = (y0 * W + x0) * C;
        const i10 = i00 + W * C;
        for (let k = 0; k < C; k++) {
          const p00 = src[i00 + k];
          const p01 = src[i00 + C + k];
          const p10 = src[i10 + k];
          const p11 = src[i10 + C + k];
          const top = p00 + (p01 - p00) * fx;
          const bottom = p10 + (p11 - p10) * fx;
          out[o * C + k] = Math.round(top + (bottom - top) * fy);
        }
        continue;
      }
      const xa = borderIndex(x0, W, border);
      const xb = borderIndex(x0 + 1, W, border);
      const ya = borderIndex(y0, H, border);
      const yb = borderIndex(y0 + 1, H, border);
      for (let k = 0; k < C; k++) {
        const p00 = xa < 0 || ya < 0 ? fill : src[(ya * W + xa) * C + k];
        const p01 = xb < 0 || ya < 0 ? fill : src[(ya * W + xb) * C + k];
        const p10 = xa < 0 || yb < 0 ? fill : src[(yb * W + xa) * C + k];
        const p11 = xb < 0 || yb < 0 ? fill : src[(yb * W + xb) * C + k];
        const top = p00 + (p01 - p00) * fx;
        const bottom = p10 + (p11 - p10) * fx;
        out[o * C + k] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
  return {
    image: { data: out, width: outW, height: outH, channels: C },
    masks: { data: mout, count: masks.count, height: outH, width: outW },
  };
}

/** Rotate by `degrees` counter-clockwise (as displayed, y down) about the image centre; same size out. */
export function rotateBy(p: Pair, degrees: number, opts: WarpOptions = {}): Pair {
  const { width: W, height: H } = p.image;
  const t = (degrees * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const cx = W / 2;
  const cy = H / 2;
  // Inverse of the forward rotation x' = cx + cos*dx + sin*dy, y' = cy - sin*dx + cos*dy.
  const inv: Affine = [cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy];
  return warpAffine(p, inv, W, H, opts);
}

export interface RotateOptions extends WarpOptions {
  /** Angle range in degrees, drawn uniformly; default [-30, 30]. */
  degrees?: readonly [number, number] | number;
}

/** Rotation by a random angle; the image is bilinear by default, masks always nearest. */
export function rotate(opts: RotateOptions = {}): Transform {
  const deg = range('rotate.degrees', opts.degrees ?? [-30, 30], -360, 360);
  const border = opts.border ?? 'reflect';
  if (!['constant', 'reflect', 'replicate'].includes(border)) {
    throw new ConfigError(`rotate.border must be 'constant', 'reflect' or 'replicate', got '${border}'`);
  }
  if (opts.interpolation !== undefined && opts.interpolation !== 'nearest' && opts.interpolation !== 'bilinear') {
    throw new ConfigError(`rotate.interpolation must be 'nearest' or 'bilinear', got '${String(opts.interpolation)}'`);
  }
  return {
    name: 'rotate',
    kind: 'geometric',
    apply(p: Pair, rng: Rng): Pair {
      return rotateBy(p, rng.uniform(deg[0], deg[1]), { ...opts, border });
    },
  };
}
