/**
 * The second look at a verified copy (refineAffine): its transform refined to sub-pixel accuracy on
 * the grey levels, and a resampled copy verified from its other side too (detect.ts verifyTransforms).
 */
import type { CopyTransform } from './geometry';
import type { GrayImage } from './grayscale';
import type { ClassicalParams } from './params';
import { invertAffine, type Affine } from './ransac';
import { refineAffine } from './refineAffine';
import { type ImageWindows, type VerifiedCopy, verifyCopy } from './verify';

/**
 * Mean ZNCC range of a first verification worth refining: above it the copy is registered already,
 * below it the transform matched structure, not a copy (a few tenths of a pixel cost a true copy ~0.1).
 */
const REFINE_ZNCC = [0.6, 0.97] as const;

/**
 * With refineAffine, the verification of the transform's sub-pixel refinement when that agrees better
 * (higher mean ZNCC over a region at least minArea) than its first verification `f`; else `f`. A copy
 * turned by an odd angle or rescaled is also verified the other way round (copy onto source), refined
 * alike: its windows then read the side that was not resampled on the image grid, which agrees
 * better when the forger's interpolation softened the copy (a figure panel turned by 249 degrees
 * verified at 0.89 one way, 0.95 the other).
 */
export function refineVerified(gray: GrayImage, windows: ImageWindows, f: { t: CopyTransform; v: VerifiedCopy }, p: ClassicalParams, minArea: number): { t: CopyTransform; v: VerifiedCopy } {
  const { t, v } = f;
  if (!p.refineAffine || v.sourceArea < minArea || v.meanZncc < REFINE_ZNCC[0] || v.meanZncc >= REFINE_ZNCC[1]) return f;
  const tries = [f, refinedOnce(gray, windows, f, p, minArea)];
  if (isResampled(t.affine)) {
    // the inverse of a mirrored transform is mirrored too: `flipped` carries over
    const back: CopyTransform = { ...t, affine: invertAffine(t.affine), src: t.dst, dst: t.src };
    const vb = verifyCopy(gray, back, p, windows);
    if (vb.sourceArea >= minArea && vb.meanZncc >= REFINE_ZNCC[0]) tries.push({ t: back, v: vb }, refinedOnce(gray, windows, { t: back, v: vb }, p, minArea));
  }
  return tries.reduce((best, r) => (r.v.sourceArea >= minArea && r.v.meanZncc > best.v.meanZncc ? r : best));
}

/** One Gauss-Newton refinement of `f`'s transform on its verified region, verified again. */
function refinedOnce(gray: GrayImage, windows: ImageWindows, f: { t: CopyTransform; v: VerifiedCopy }, p: ClassicalParams, minArea: number): { t: CopyTransform; v: VerifiedCopy } {
  const affine = refineAffine(gray, f.t.affine, f.v.source);
  if (!affine) return f;
  const t2 = { ...f.t, affine };
  const v2 = verifyCopy(gray, t2, p, windows);
  return v2.sourceArea >= minArea && v2.meanZncc > f.v.meanZncc ? { t: t2, v: v2 } : f;
}

/** Tolerance on the linear part for a copy that needed no resampling (a shift, flip or quarter turn). */
const GRID_TOLERANCE = 0.05;

/** Whether the copy was resampled: its linear part is not a signed permutation (turned by an odd angle, or rescaled). */
function isResampled(a: Affine): boolean {
  const unit = (x: number) => Math.abs(Math.abs(x) - 1) <= GRID_TOLERANCE;
  const zero = (x: number) => Math.abs(x) <= GRID_TOLERANCE;
  return !((unit(a[0]) && unit(a[4]) && zero(a[1]) && zero(a[3])) || (zero(a[0]) && zero(a[4]) && unit(a[1]) && unit(a[3])));
}
