/**
 * Small copies pasted unchanged, found as regions: the union of their pixel-exact twin blocks.
 *
 * A copy of 10 to 40 pixels a side gives too few keypoints, and dense ZNCC verification needs a
 * larger region than it covers (its window, minRegionFraction), yet its blocks have exact twins
 * under one symmetry + offset (exactTwins.ts). Exact twins are proof only where the blocks carry
 * grain: most pixels differ from their neighbour (sensor noise, texture), which never repeats by
 * chance; rendered graphics (flat fills, glyphs, axes, anti-aliased edges) repeat exactly all the
 * time and are left out. A source and copy side by side are left out too: they look like one
 * mirror-symmetric object. The twin blocks themselves are the verified source and copy.
 */
import type { Image } from '../data/types';
import { type PixelBox, pixelBox, type ResampledTwinPair } from './geometry';
import type { GrayImage } from './grayscale';
import { type ExactTwinOptions, invertSymmetry, rankedTwinTransforms, sameAffine, type TwinPairs, twinPairs, type TwinTransform } from './exactTwins';

export interface ExactRegionOptions extends ExactTwinOptions {
  /** Twins closer than this are one structure, and source and copy boxes must lie this far apart. */
  minDistance: number;
  /** Share of a region's horizontal neighbour pairs that must differ in grey level (grain, not rendered graphics). */
  minGrain: number;
  /**
   * A region with less grain passes all the same when at least `lowGrain` of its neighbour pairs
   * differ and they number `grainPixels` or more: the evidence of an exact twin grows with how many
   * grey-level steps it repeats, and rendered content repeats few (small glyph pieces) or is mostly
   * flat (large fills). Omitted: minGrain alone.
   */
  lowGrain?: number;
  grainPixels?: number;
  /** Regions (source or copy) larger than this many pixels are repetitive structure, not a copy. */
  maxArea: number;
  /** Transforms kept at most, most votes first. */
  maxTransforms?: number;
}

/** The grain filter keeps few: the best-supported transforms examined at most. */
const MAX_EXAMINED = 256;

/** The small grainy exact copies of `image` (`gray`: its grey levels, same size) as verified source/copy pairs. */
export function exactTwinRegions(
  image: Image,
  gray: GrayImage,
  opts: ExactRegionOptions,
  found: TwinPairs = twinPairs(image, opts),
): { map: Uint8Array; pairs: ResampledTwinPair[] } {
  const { width: W, height: H } = image;
  const map = new Uint8Array(W * H);
  const pairs: ResampledTwinPair[] = [];
  const maxTransforms = opts.maxTransforms ?? 8;
  const { minDistance } = opts;
  for (const t of rankedTwinTransforms(opts, found).slice(0, MAX_EXAMINED)) {
    if (pairs.length >= maxTransforms) break;
    // a transform and its inverse are one copy seen from either side (a kept pair's similarity is copy -> source)
    if (pairs.some((p) => sameAffine(p.similarity, t.affine))) continue;
    // every block has its own corner pixel in the region: the area is at least the votes
    if (t.votes > opts.maxArea || t.blocksA.length === 0) continue;
    const source = paint(t, t.blocksA, W);
    const copy = paint(t, t.blocksB, W);
    if (source.length > opts.maxArea || copy.length > opts.maxArea) continue;
    // side by side, a copy and its source look like one symmetric object (as in verification, detect.ts)
    if (pixelDistance(pixelBox(source, W), pixelBox(copy, W)) < minDistance) continue;
    if (!grainy(grainOf(gray, source), opts)) continue;
    for (const q of source) map[q] = 1;
    for (const q of copy) map[q] = 1;
    pairs.push({ copy, source, similarity: invertSymmetry(t.affine) });
  }
  return { map, pairs };
}

/** Pixel indices (y * W + x) covered by the B x B blocks with the given upper-left corners (index y * cols + x). */
function paint(t: TwinTransform, blocks: number[], W: number): Int32Array {
  const cols = W - t.B + 1;
  let bx0 = Infinity;
  let by0 = Infinity;
  let bx1 = -1;
  let by1 = -1;
  for (const b of blocks) {
    const x = b % cols;
    const y = (b - x) / cols;
    bx0 = Math.min(bx0, x);
    by0 = Math.min(by0, y);
    bx1 = Math.max(bx1, x + t.B);
    by1 = Math.max(by1, y + t.B);
  }
  const bw = bx1 - bx0;
  const covered = new Uint8Array(bw * (by1 - by0));
  for (const b of blocks) {
    const x = (b % cols) - bx0;
    const y = Math.floor(b / cols) - by0;
    for (let k = 0; k < t.B; k++) covered.fill(1, (y + k) * bw + x, (y + k) * bw + x + t.B);
  }
  const out: number[] = [];
  for (let i = 0; i < covered.length; i++) if (covered[i]) out.push((by0 + Math.floor(i / bw)) * W + bx0 + (i % bw));
  return Int32Array.from(out);
}

/**
 * Chebyshev distance between the nearest pixels of two boxes with inclusive corners (0 where they
 * overlap; 1 side by side). data/components.ts's boxGap counts the free pixels between exclusive boxes.
 */
function pixelDistance(p: PixelBox, q: PixelBox): number {
  return Math.max(0, q.x0 - p.x1, p.x0 - q.x1, q.y0 - p.y1, p.y0 - q.y1);
}

/** The region's horizontal neighbour pairs (both inside it), and how many of them differ in grey level. */
export function grainOf(gray: GrayImage, region: Int32Array): { pairs: number; differ: number } {
  const inside = new Set<number>(region);
  let pairs = 0;
  let differ = 0;
  for (const q of region) {
    if ((q + 1) % gray.width === 0 || !inside.has(q + 1)) continue;
    pairs++;
    if (gray.data[q] !== gray.data[q + 1]) differ++;
  }
  return { pairs, differ };
}

/** grainOf for a region given as a 0/1 mask of the frame. */
export function maskGrain(gray: GrayImage, mask: Uint8Array): { pairs: number; differ: number } {
  const region: number[] = [];
  for (let p = 0; p < mask.length; p++) if (mask[p]) region.push(p);
  return grainOf(gray, Int32Array.from(region));
}

/** How much grain a region needs (ExactRegionOptions). */
export type GrainRule = Pick<ExactRegionOptions, 'minGrain' | 'lowGrain' | 'grainPixels'>;

/** Whether a region's grain is evidence: a high share of differing neighbours, or a fair share of many. */
export function grainy({ pairs, differ }: { pairs: number; differ: number }, opts: GrainRule): boolean {
  const share = pairs ? differ / pairs : 0;
  if (share >= opts.minGrain) return true;
  return opts.lowGrain !== undefined && opts.grainPixels !== undefined && share >= opts.lowGrain && differ >= opts.grainPixels;
}
