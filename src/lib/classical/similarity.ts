/**
 * RANSAC for similarity transforms (rotation + uniform scale + translation, optionally with a
 * mirror), the geometry of real copy-moves. Two point pairs fix a similarity, so minimal samples
 * are small and, unlike a 6-parameter affine, near-collinear keypoints cannot produce degenerate
 * shears. Each sample is tried both as a proper and as a mirrored similarity. In complex numbers:
 * proper q = a p + t, mirrored q = a conj(p) + t.
 */
import { Rng } from '../util/random';
import type { Affine } from './geometry';

export interface SimilarityFit {
  affine: Affine;
  /** 1 for inliers, per point pair. */
  mask: Uint8Array;
  inliers: number;
}

/** Affine of q = a p + t (mirrored: a conj(p) + t), a = ar + i ai. */
function toAffine(ar: number, ai: number, tx: number, ty: number, mirrored: boolean): Affine {
  return mirrored ? [ar, ai, tx, ai, -ar, ty] : [ar, -ai, tx, ai, ar, ty];
}

/**
 * Least-squares similarity (proper or mirrored) of the point pairs src -> dst (each
 * [x0, y0, x1, y1, ...]), over the pairs `idx` or all of them.
 */
export function leastSquaresSimilarity(src: ArrayLike<number>, dst: ArrayLike<number>, mirrored: boolean, idx?: number[]): Affine {
  idx ??= Array.from({ length: src.length / 2 }, (_, i) => i);
  let px = 0;
  let py = 0;
  let qx = 0;
  let qy = 0;
  for (const i of idx) {
    px += src[2 * i];
    py += mirrored ? -src[2 * i + 1] : src[2 * i + 1];
    qx += dst[2 * i];
    qy += dst[2 * i + 1];
  }
  const n = idx.length;
  px /= n;
  py /= n;
  qx /= n;
  qy /= n;
  // a = sum(q_c * conj(p_c)) / sum |p_c|^2
  let nr = 0;
  let ni = 0;
  let den = 0;
  for (const i of idx) {
    const ux = src[2 * i] - px;
    const uy = (mirrored ? -src[2 * i + 1] : src[2 * i + 1]) - py;
    const vx = dst[2 * i] - qx;
    const vy = dst[2 * i + 1] - qy;
    nr += vx * ux + vy * uy;
    ni += vy * ux - vx * uy;
    den += ux * ux + uy * uy;
  }
  const ar = den > 0 ? nr / den : 1;
  const ai = den > 0 ? ni / den : 0;
  // t = q_mean - a * p_mean (p already conjugated when mirrored)
  const tx = qx - (ar * px - ai * py);
  const ty = qy - (ai * px + ar * py);
  return toAffine(ar, ai, tx, ty, mirrored);
}

function inlierMask(a: Affine, src: ArrayLike<number>, dst: ArrayLike<number>, thr2: number): { mask: Uint8Array; count: number } {
  const n = src.length / 2;
  const mask = new Uint8Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const x = src[2 * i];
    const y = src[2 * i + 1];
    const ex = a[0] * x + a[1] * y + a[2] - dst[2 * i];
    const ey = a[3] * x + a[4] * y + a[5] - dst[2 * i + 1];
    if (ex * ex + ey * ey <= thr2) {
      mask[i] = 1;
      count++;
    }
  }
  return { mask, count };
}

/**
 * How a hypothesis is scored: 'count', the inliers within the threshold (classic RANSAC);
 * 'magsac', a MAGSAC-style score that does not hinge on one threshold: each residual r adds
 * (1 - r^2 / t^2)^2 with t the threshold (the noise scale marginalised over, up to it), so
 * a model that fits its points tightly beats one that just keeps many of them near the threshold.
 */
export type RansacScore = 'count' | 'magsac';

/**
 * One hypothesis's inlier count (residual within the threshold) and its quality as `score` says:
 * the count itself, or the MAGSAC-style sum of (1 - r^2 / t^2)^2; one pass over the residuals.
 */
function hypothesisScore(a: Affine, src: ArrayLike<number>, dst: ArrayLike<number>, thr2: number, score: RansacScore): { count: number; quality: number } {
  let count = 0;
  let q = 0;
  for (let i = 0; i < src.length / 2; i++) {
    const x = src[2 * i];
    const y = src[2 * i + 1];
    const ex = a[0] * x + a[1] * y + a[2] - dst[2 * i];
    const ey = a[3] * x + a[4] * y + a[5] - dst[2 * i + 1];
    const r2 = ex * ex + ey * ey;
    if (r2 <= thr2) count++;
    if (r2 < thr2) q += (1 - r2 / thr2) * (1 - r2 / thr2);
  }
  return { count, quality: score === 'magsac' ? q : count };
}

/**
 * Best similarity by RANSAC (hypotheses scored as `score` says), then refitted on its inliers.
 * `minSpan` rejects minimal samples whose two points are too close to define rotation and scale.
 * Deterministic: the sampler is seeded.
 */
export function ransacSimilarity(
  src: ArrayLike<number>,
  dst: ArrayLike<number>,
  threshold: number,
  iterations: number,
  minSpan = 4,
  seed = 0x5eed,
  score: RansacScore = 'count',
): SimilarityFit | undefined {
  const n = src.length / 2;
  if (n < 2) return undefined;
  const rng = new Rng(seed);
  const thr2 = threshold * threshold;
  let best: { affine: Affine; count: number; quality: number; mirrored: boolean } | undefined;
  const iters = Math.min(iterations, (n * (n - 1)) / 2 + 10);
  for (let it = 0; it < iters; it++) {
    const i = rng.int(0, n - 1);
    const j = rng.int(0, n - 1);
    if (i === j) continue;
    const dpx = src[2 * j] - src[2 * i];
    const dpy = src[2 * j + 1] - src[2 * i + 1];
    const den = dpx * dpx + dpy * dpy;
    if (den < minSpan * minSpan) continue;
    const dqx = dst[2 * j] - dst[2 * i];
    const dqy = dst[2 * j + 1] - dst[2 * i + 1];
    for (const mirrored of [false, true]) {
      // a = dq / dp (proper) or dq / conj(dp) (mirrored)
      const py = mirrored ? -dpy : dpy;
      const ar = (dqx * dpx + dqy * py) / den;
      const ai = (dqy * dpx - dqx * py) / den;
      const sx = src[2 * i];
      const sy = mirrored ? -src[2 * i + 1] : src[2 * i + 1];
      const tx = dst[2 * i] - (ar * sx - ai * sy);
      const ty = dst[2 * i + 1] - (ai * sx + ar * sy);
      const affine = toAffine(ar, ai, tx, ty, mirrored);
      const { count, quality } = hypothesisScore(affine, src, dst, thr2, score);
      if (!best || quality > best.quality) best = { affine, count, quality, mirrored };
    }
  }
  if (!best || best.count < 2) return undefined;
  // Two refinement rounds: refit on inliers, recount.
  let { affine } = best;
  let { mask, count } = inlierMask(affine, src, dst, thr2);
  for (let round = 0; round < 2; round++) {
    const idx: number[] = [];
    for (let k = 0; k < n; k++) if (mask[k]) idx.push(k);
    const refit = leastSquaresSimilarity(src, dst, best.mirrored, idx);
    const next = inlierMask(refit, src, dst, thr2);
    if (next.count < count) break;
    affine = refit;
    mask = next.mask;
    count = next.count;
  }
  const snapped = snapToExact(affine, src, dst, mask, best.mirrored);
  if (snapped) {
    const next = inlierMask(snapped, src, dst, thr2);
    // Keep the exact geometry unless it explains clearly fewer matches.
    if (next.count >= 0.9 * count) return { affine: snapped, mask: next.mask, inliers: next.count };
  }
  return { affine, mask, inliers: count };
}

/**
 * Copies are usually made without resampling: unscaled, unrotated or turned by a multiple of 90
 * degrees. Keypoint positions from coarse pyramid levels bias the fit slightly (scale 0.98,
 * rotation 0.7 degrees), which then spoils dense verification along the region's far edges; a fit
 * that close to an exact geometry is snapped to it, with the translation re-estimated (median).
 */
function snapToExact(a: Affine, src: ArrayLike<number>, dst: ArrayLike<number>, mask: Uint8Array, mirrored: boolean): Affine | undefined {
  const ar = a[0];
  const ai = a[3];
  const scale = Math.hypot(ar, ai);
  const angle = (Math.atan2(ai, ar) * 180) / Math.PI;
  const quarter = Math.round(angle / 90) * 90;
  if (Math.abs(scale - 1) > 0.04 || Math.abs(angle - quarter) > 2) return undefined;
  const rad = (quarter * Math.PI) / 180;
  const [cr, ci] = [Math.round(Math.cos(rad)), Math.round(Math.sin(rad))];
  const lin = toAffine(cr, ci, 0, 0, mirrored);
  const tx: number[] = [];
  const ty: number[] = [];
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const x = src[2 * i];
    const y = src[2 * i + 1];
    tx.push(dst[2 * i] - (lin[0] * x + lin[1] * y));
    ty.push(dst[2 * i + 1] - (lin[3] * x + lin[4] * y));
  }
  if (tx.length === 0) return undefined;
  const median = (v: number[]) => v.sort((p, q) => p - q)[Math.floor(v.length / 2)];
  return [lin[0], lin[1], median(tx), lin[3], lin[4], median(ty)];
}
