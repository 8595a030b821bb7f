/**
 * The per-transform steps of verification that the stage worker can share (stageWorker.ts
 * shareMap): pure functions of the working image, the parameters and one item, so it does not
 * matter which thread computes an item.
 */
import type { Affine, CopyTransform } from './geometry';
import type { GrayImage } from './grayscale';
import type { ClassicalParams } from './params';
import { refineAffineOver, rescaledAbout } from './refineAffine';
import { refineVerified } from './refineCopy';
import { touchesItsCopy } from './selfContact';
import { atPanelPitch, type PanelBox, segmentPanels } from './panels';
import { detailAt, detailDropAt, type ImageWindows, registerByDetail, type VerifiedCopy, verifyCopy } from './verify';

/** What every item of a detection's maps reads. */
export interface MapContext {
  gray: GrayImage;
  windows: ImageWindows;
  p: ClassicalParams;
  /** verifyTransforms' smallest region (pixels). */
  minArea: number;
  /** The figure's panels (panels.ts), segmented on first use. */
  panels(): PanelBox[];
}

/** What a map job carries: the context less what each thread computes for itself. */
export type SentContext = Omit<MapContext, 'windows' | 'panels'>;

/** A thread's full context for a detection's maps. */
export function mapContext(sent: SentContext, windows: ImageWindows): MapContext {
  let panels: PanelBox[] | undefined;
  return { ...sent, windows, panels: () => (panels ??= segmentPanels(sent.gray)) };
}

export interface Verification {
  t: CopyTransform;
  v: VerifiedCopy;
}

/** Whether a verified copy touches its own source (a symmetric object or periodic pattern, selfContact.ts). */
export function touches(v: VerifiedCopy, affine: Affine, gray: GrayImage, p: ClassicalParams): boolean {
  const mirror = affine[0] * affine[4] - affine[1] * affine[3] < 0;
  return touchesItsCopy(v.source, v.target, gray.width, gray.height, mirror ? Math.max(p.minDistance, p.mirrorMinGap) : p.minDistance);
}

export const SHARED_MAPS = {
  /**
   * The early detail-peak test of a proposal whose inliers are many matched blocks (near blocks,
   * peakFirst): the proposal registered to where its fine detail peaks (within nearRegister px, never
   * onto a compound figure's panel pitch, where frames and templates register exactly, copied or not),
   * and how much that detail falls 2 px off it (verify.ts detailDropAt).
   */
  peak: (c: MapContext, proposed: CopyTransform): { t: CopyTransform; drop: number } => {
    const { gray, windows, p } = c;
    // the pixels depend on the inliers only: registration moves the transform, not them
    const pixels = inlierBlocks(proposed, gray);
    const registered = p.nearRegister > 0 ? registerByDetail(gray, windows, pixels, proposed.affine, p.nearRegister) : proposed.affine;
    const affine = registered !== proposed.affine && atPanelPitch(c.panels(), registered[2], registered[5]) ? proposed.affine : registered;
    const t = affine === proposed.affine ? proposed : { ...proposed, affine };
    const drop = detailDropAt(gray, windows, pixels, t.affine);
    if (drop >= p.minDetailDrop || !p.nearRescale) return { t, drop };
    const rescaled = rescaledPeak(gray, windows, pixels, t.affine);
    const better = rescaled && rescaled.drop > drop && !atPanelPitch(c.panels(), rescaled.affine[2], rescaled.affine[5]);
    return better ? { t: { ...t, affine: rescaled.affine }, drop: rescaled.drop } : { t, drop };
  },
  /** Dense verification of a proposal, and whether its copy touches its source. */
  verify: (c: MapContext, t: CopyTransform): Verification & { touching: boolean } => {
    const v = verifyCopy(c.gray, t, c.p, c.windows);
    return { t, v, touching: touches(v, t.affine, c.gray, c.p) };
  },
  /** Refinement of a verified proposal (refineCopy.ts); null when it keeps the proposal as it was. */
  refine: (c: MapContext, f: Verification): Verification | null => {
    const r = refineVerified(c.gray, c.windows, f, c.p, c.minArea);
    return r === f ? null : r;
  },
} as const;

/**
 * A near-block translation that does not peak may be a rescaled copy proposed at its centre, where
 * blocks still match: rescaled about the inlier blocks' centre by the one of RESCALE_SEEDS at which
 * their fine detail agrees most, refined from there (refineAffine.ts), and how much its detail peaks.
 * Undefined unless the fit is a rescaling (a similarity whose scale differs from 1 by RESCALE_MIN or
 * more: Gauss-Newton's free shear and sub-pixel moves would otherwise fit look-alike structure its own way).
 */
function rescaledPeak(gray: GrayImage, windows: ImageWindows, pixels: readonly number[], a: Affine): { affine: Affine; drop: number } | undefined {
  if (pixels.length === 0) return undefined;
  const W = gray.width;
  let cx = 0;
  let cy = 0;
  for (const g of pixels) {
    cx += g % W;
    cy += Math.floor(g / W);
  }
  const seeds = RESCALE_SEEDS.map((s) => rescaledAbout(a, cx / pixels.length, cy / pixels.length, s));
  const agreement = seeds.map((seed) => detailAt(gray, windows, pixels, seed));
  const seed = seeds[agreement.indexOf(Math.max(...agreement))];
  const fit = refineAffineOver(gray, seed, pixels, { maxShift: RESCALE_MAX_SHIFT, maxPixels: RESCALE_PIXELS });
  return fit && isRescaling(fit) ? { affine: fit, drop: detailDropAt(gray, windows, pixels, fit) } : undefined;
}

/**
 * Whether the linear part is a similarity (within RESCALE_SIMILAR of its scale; near-block proposals
 * are translations, so never a reflection) with a scale at least RESCALE_MIN from 1.
 */
function isRescaling(a: Affine): boolean {
  const s = Math.sqrt(Math.abs(a[0] * a[4] - a[1] * a[3]));
  return Math.abs(a[0] - a[4]) <= RESCALE_SIMILAR * s && Math.abs(a[1] + a[3]) <= RESCALE_SIMILAR * s && Math.abs(s - 1) >= RESCALE_MIN;
}

/** Scales the rescaled-copy search tries: near blocks match about the centre of copies rescaled by up to about a quarter. */
const RESCALE_SEEDS = [0.8, 0.87, 0.93, 1.07, 1.15, 1.25];
/** Inlier-block pixels the refinement reads at most (an even subsample). */
const RESCALE_PIXELS = 1500;
/** How far (pixels) the fit may move any corner of the inlier blocks' box from its seed. */
const RESCALE_MAX_SHIFT = 12;
/** A fit rescales by at least this much (the generator's and most forgers' rescalings are 8% or more). */
const RESCALE_MIN = 0.04;
/** How far from a similarity (relative to its scale) a fit's linear part may be. */
const RESCALE_SIMILAR = 0.03;

/**
 * The pixels of the squares (side 2 * INLIER_RADIUS + 1) around at most PEAK_INLIERS of a transform's
 * source inliers, evenly drawn, each pixel once: enough to tell a copy from look-alike structure.
 */
function inlierBlocks(t: CopyTransform, gray: GrayImage): number[] {
  const { width: W, height: H } = gray;
  const n = t.src.length / 2;
  const step = Math.max(1, n / PEAK_INLIERS);
  const seen = new Set<number>();
  for (let q = 0; q < n; q += step) {
    const k = 2 * Math.floor(q);
    const cx = Math.round(t.src[k]);
    const cy = Math.round(t.src[k + 1]);
    for (let y = Math.max(0, cy - INLIER_RADIUS); y <= Math.min(H - 1, cy + INLIER_RADIUS); y++) {
      for (let x = Math.max(0, cx - INLIER_RADIUS); x <= Math.min(W - 1, cx + INLIER_RADIUS); x++) seen.add(y * W + x);
    }
  }
  return [...seen];
}

/** Half the side of the square around an inlier that the early detail-peak test reads (near-block inliers are matched blocks' centres). */
const INLIER_RADIUS = 4;
/** Inliers the early detail-peak test reads at most. */
const PEAK_INLIERS = 64;

export type SharedMapName = keyof typeof SHARED_MAPS;
export type SharedMapItem<K extends SharedMapName> = Parameters<(typeof SHARED_MAPS)[K]>[1];
export type SharedMapResult<K extends SharedMapName> = ReturnType<(typeof SHARED_MAPS)[K]>;

export function isSharedMap(name: string): name is SharedMapName {
  return Object.prototype.hasOwnProperty.call(SHARED_MAPS, name);
}
