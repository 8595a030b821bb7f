import type { Rng } from '../../util/random';
import { ConfigError, didYouMean } from '../../errors';
import type { Image, Masks } from '../types';
import type { Canvas } from './canvas';
import { pickFamily, renderCompoundFigure, renderFamilyLayout } from './families';
import { drawWeighted, duplicatePanel, forge, forgedBoxes, reuseLane, stackForgeries, FORGE_STYLES, type ForgeResult } from './forgery';
import { FAMILIES, GENERATORS, type Box, type Family, type FigureFamily, type GeneratorName, type ImageMode, type ImageRecord, type Reencoding } from './manifest';
import { realisticAreaFraction, realisticMode, realisticSize } from './realism';
import type { SizeRange } from './manifest';
export type { SizeRange } from './manifest';


export const DEFAULT_SIZES: SizeRange = { min: 128, max: 2048 };

export interface GenerateImageOptions {
  /** Figure family; default drawn by `FAMILY_WEIGHTS` among `families`. */
  family?: Family;
  /** Families to draw from when `family` is not given (default: all). */
  families?: readonly FigureFamily[];
  /** Copy-move forge the image; default: a coin flip. */
  forged?: boolean;
  /** Exact size; default drawn from `sizes`. */
  width?: number;
  height?: number;
  sizes?: SizeRange;
  /** Number of copy-move events for a forged image (1-5; default drawn by the generator). */
  regions?: number;
  /** Copies per event (1-4; default drawn by the generator). */
  copies?: number;
  /** 'realistic' (default) or 'classic' (the first generator: nearest-neighbour copies, RGB, skewed-small sizes). */
  generator?: GeneratorName;
  /**
   * A real photograph to forge instead of a procedural figure (family 'photo'), already at the
   * size wanted (`sifd synth --bases` crops and scales it).
   */
  base?: Image;
}

export interface GeneratedImage {
  /** RGB uint8, HWC. */
  image: Image;
  /** (N,H,W) 0/1; count 0 for an authentic image. */
  masks: Masks;
  record: ImageRecord;
  /** The figure before forgery (equal to `image` for an authentic one): the authentic twin. */
  pristine: Image;
  /** Storage mode drawn for the pristine figure as an authentic twin (twins may differ in mode). */
  pristineMode: ImageMode;
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
  photo: [1, 1.5, 0.2],
};

/** Aspect ratio (width / height) drawn for a family. */
export function sampleAspect(rng: Rng, family: Family): number {
  const [lo, hi, square] = ASPECT[family];
  return rng.bool(square) ? 1 : Math.exp(rng.uniform(Math.log(lo), Math.log(hi)));
}

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
  const ratio = sampleAspect(rng, family);
  const clamp = (v: number) => Math.min(max, Math.max(min, Math.round(v)));
  return ratio >= 1 ? { width: clamp(long), height: clamp(long / ratio) } : { width: clamp(long * ratio), height: clamp(long) };
}

/**
 * One synthetic scientific figure, forged or not, entirely in memory. Everything is drawn from
 * `rng`, so the same rng state gives the same pixels.
 */
export function generateImage(rng: Rng, opts: GenerateImageOptions = {}): GeneratedImage {
  if (opts.family !== undefined && !FAMILIES.includes(opts.family as FigureFamily) && !(opts.family === 'photo' && opts.base)) {
    throw new ConfigError(`unknown figure family '${opts.family}'; ${didYouMean(opts.family, FAMILIES)}`);
  }
  const generator = opts.generator ?? 'realistic';
  if (!GENERATORS.includes(generator)) throw new ConfigError(`unknown generator '${generator}'; ${didYouMean(generator, GENERATORS)}`);
  const realistic = generator === 'realistic';
  const family: Family = opts.base ? 'photo' : (opts.family as FigureFamily | undefined) ?? pickFamily(rng, opts.families?.length ? opts.families : FAMILIES);
  const sizes = opts.sizes ?? (realistic ? REALISTIC_SIZES : DEFAULT_SIZES);
  validateSizes(sizes);
  const drawn = opts.base ? { width: opts.base.width, height: opts.base.height } : realistic ? realisticSize(rng, sampleAspect(rng, family), sizes) : sampleSize(rng, family, sizes);
  const width = opts.width ?? drawn.width;
  const height = opts.height ?? drawn.height;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 32 || height < 32 || width > 8192 || height > 8192) {
    throw new ConfigError(`image size must be integers in [32, 8192], got ${width}x${height}`);
  }
  if (opts.base && (opts.base.width !== width || opts.base.height !== height || opts.base.channels !== 3)) {
    throw new ConfigError(`base photograph must be RGB ${width}x${height}, got ${opts.base.width}x${opts.base.height}x${opts.base.channels}`);
  }
  if (opts.regions !== undefined && !(Number.isInteger(opts.regions) && opts.regions >= 1 && opts.regions <= 5)) {
    throw new ConfigError(`regions (events) must be an integer from 1 to 5, got ${opts.regions}`);
  }
  if (opts.copies !== undefined && !(Number.isInteger(opts.copies) && opts.copies >= 1 && opts.copies <= 4)) {
    throw new ConfigError(`copies per event must be an integer from 1 to 4, got ${opts.copies}`);
  }
  const forged = opts.forged ?? rng.bool(0.5);
  let panels: Box[] = [];
  let lanes: Box[] = [];
  let pristine: Image;
  if (opts.base) {
    pristine = opts.base;
  } else if (family === 'compound') {
    const compound = renderCompoundFigure(rng, width, height);
    panels = compound.panels;
    pristine = compound.canvas.toImage();
  } else if (rng.bool(0.25) && Math.min(width, height) >= 64) {
    // Figures in papers are often resampled: draw smaller and upscale for the softer look.
    const s = rng.uniform(0.5, 0.85);
    const small = renderFamilyLayout(rng, family as FigureFamily, Math.max(32, Math.round(width * s)), Math.max(32, Math.round(height * s)));
    lanes = scaleBoxes(small.lanes, width / small.canvas.width, height / small.canvas.height);
    pristine = small.canvas.resized(width, height).toImage();
  } else {
    const figure = renderFamilyLayout(rng, family as FigureFamily, width, height);
    lanes = figure.lanes;
    pristine = figure.canvas.toImage();
  }
  const layout = { ...(panels.length ? { panels } : {}), ...(lanes.length ? { lanes } : {}) };
  const authenticMode: ImageMode = realistic ? realisticMode(rng, 'authentic') : 'rgb';
  if (!forged) {
    return {
      image: pristine,
      masks: { data: new Uint8Array(0), count: 0, height, width },
      record: { label: 'authentic', family, width, height, instances: 0, forgeries: [], mode: authenticMode, ...layout },
      pristine,
      pristineMode: authenticMode,
    };
  }
  // Blots and gels are forged along their lanes and rows more often than other figures.
  const align = family === 'western_blot' || family === 'gel' ? 0.6 : 0.15;
  const reusePanel = family === 'compound' && opts.regions === undefined && opts.copies === undefined && rng.bool(0.35);
  // Realistic blots and gels: a whole lane reused is the most reported blot duplication.
  const reuseLanes = realistic && lanes.length >= 2 && opts.regions === undefined && opts.copies === undefined && rng.bool(0.35);
  const areaFraction = realistic ? realisticAreaFraction(rng) : undefined;
  const reuse = reusePanel ? (area?: number) => duplicatePanel(rng, pristine, panels, area) : reuseLanes ? () => reuseLane(rng, pristine, lanes) : null;
  const reused = reuse ? withMoreEvents(rng, reuse, generator, align, areaFraction) : null;
  const result = reused ?? forge(rng, pristine, { regions: opts.regions, copies: opts.copies, align, style: generator, areaFraction });
  if (result.forgeries.length === 0) throw new RangeError(`no copy-move region fits in a ${width}x${height} image`);
  const record: ImageRecord = { label: 'forged', family, width, height, instances: result.masks.count, forgeries: result.forgeries, mode: realistic ? realisticMode(rng, 'forged') : 'rgb', ...layout };
  if (realistic) {
    record.globalDifferences = perturbOutside(rng, result.image, result.masks.data, rng.int(10, 300));
    const reencoding = drawReencoding(rng);
    if (reencoding) record.reencoding = reencoding;
  }
  return { image: result.image, masks: result.masks, record, pristine, pristineMode: authenticMode };
}

/**
 * A reused panel or lane is one event; the figure gets as many events in all as the style's
 * distribution draws, the others forged as regions around the first event's parts, the forged area
 * shared between them (without this, every panel-reuse figure had one event and the generated
 * share of 2- and 3-event figures fell below the real data's). Null when no two panels or lanes are alike.
 */
function withMoreEvents(rng: Rng, reuse: (area?: number) => ForgeResult | null, generator: GeneratorName, align: number, areaFraction?: number): ForgeResult | null {
  const more = drawWeighted(rng, FORGE_STYLES[generator].events);
  const share = (k: number) => (areaFraction === undefined ? undefined : (areaFraction * k) / (more + 1));
  const first = reuse(share(1));
  if (!first || more === 0) return first;
  const later = forge(rng, first.image, { regions: more, align, style: generator, areaFraction: share(more), taken: forgedBoxes(first), firstInstance: first.masks.count });
  return later.forgeries.length ? stackForgeries(first, later) : first;
}

/** Boxes of a figure drawn at one size, in the pixels of the figure resized by (sx, sy). */
function scaleBoxes(boxes: readonly Box[], sx: number, sy: number): Box[] {
  return boxes.map((b) => {
    const x = Math.round(b.x * sx);
    const y = Math.round(b.y * sy);
    return { x, y, w: Math.round((b.x + b.w) * sx) - x, h: Math.round((b.y + b.h) * sy) - y };
  });
}

/** Sizes the realistic generator draws within unless told otherwise (the real data's range). */
export const REALISTIC_SIZES: SizeRange = { min: 64, max: 3888 };

/**
 * Twins differ outside the mask too (the real forged twins by tens to hundreds of pixels): change
 * `count` random pixels that no event covers by 1-3 levels. Returns the number changed.
 */
function perturbOutside(rng: Rng, image: Image, masks: Uint8Array, count: number): number {
  const n = image.width * image.height;
  const channels = masks.length / n;
  let changed = 0;
  for (let t = 0; t < count * 3 && changed < count; t++) {
    const p = rng.int(0, n - 1);
    let covered = false;
    for (let c = 0; c < channels && !covered; c++) covered = masks[c * n + p] === 1;
    if (covered) continue;
    const delta = rng.int(1, 3) * (rng.bool() ? 1 : -1);
    for (let k = 0; k < image.channels; k++) {
      const i = p * image.channels + k;
      image.data[i] = Math.min(255, Math.max(0, image.data[i] + delta));
    }
    changed++;
  }
  return changed;
}

/** About a third of forged twins are re-saved whole: a JPEG round trip (PNG on disk) or a resize round trip. */
function drawReencoding(rng: Rng): Reencoding | undefined {
  const kind = drawWeighted(rng, [0.67, 0.23, 0.1]);
  if (kind === 0) return undefined;
  if (kind === 1) return { type: 'jpeg', params: { quality: rng.int(75, 95) } };
  return { type: 'resize', params: { factor: Number(rng.uniform(0.6, 0.9).toFixed(3)) } };
}
