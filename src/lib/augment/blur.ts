import type { Rng } from '../util/random';
import { allocLike, checkPair, maxValue, range, type Pair, type Transform } from './transform';

/** 1-D Gaussian taps for `sigma`, radius ceil(3 sigma), normalized to sum 1. */
function gaussianKernel(sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    k[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n - 2;
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - j;
  return j;
}

/** Separable Gaussian blur of the image (reflect-101 border); masks are returned untouched. */
export function gaussianBlurPair(p: Pair, sigma: number): Pair {
  checkPair(p, 'gaussianBlur');
  if (sigma <= 0) return p;
  const { image } = p;
  const { width: W, height: H, channels: C } = image;
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  const max = maxValue(image);
  const src = Float32Array.from(image.data);
  // Rows: source column of tap t for output x is xs[x + t + r] (reflected at the borders).
  const xs = new Int32Array(W + 2 * r);
  for (let i = 0; i < xs.length; i++) xs[i] = reflect101(i - r, W) * C;
  const tmp = new Float32Array(W * H * C);
  for (let y = 0; y < H; y++) {
    const row = y * W * C;
    for (let x = 0; x < W; x++) {
      const o = row + x * C;
      for (let t = 0; t < k.length; t++) {
        const s = row + xs[x + t];
        const wt = k[t];
        for (let c = 0; c < C; c++) tmp[o + c] += wt * src[s + c];
      }
    }
  }
  // Columns: accumulate whole rows of tmp, one tap at a time.
  const out = allocLike(image.data, W * H * C);
  const acc = new Float32Array(W * C);
  for (let y = 0; y < H; y++) {
    acc.fill(0);
    for (let t = 0; t < k.length; t++) {
      const s = reflect101(y + t - r, H) * W * C;
      const wt = k[t];
      for (let i = 0; i < W * C; i++) acc[i] += wt * tmp[s + i];
    }
    const o = y * W * C;
    for (let i = 0; i < W * C; i++) out[o + i] = Math.min(max, Math.max(0, Math.round(acc[i])));
  }
  return { image: { ...image, data: out }, masks: p.masks };
}

export interface GaussianBlurOptions {
  /** Standard deviation range in pixels; default [0.5, 1.5]. */
  sigma?: readonly [number, number] | number;
}

export function gaussianBlur(opts: GaussianBlurOptions = {}): Transform {
  const sigma = range('gaussianBlur.sigma', opts.sigma ?? [0.5, 1.5], 0, 50);
  return {
    name: 'gaussianBlur',
    kind: 'photometric',
    apply: (p: Pair, rng: Rng) => gaussianBlurPair(p, rng.uniform(sigma[0], sigma[1])),
  };
}
