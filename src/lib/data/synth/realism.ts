/**
 * The realistic generator's draws, fitted to the public metadata of the real competition's 5,128
 * training images: image sizes, forged-area fractions and storage modes. Each distribution is a
 * piecewise log-linear quantile function through the published quantiles, so the generated
 * quantiles match them by construction (up to sampling noise and clamping).
 */
import type { Rng } from '../../util/random';
import type { SizeRange } from './manifest';
import { drawWeighted } from './forgery';
import type { ImageMode } from './manifest';
import { COMPETITION_REFERENCE as REAL } from '../competition-reference';

/** [quantile, value] knots; values positive. */
export type QuantileKnots = ReadonlyArray<readonly [number, number]>;

const MP = REAL.megapixels;
/** Megapixels of real images through their p10, median, p90 and max (the low end: the smallest real size, 74x64). */
export const MEGAPIXEL_KNOTS: QuantileKnots = [[0, (REAL.width.min * REAL.height.min) / 1e6], [0.1, MP.p10], [0.5, MP.median], [0.9, MP.p90], [1, MP.max]];

const AREA = REAL.areaFraction;
/** Forged area (union of events) / image area through the real quantiles (the low end extrapolated). */
export const AREA_FRACTION_KNOTS: QuantileKnots = [[0, 0.0008], [0.1, AREA.p10], [0.25, AREA.p25], [0.5, AREA.median], [0.75, AREA.p75], [0.9, AREA.p90], [1, AREA.max]];

/** The five most common real sizes (width x height), drawn as they are for a share of the images. */
export const COMMON_SIZES: ReadonlyArray<readonly [number, number]> = [[1000, 666], [256, 256], [1600, 1200], [696, 520], [320, 256]];
const COMMON_SIZE_SHARE = 0.25;

/** Storage modes per label, from the real counts. */
export const MODE_COUNTS: Record<'authentic' | 'forged', Record<ImageMode, number>> = {
  forged: { rgb: REAL.modes.forged.RGB, rgba: REAL.modes.forged.RGBA, grey: REAL.modes.forged.grey },
  authentic: { rgb: REAL.modes.authentic.RGB, rgba: REAL.modes.authentic.RGBA, grey: REAL.modes.authentic.grey },
};

/** Inverse CDF through the knots, linear in log(value). */
export function quantileDraw(knots: QuantileKnots, u: number): number {
  for (let k = 1; k < knots.length; k++) {
    const [q1, v1] = knots[k];
    if (u <= q1 || k === knots.length - 1) {
      const [q0, v0] = knots[k - 1];
      const t = Math.min(1, Math.max(0, (u - q0) / (q1 - q0)));
      return Math.exp(Math.log(v0) + t * (Math.log(v1) - Math.log(v0)));
    }
  }
  return knots[knots.length - 1][1];
}

/**
 * A realistic image size: a common real size for a quarter of the images, otherwise megapixels
 * from the real distribution at the family's aspect ratio. Sizes outside `sizes` are scaled
 * (aspect kept) into it, so `--max-size` makes quick sets of the same shapes.
 */
export function realisticSize(rng: Rng, aspect: number, sizes: SizeRange): { width: number; height: number } {
  let width: number;
  let height: number;
  if (rng.bool(COMMON_SIZE_SHARE)) {
    [width, height] = rng.pick(COMMON_SIZES);
  } else {
    const pixels = quantileDraw(MEGAPIXEL_KNOTS, rng.next()) * 1e6;
    width = Math.sqrt(pixels * aspect);
    height = pixels / width;
  }
  const down = Math.min(1, sizes.max / Math.max(width, height));
  const up = Math.max(1, sizes.min / Math.min(width * down, height * down));
  const clamp = (v: number) => Math.min(sizes.max, Math.max(sizes.min, Math.round(v)));
  return { width: clamp(width * down * up), height: clamp(height * down * up) };
}

/** Target forged-area fraction of a forged image. */
export function realisticAreaFraction(rng: Rng): number {
  return quantileDraw(AREA_FRACTION_KNOTS, rng.next());
}

const MODE_ORDER: readonly ImageMode[] = ['rgb', 'rgba', 'grey'];

/** Storage mode of one image, in the real proportions of its label (twins draw theirs independently). */
export function realisticMode(rng: Rng, label: 'authentic' | 'forged'): ImageMode {
  return MODE_ORDER[drawWeighted(rng, MODE_ORDER.map((m) => MODE_COUNTS[label][m]))];
}
