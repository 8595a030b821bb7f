import type { Rng } from '../../util/random';
import { ConfigError, didYouMean } from '../../errors';
import type { Image, Masks } from '../types';
import type { Canvas } from './canvas';
import { pickFamily, renderCompoundFigure, renderFamily } from './families';
import { duplicatePanel, forge } from './forgery';
import { FAMILIES, type Box, type Family, type ImageRecord } from './manifest';

export interface SizeRange {
  /** Smallest side in pixels (>= 32). */
  min: number;
  /** Largest side in pixels (<= 4096). */
  max: number;
}

export const DEFAULT_SIZES: SizeRange = { min: 128, max: 2048 };

export interface GenerateImageOptions {
  /** Figure family; default drawn by `FAMILY_WEIGHTS` among `families`. */
  family?: Family;
  /** Families to draw from when `family` is not given (default: all). */
  families?: readonly Family[];
  /** Copy-move forge the image; default: a coin flip. */
  forged?: boolean;
  /** Exact size; default drawn from `sizes`. */
  width?: number;
  height?: number;
  sizes?: SizeRange;
  /** Number of duplicated regions for a forged image (default 1-3). */
  regions?: number;
}

export interface GeneratedImage {
  /** RGB uint8, HWC. */
  image: Image;
  /** (N,H,W) 0/1; count 0 for an authentic image. */
  masks: Masks;
  record: ImageRecord;
  /** The figure before forgery (equal to `image` for an authentic one). */
  pristine: Image;
}

/** Preferred width/height ratio range per family (blots are wide strips, micrographs often square). */
const ASPECT: Record<Family, [number, number, number]> = {
  // [min ratio, max ratio, probability of an exact square]
  western_blot: [1.2, 3, 0],
  gel: [0.7, 1.4, 0.2],
  fluorescence: [0.7, 1.5, 0.5],
  sem: [1, 1.5, 0.3],
  histology: [0.7, 1.6, 0.3],
  chart: [1, 1.6, 0.1],
  compound: [0.7, 1.8, 0.1],
};

export function validateSizes(sizes: SizeRange): void {
  const { min, max } = sizes;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 32 || max > 4096 || min > max) {
    throw new ConfigError(`image sizes must be integers with 32 <= min <= max <= 4096, got min=${min} max=${max}`);
  }
}

/**
 * Long side skewed towards small images (min * (max/min)^(u^4): with the defaults the median is
 * ~150 px, ~10% exceed 790 px and ~1% 1800 px), so datasets stay quick to make yet cover the range.
 */
export function sampleSize(rng: Rng, family: Family, sizes: SizeRange): { width: number; height: number } {
  const { min, max } = sizes;
  const u = rng.next();
  const long = Math.round(min * Math.pow(max / min, u * u * u * u));
  const [lo, hi, square] = ASPECT[family];
  const ratio = rng.bool(square) ? 1 : Math.exp(rng.uniform(Math.log(lo), Math.log(hi)));
  const clamp = (v: number) => Math.min(max, Math.max(min, Math.round(v)));
  return ratio >= 1 ? { width: clamp(long), height: clamp(long / ratio) } : { width: clamp(long * ratio), height: clamp(long) };
}

/**
 * One synthetic scientific figure, forged or not, entirely in memory. Everything is drawn from
 * `rng`, so the same rng state gives the same pixels.
 */
export function generateImage(rng: Rng, opts: GenerateImageOptions = {}): GeneratedImage {
  if (opts.family !== undefined && !FAMILIES.includes(opts.family)) {
    throw new ConfigError(`unknown figure family '${opts.family}'; ${didYouMean(opts.family, FAMILIES)}`);
  }
  const family = opts.family ?? pickFamily(rng, opts.families?.length ? opts.families : FAMILIES);
  const sizes = opts.sizes ?? DEFAULT_SIZES;
  validateSizes(sizes);
  const drawn = sampleSize(rng, family, sizes);
  const width = opts.width ?? drawn.width;
  const height = opts.height ?? drawn.height;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 32 || height < 32 || width > 8192 || height > 8192) {
    throw new ConfigError(`image size must be integers in [32, 8192], got ${width}x${height}`);
  }
  if (opts.regions !== undefined && !(Number.isInteger(opts.regions) && opts.regions >= 1 && opts.regions <= 3)) {
    throw new ConfigError(`regions must be 1, 2 or 3, got ${opts.regions}`);
  }
  const forged = opts.forged ?? rng.bool(0.5);
  let panels: Box[] = [];
  let canvas: Canvas;
  if (family === 'compound') {
    ({ canvas, panels } = renderCompoundFigure(rng, width, height));
  } else if (rng.bool(0.25) && Math.min(width, height) >= 64) {
    // Figures in papers are often resampled: draw smaller and upscale for the softer look.
    const s = rng.uniform(0.5, 0.85);
    canvas = renderFamily(rng, family, Math.max(32, Math.round(width * s)), Math.max(32, Math.round(height * s))).resized(width, height);
  } else {
    canvas = renderFamily(rng, family, width, height);
  }
  const pristine = canvas.toImage();
  if (!forged) {
    return {
      image: pristine,
      masks: { data: new Uint8Array(0), count: 0, height, width },
      record: { label: 'authentic', family, width, height, instances: 0, forgeries: [] },
      pristine,
    };
  }
  // Blots and gels are forged along their lanes and rows more often than other figures.
  const align = family === 'western_blot' || family === 'gel' ? 0.6 : 0.15;
  const reusePanel = family === 'compound' && opts.regions === undefined && rng.bool(0.35);
  const result = (reusePanel ? duplicatePanel(rng, pristine, panels) : null) ?? forge(rng, pristine, { regions: opts.regions, align });
  if (result.forgeries.length === 0) throw new RangeError(`no copy-move region fits in a ${width}x${height} image`);
  return {
    image: result.image,
    masks: result.masks,
    record: { label: 'forged', family, width, height, instances: result.masks.count, forgeries: result.forgeries },
    pristine,
  };
}
