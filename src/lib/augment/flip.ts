import type { Rng } from '../util/random';
import { ConfigError } from '../errors';
import type { Masks } from '../data/types';
import { allocLike, checkPair, type Pair, type Transform } from './transform';

/**
 * Exact pixel permutations (no interpolation): horizontal and vertical flips and rotations by
 * multiples of 90 degrees. Each output pixel (x, y) reads one source pixel, computed by the same
 * function for the image and for every mask channel, so they cannot drift apart.
 */
type SourceOf = (x: number, y: number) => number; // output (x, y) -> source pixel index y*W + x

function permute(p: Pair, outW: number, outH: number, src: SourceOf): Pair {
  const { image, masks } = p;
  const c = image.channels;
  const data = allocLike(image.data, outW * outH * c);
  const plane = masks.height * masks.width;
  const mdata = new Uint8Array(masks.count * outW * outH);
  for (let y = 0, o = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++, o++) {
      const s = src(x, y);
      for (let k = 0; k < c; k++) data[o * c + k] = image.data[s * c + k];
      for (let m = 0; m < masks.count; m++) mdata[m * outW * outH + o] = masks.data[m * plane + s];
    }
  }
  const outMasks: Masks = { data: mdata, count: masks.count, height: outH, width: outW };
  return { image: { data, width: outW, height: outH, channels: c }, masks: outMasks };
}

/** Mirror left-right. */
export function hflip(): Transform {
  return {
    name: 'hflip',
    kind: 'geometric',
    apply(p: Pair): Pair {
      checkPair(p, 'hflip');
      const { width: W, height: H } = p.image;
      return permute(p, W, H, (x, y) => y * W + (W - 1 - x));
    },
  };
}

/** Mirror top-bottom. */
export function vflip(): Transform {
  return {
    name: 'vflip',
    kind: 'geometric',
    apply(p: Pair): Pair {
      checkPair(p, 'vflip');
      const { width: W, height: H } = p.image;
      return permute(p, W, H, (x, y) => (H - 1 - y) * W + x);
    },
  };
}

/** Rotate counter-clockwise by k*90 degrees, like numpy.rot90(a, k). */
export function rotate90By(p: Pair, k: number): Pair {
  checkPair(p, 'rot90');
  const { width: W, height: H } = p.image;
  switch (((k % 4) + 4) % 4) {
    case 0:
      return permute(p, W, H, (x, y) => y * W + x);
    case 1: // out is W x H (rows x cols): out[y][x] = in[x][W-1-y]
      return permute(p, H, W, (x, y) => x * W + (W - 1 - y));
    case 2:
      return permute(p, W, H, (x, y) => (H - 1 - y) * W + (W - 1 - x));
    default: // out[y][x] = in[H-1-x][y]
      return permute(p, H, W, (x, y) => (H - 1 - x) * W + y);
  }
}

/** Rotate by a random multiple of 90 degrees (k uniform in the allowed set, default 0..3). */
export function rot90(opts: { ks?: readonly number[] } = {}): Transform {
  const ks = opts.ks ?? [0, 1, 2, 3];
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k))) {
    throw new ConfigError(`rot90.ks must be a non-empty list of integers, got ${JSON.stringify(ks)}`);
  }
  return {
    name: 'rot90',
    kind: 'geometric',
    apply(p: Pair, rng: Rng): Pair {
      return rotate90By(p, rng.pick(ks));
    },
  };
}
