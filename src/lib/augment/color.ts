import type { Rng } from '../util/random';
import { allocLike, checkPair, maxValue, range, type Pair, type Transform } from './transform';

/** Applies a per-value lookup table (all channels), clamped to the dtype; masks untouched. */
function applyLut(p: Pair, f: (v: number) => number): Pair {
  checkPair(p, 'color');
  const { image } = p;
  const max = maxValue(image);
  const lut = allocLike(image.data, max + 1);
  for (let v = 0; v <= max; v++) lut[v] = Math.min(max, Math.max(0, Math.round(f(v))));
  const out = allocLike(image.data, image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = lut[image.data[i]];
  return { image: { ...image, data: out }, masks: p.masks };
}

/** out = alpha * v + beta * max (albumentations' brightness_by_max), clamped. */
export function brightnessContrastPair(p: Pair, alpha: number, beta: number): Pair {
  const max = maxValue(p.image);
  return applyLut(p, (v) => alpha * v + beta * max);
}

/** out = max * (v / max) ^ gamma. */
export function gammaPair(p: Pair, gamma: number): Pair {
  const max = maxValue(p.image);
  return applyLut(p, (v) => max * Math.pow(v / max, gamma));
}

export interface BrightnessContrastOptions {
  /** beta drawn from [-b, b] (fraction of the dtype range); default 0.2. */
  brightness?: number;
  /** alpha drawn from [1 - c, 1 + c]; default 0.2. */
  contrast?: number;
}

export function brightnessContrast(opts: BrightnessContrastOptions = {}): Transform {
  const [, b] = range('brightnessContrast.brightness', [0, opts.brightness ?? 0.2], 0, 1);
  const [, c] = range('brightnessContrast.contrast', [0, opts.contrast ?? 0.2], 0, 1);
  return {
    name: 'brightnessContrast',
    kind: 'photometric',
    apply(p: Pair, rng: Rng): Pair {
      const alpha = 1 + rng.uniform(-c, c);
      const beta = rng.uniform(-b, b);
      return brightnessContrastPair(p, alpha, beta);
    },
  };
}

export interface GammaOptions {
  /** Gamma range; default [0.8, 1.25]. */
  gamma?: readonly [number, number] | number;
}

export function gamma(opts: GammaOptions = {}): Transform {
  const g = range('gamma.gamma', opts.gamma ?? [0.8, 1.25], 0.01, 100);
  return {
    name: 'gamma',
    kind: 'photometric',
    apply: (p: Pair, rng: Rng) => gammaPair(p, Math.exp(rng.uniform(Math.log(g[0]), Math.log(g[1])))),
  };
}
