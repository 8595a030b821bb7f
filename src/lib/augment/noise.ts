import type { Rng } from '../util/random';
import { allocLike, checkPair, maxValue, range, type Pair, type Transform } from './transform';

/**
 * Adds N(0, std * max) independently to every pixel value; masks untouched. Box-Muller with both
 * outputs of each pair used (half the log/sqrt calls of rng.normal()). The draws are exactly
 * `rng.next()` in order: the generator's state is stepped in locals here (the same sfc32 steps as
 * Rng.nextUint32) and written back, so `rng` ends where it would after calling next() itself.
 */
export function gaussianNoisePair(p: Pair, std: number, rng: Rng): Pair {
  checkPair(p, 'gaussianNoise');
  const { image } = p;
  const max = maxValue(image);
  const s = std * max;
  const out = allocLike(image.data, image.data.length);
  const src = image.data;
  const n = out.length;
  // sfc32 in int32 locals (the same bits as Rng's uint32 words; TurboFan keeps them in registers)
  const state = rng.getState();
  let a = state[0] | 0;
  let b = state[1] | 0;
  let c = state[2] | 0;
  let d = state[3] | 0;
  const twoPi = 2 * Math.PI;
  for (let i = 0; i < n; i += 2) {
    let u = 0;
    do {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      u = (t >>> 0) / 4294967296;
    } while (u === 0);
    const rad = s * Math.sqrt(-2 * Math.log(u));
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    const th = twoPi * ((t >>> 0) / 4294967296);
    const v0 = Math.round(src[i] + rad * Math.cos(th));
    out[i] = v0 < 0 ? 0 : v0 > max ? max : v0;
    if (i + 1 < n) {
      const v1 = Math.round(src[i + 1] + rad * Math.sin(th));
      out[i + 1] = v1 < 0 ? 0 : v1 > max ? max : v1;
    }
  }
  rng.setState([a, b, c, d]);
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
