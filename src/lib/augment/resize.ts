import type { Rng } from '../util/random';
import { ConfigError } from '../errors';
import { separableFilter, type AxisWeights } from './separable';
import { allocLike, checkPair, maxValue, range, toSize, type Pair, type Transform } from './transform';

/**
 * Image resampling: 'bilinear' (half-pixel centres, edge clamped), 'area' (box average over the
 * covered source span; the right choice when shrinking, falls back to bilinear on an axis that
 * grows) or 'nearest'. Masks always use nearest, with the same source index the image uses under
 * 'nearest'.
 */
export type ResizeInterpolation = 'bilinear' | 'area' | 'nearest';

function axisWeights(inLen: number, outLen: number, mode: ResizeInterpolation): AxisWeights {
  const scale = inLen / outLen;
  const start = new Int32Array(outLen + 1);
  const idx: number[] = [];
  const w: number[] = [];
  for (let i = 0; i < outLen; i++) {
    start[i] = idx.length;
    if (mode === 'nearest') {
      idx.push(nearestIndex(i, scale, inLen));
      w.push(1);
    } else if (mode === 'area' && scale > 1) {
      const lo = i * scale;
      const hi = Math.min((i + 1) * scale, inLen);
      for (let s = Math.floor(lo); s < hi; s++) {
        const cover = Math.min(s + 1, hi) - Math.max(s, lo);
        if (cover > 1e-9) {
          idx.push(s);
          w.push(cover / (hi - lo));
        }
      }
    } else {
      const src = Math.max(0, (i + 0.5) * scale - 0.5);
      const s0 = Math.min(Math.floor(src), inLen - 1);
      const s1 = Math.min(s0 + 1, inLen - 1);
      const f = src - s0;
      idx.push(s0, s1);
      w.push(1 - f, f);
    }
  }
  start[outLen] = idx.length;
  return { start, idx: Int32Array.from(idx), w: Float32Array.from(w) };
}

function nearestIndex(i: number, scale: number, inLen: number): number {
  return Math.min(inLen - 1, Math.floor((i + 0.5) * scale));
}

/** Resize image (chosen interpolation) and masks (nearest) to outH x outW. */
export function resizePair(p: Pair, outH: number, outW: number, interpolation: ResizeInterpolation = 'bilinear'): Pair {
  checkPair(p, 'resize');
  const { image, masks } = p;
  const W = image.width;
  const H = image.height;
  const C = image.channels;
  if (W === outW && H === outH) return p;
  const max = maxValue(image);
  const ax = axisWeights(W, outW, interpolation);
  const ay = axisWeights(H, outH, interpolation);
  // Rows first: [H, W, C] -> [H, outW, C] in float, then columns -> [outH, outW, C].
  const out = allocLike(image.data, outH * outW * C);
  separableFilter(image.data, W, H, C, ax, ay, outW, outH, out, max);
  const plane = W * H;
  const outPlane = outW * outH;
  const mout = new Uint8Array(masks.count * outPlane);
  const sxs = new Int32Array(outW);
  for (let x = 0; x < outW; x++) sxs[x] = nearestIndex(x, W / outW, W);
  for (let y = 0; y < outH; y++) {
    const sy = nearestIndex(y, H / outH, H);
    for (let m = 0; m < masks.count; m++) {
      const base = m * plane + sy * W;
      const obase = m * outPlane + y * outW;
      for (let x = 0; x < outW; x++) mout[obase + x] = masks.data[base + sxs[x]];
    }
  }
  return {
    image: { data: out, width: outW, height: outH, channels: C },
    masks: { data: mout, count: masks.count, height: outH, width: outW },
  };
}

/** Exact crop of the rectangle [x, x+w) x [y, y+h) from image and masks. */
export function cropPair(p: Pair, x: number, y: number, w: number, h: number): Pair {
  checkPair(p, 'crop');
  const { image, masks } = p;
  const W = image.width;
  const C = image.channels;
  if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > W || y + h > image.height) {
    throw new ConfigError(`crop [${x}, ${y}, ${w}x${h}] does not fit in a ${W}x${image.height} image`);
  }
  const out = allocLike(image.data, w * h * C);
  const mout = new Uint8Array(masks.count * w * h);
  for (let r = 0; r < h; r++) {
    out.set(image.data.subarray(((y + r) * W + x) * C, ((y + r) * W + x + w) * C), r * w * C);
    for (let m = 0; m < masks.count; m++) {
      const s = m * W * image.height + (y + r) * W + x;
      mout.set(masks.data.subarray(s, s + w), m * w * h + r * w);
    }
  }
  return {
    image: { data: out, width: w, height: h, channels: C },
    masks: { data: mout, count: masks.count, height: h, width: w },
  };
}

export interface ResizeOptions {
  size: number | readonly [number, number];
  interpolation?: ResizeInterpolation;
}

function checkInterpolation(where: string, i: string): ResizeInterpolation {
  if (i !== 'bilinear' && i !== 'area' && i !== 'nearest') {
    throw new ConfigError(`${where}.interpolation must be 'bilinear', 'area' or 'nearest', got '${i}'`);
  }
  return i;
}

/** Deterministic resize to a fixed size. */
export function resize(opts: ResizeOptions): Transform {
  const [h, w] = toSize(opts.size, 'resize');
  const interpolation = checkInterpolation('resize', opts.interpolation ?? 'area');
  return {
    name: 'resize',
    kind: 'geometric',
    size: [h, w],
    apply: (p: Pair) => resizePair(p, h, w, interpolation),
  };
}

export interface RandomResizedCropOptions extends ResizeOptions {
  /** Fraction of the image area the crop covers; default [0.25, 1]. */
  scale?: readonly [number, number];
  /** Aspect ratio (w/h) range of the crop, drawn log-uniformly; default [3/4, 4/3]. */
  ratio?: readonly [number, number];
}

/** torchvision's RandomResizedCrop: a random crop of random area and aspect, resized to `size`. */
export function randomResizedCrop(opts: RandomResizedCropOptions): Transform {
  const [outH, outW] = toSize(opts.size, 'randomResizedCrop');
  const scale = range('randomResizedCrop.scale', opts.scale ?? [0.25, 1], 0, 1);
  const ratio = range('randomResizedCrop.ratio', opts.ratio ?? [3 / 4, 4 / 3], 1e-3, 1e3);
  const interpolation = checkInterpolation('randomResizedCrop', opts.interpolation ?? 'bilinear');
  return {
    name: 'randomResizedCrop',
    kind: 'geometric',
    size: [outH, outW],
    apply(p: Pair, rng: Rng): Pair {
      const { width: W, height: H } = p.image;
      for (let attempt = 0; attempt < 10; attempt++) {
        const area = W * H * rng.uniform(scale[0], scale[1]);
        const r = Math.exp(rng.uniform(Math.log(ratio[0]), Math.log(ratio[1])));
        const w = Math.round(Math.sqrt(area * r));
        const h = Math.round(Math.sqrt(area / r));
        if (w >= 1 && h >= 1 && w <= W && h <= H) {
          const x = rng.int(0, W - w);
          const y = rng.int(0, H - h);
          return resizePair(cropPair(p, x, y, w, h), outH, outW, interpolation);
        }
      }
      return resizePair(p, outH, outW, interpolation);
    },
  };
}
