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
  const tmp = new Float32Array(W * H * C);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * C;
      for (let t = -r; t <= r; t++) {
        const s = (y * W + reflect101(x + t, W)) * C;
        const wt = k[t + r];
        for (let c = 0; c < C; c++) tmp[o + c] += wt * image.data[s + c];
      }
    }
  }
  const out = allocLike(image.data, W * H * C);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * C;
      for (let c = 0; c < C; c++) {
        let acc = 0;
        for (let t = -r; t <= r; t++) acc += k[t + r] * tmp[(reflect101(y + t, H) * W + x) * C + c];
        out[o + c] = Math.min(max, Math.max(0, Math.round(acc)));
      }
    }
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
