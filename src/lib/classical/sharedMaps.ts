/**
 * The per-transform steps of verification that the stage worker can share (stageWorker.ts
 * shareMap): pure functions of the working image, the parameters and one item, so it does not
 * matter which thread computes an item.
 */
import type { CopyTransform } from './geometry';
import type { GrayImage } from './grayscale';
import type { ClassicalParams } from './params';
import { refineVerified } from './refineCopy';
import { touchesItsCopy } from './selfContact';
import { type ImageWindows, type VerifiedCopy, verifyCopy } from './verify';

/** What every item of a detection's maps reads. */
export interface MapContext {
  gray: GrayImage;
  windows: ImageWindows;
  p: ClassicalParams;
  /** verifyTransforms' smallest region (pixels). */
  minArea: number;
}

export interface Verification {
  t: CopyTransform;
  v: VerifiedCopy;
}

/** Whether a verified copy touches its own source (a symmetric object or periodic pattern, selfContact.ts). */
export function touches(v: VerifiedCopy, gray: GrayImage, p: ClassicalParams): boolean {
  return touchesItsCopy(v.source, v.target, gray.width, gray.height, p.minDistance);
}

export const SHARED_MAPS = {
  /** Dense verification of a proposal, and whether its copy touches its source. */
  verify: (c: MapContext, t: CopyTransform): Verification & { touching: boolean } => {
    const v = verifyCopy(c.gray, t, c.p, c.windows);
    return { t, v, touching: touches(v, c.gray, c.p) };
  },
  /** Refinement of a verified proposal (refineCopy.ts); null when it keeps the proposal as it was. */
  refine: (c: MapContext, f: Verification): Verification | null => {
    const r = refineVerified(c.gray, c.windows, f, c.p, c.minArea);
    return r === f ? null : r;
  },
} as const;

export type SharedMapName = keyof typeof SHARED_MAPS;
export type SharedMapItem<K extends SharedMapName> = Parameters<(typeof SHARED_MAPS)[K]>[1];
export type SharedMapResult<K extends SharedMapName> = ReturnType<(typeof SHARED_MAPS)[K]>;

export function isSharedMap(name: string): name is SharedMapName {
  return Object.prototype.hasOwnProperty.call(SHARED_MAPS, name);
}
