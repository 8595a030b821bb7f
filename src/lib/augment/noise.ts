import type { Rng } from '../util/random';
import { allocLike, checkPair, maxValue, range, type Pair, type Transform } from './transform';

/** Adds N(0, std * max) independently to every pixel value; masks untouched. */
export function gaussianNoisePair(p: Pair, std: number, rng: Rng): Pair {
  checkPair(p, 'gaussianNoise');
  const { image } = p;
  const max = maxValue(image);
  const s = std * max;
  const out = allocLike(image.data, image.data.length);
  const src = image.data;
  // Box-Muller, both outputs of each pair used: half the log/sqrt calls of rng.normal().
  for (let i = 0; i < out.length; i += 2) {
    let u = rng.next();
    while (u === 0) u = rng.next();
    const rad = s * Math.sqrt(-2 * Math.log(u));
    const th = 2 * Math.PI * rng.next();
    out[i] = Math.min(max, Math.max(0, Math.round(src[i] + rad * Math.cos(th))));
    if (i + 1 < out.length) out[i + 1] = Math.min(max, Math.max(0, Math.round(src[i + 1] + rad * Math.sin(th))));
  }
  return { image: { ...image, data: out }, masks: p.masks };
}

export interface GaussianNoiseOptions {
  /** Noise standard deviation as a fraction of the dtype range; default [0.01, 0.04]. */
  std?: readonly [number, number] | number;
}

export function gaussianNoise(opts: GaussianNoiseOptions = {}): Transform {
  const std = range('gaussianNoise.std', opts.std ?? [0.01, 0.04], 0, 1);
  return {
    name: 'gaussianNoise',
    kind: 'photometric',
    apply: (p: Pair, rng: Rng) => gaussianNoisePair(p, rng.uniform(std[0], std[1]), rng),
  };
}
