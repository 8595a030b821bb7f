/**
 * Geometric fit per match cluster with RANSAC, run sequentially: the
 * inliers of a fit are taken out and the rest fitted again, so one cluster may yield several
 * copies. A fit counts only with at least minInliers inliers and a plausible geometry (scale in
 * range, copy displaced by more than minDistance). The model is a similarity (our own RANSAC,
 * see similarity.ts; OpenCV.js lacks estimateAffinePartial2D) or a full affine (estimateAffine2D).
 */
import type { MatchCluster } from './cluster';
import type { Matches } from './match';
import { type OpenCv, release } from './opencv';
import type { ClassicalParams } from './params';
import type { Affine, CopyTransform } from './geometry';
import { ransacSimilarity } from './similarity';

export type { Affine, CopyTransform } from './geometry';

export interface RejectedFit {
  cluster: number;
  inliers: number;
  reason: string;
}

export function applyAffine(a: Affine, x: number, y: number): [number, number] {
  return [a[0] * x + a[1] * y + a[2], a[3] * x + a[4] * y + a[5]];
}

export function invertAffine(a: Affine): Affine {
  const det = a[0] * a[4] - a[1] * a[3];
  const i0 = a[4] / det;
  const i1 = -a[1] / det;
  const i3 = -a[3] / det;
  const i4 = a[0] / det;
  return [i0, i1, -(i0 * a[2] + i1 * a[5]), i3, i4, -(i3 * a[2] + i4 * a[5])];
}

/**
 * The same copy transform in a resampled frame x' = s x + c (a resized image, c = 0, or a box
 * downscale's cell centres): linear part unchanged, offset s t + c - L c, points s v + c.
 */
export function rescaleTransform(t: CopyTransform, s: number, c = 0): CopyTransform {
  const [a, b, tx, d, e, ty] = t.affine;
  return {
    ...t,
    affine: [a, b, s * tx + c - (a * c + b * c), d, e, s * ty + c - (d * c + e * c)],
    src: t.src.map((v) => s * v + c),
    dst: t.dst.map((v) => s * v + c),
  };
}

/** Singular values of the linear part (largest first). */
export function singularValues(a: Affine): [number, number] {
  const [p, q, , r, s] = a;
  const e = (p + s) / 2;
  const f = (p - s) / 2;
  const g = (r + q) / 2;
  const h = (r - q) / 2;
  const u = Math.hypot(e, h);
  const v = Math.hypot(f, g);
  return [u + v, Math.abs(u - v)];
}

export function fitTransforms(
  cv: OpenCv,
  matches: Matches,
  clusters: MatchCluster[],
  params: ClassicalParams,
): { transforms: CopyTransform[]; rejected: RejectedFit[] } {
  const transforms: CopyTransform[] = [];
  const rejected: RejectedFit[] = [];
  clusters.forEach((cl, ci) => {
    let src: number[] = [];
    let dst: number[] = [];
    cl.members.forEach((m, k) => {
      const s = cl.swapped[k] === 1;
      src.push(s ? matches.bx[m] : matches.ax[m], s ? matches.by[m] : matches.ay[m]);
      dst.push(s ? matches.ax[m] : matches.bx[m], s ? matches.ay[m] : matches.by[m]);
    });
    while (src.length / 2 >= params.minInliers) {
      const fit =
        params.model === 'similarity'
          ? ransacSimilarity(src, dst, params.ransacThreshold, params.ransacIters, params.minDistance / 2, undefined, params.ransacScore)
          : fitAffine(cv, src, dst, params);
      if (!fit) break;
      const { affine, mask } = fit;
      const inSrc: number[] = [];
      const inDst: number[] = [];
      const outSrc: number[] = [];
      const outDst: number[] = [];
      for (let i = 0; i < mask.length; i++) {
        const [a, b] = mask[i] ? [inSrc, inDst] : [outSrc, outDst];
        a.push(src[2 * i], src[2 * i + 1]);
        b.push(dst[2 * i], dst[2 * i + 1]);
      }
      const inliers = inSrc.length / 2;
      if (inliers < params.minInliers) {
        rejected.push({ cluster: ci, inliers, reason: `only ${inliers} inliers (< ${params.minInliers})` });
        break;
      }
      const reason = implausible(affine, inSrc, params);
      if (reason) rejected.push({ cluster: ci, inliers, reason });
      else {
        transforms.push({
          affine,
          src: Float32Array.from(inSrc),
          dst: Float32Array.from(inDst),
          inliers,
          cluster: ci,
          flipped: affine[0] * affine[4] - affine[1] * affine[3] < 0,
        });
      }
      src = outSrc;
      dst = outDst;
    }
  });
  return { transforms, rejected };
}

function fitAffine(cv: OpenCv, src: number[], dst: number[], params: ClassicalParams): { affine: Affine; mask: Uint8Array } | undefined {
  const n = src.length / 2;
  const a = cv.matFromArray(n, 1, cv.CV_32FC2, src);
  const b = cv.matFromArray(n, 1, cv.CV_32FC2, dst);
  const inl = new cv.Mat();
  let m: OpenCv;
  try {
    m = cv.estimateAffine2D(a, b, inl, cv.RANSAC, params.ransacThreshold, params.ransacIters, 0.995, 10);
    if (!m || m.rows !== 2 || m.cols !== 3) return undefined;
    const affine = Array.from(m.data64F as Float64Array) as Affine;
    if (!affine.every(Number.isFinite)) return undefined;
    return { affine, mask: new Uint8Array(inl.data) };
  } finally {
    release(a, b, inl, m);
  }
}

function implausible(a: Affine, src: number[], params: ClassicalParams): string | undefined {
  const [s1, s2] = singularValues(a);
  if (s2 < params.minScale || s1 > params.maxScale) return `scale ${s2.toFixed(2)}..${s1.toFixed(2)} out of range`;
  if (s1 / s2 > 2) return `anisotropic (singular values ${s1.toFixed(2)}, ${s2.toFixed(2)})`;
  let moved = 0;
  for (let i = 0; i < src.length; i += 2) {
    const [x, y] = applyAffine(a, src[i], src[i + 1]);
    moved += Math.hypot(x - src[i], y - src[i + 1]);
  }
  moved /= src.length / 2;
  if (moved < params.minDistance) return `copy displaced by ${moved.toFixed(1)} px only`;
  return undefined;
}
