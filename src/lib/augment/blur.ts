import type { Rng } from '../util/random';
import { separableFilter, type AxisWeights } from './separable';
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

function kernelTaps(k: Float32Array, n: number): AxisWeights {
  const r = (k.length - 1) / 2;
  const start = new Int32Array(n + 1);
  const idx = new Int32Array(n * k.length);
  const w = new Float32Array(n * k.length);
  for (let i = 0, j = 0; i < n; i++) {
    start[i] = j;
    for (let t = 0; t < k.length; t++, j++) {
      idx[j] = reflect101(i + t - r, n);
      w[j] = k[t];
    }
  }
  start[n] = n * k.length;
  return { start, idx, w };
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
  // Tap t of output i reads source reflect101(i + t - r) with weight k[t], along rows and columns.
  const out = allocLike(image.data, W * H * C);
  separableFilter(image.data, W, H, C, kernelTaps(k, W), kernelTaps(k, H), W, H, out, maxValue(image));
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
