/**
 * The classical copy-move detector, stage by stage:
 * grey -> working size -> contrast normalisation -> keypoints (+ mirrored) -> g2NN self-matching
 * -> clusters -> RANSAC similarity per cluster (+ transforms voted by dense block matching at
 * native resolution) -> dense ZNCC verification -> text-label
 * suppression -> instances at the original size (+ resampled twins, found at native resolution).
 */
import type { Image, Masks } from '../data/types';
import { blockMatchTransforms } from './blockMatch';
import { boxMean } from './maskOps';
import { normalizeContrast } from './contrast';
import { clusterMatches } from './cluster';
import { toGray, toWorkingSize, type GrayImage } from './grayscale';
import { detectKeypoints } from './keypoints';
import { matchKeypoints } from './match';
import { loadOpenCv, type OpenCv } from './opencv';
import { type ClassicalParams, resolveParams } from './params';
import { type Affine, type RejectedFit, fitTransforms, rescaleTransform } from './ransac';
import { isTextLike } from './textLabels';
import { denseMatchTransforms } from './denseMatch';
import { resampledTwinMap } from './resampledTwins';
import { verifyCopy } from './verify';
import { connectedComponents } from '../data/components';

/** What happened to each fitted transform, for plots and tuning. All coordinates: original pixels. */
export interface CopyCandidate {
  affine: Affine;
  inliers: number;
  cluster: number;
  flipped: boolean;
  meanZncc: number;
  support: number;
  detail: number;
  accepted: boolean;
  reason?: string;
}

export interface DetectionDebug {
  /** Working-image size and its factor relative to the original (working = original * scale). */
  scale: number;
  keypoints: { x: Float32Array; y: Float32Array; mirroredCount: number };
  matches: { ax: Float32Array; ay: Float32Array; bx: Float32Array; by: Float32Array; flipped: Uint8Array; cluster: Int32Array };
  clusters: { size: number }[];
  candidates: CopyCandidate[];
  rejectedFits: RejectedFit[];
  timings: Record<string, number>;
}

export interface CopyMoveDetection {
  instances: Masks;
  scores: number[];
  debug: DetectionDebug;
}

/** Instances overlapping more than this (IoU) are the same region found twice and get merged. */
const DUPLICATE_IOU = 0.5;
/**
 * A pasted copy lies apart from its source, while a periodic texture (chart grids, ladders) or a
 * mirror-symmetric object (a band, a cell) matched with itself gives a "source" and "copy" that
 * overlap or touch (the two halves of the object; verification leaves out the pixels that
 * A moves by less than minDistance, so the halves end up that far apart). Above this share of
 * the smaller region lying within minDistance of the other, a transform is structure, not a copy.
 * (A copy pasted right next to its own source is lost this way; it looks like a symmetric object.)
 */
const MAX_SELF_CONTACT = 0.02;

export async function detectCopyMove(image: Image, params: Partial<ClassicalParams> = {}): Promise<CopyMoveDetection> {
  const p = resolveParams(params);
  const cv = await loadOpenCv();
  return detectWith(cv, image, p);
}

export function detectWith(cv: OpenCv, image: Image, p: ClassicalParams): CopyMoveDetection {
  const timings: Record<string, number> = {};
  let t0 = performance.now();
  const lap = (name: string) => {
    const t = performance.now();
    timings[name] = t - t0;
    t0 = t;
  };
  const native = toGray(image);
  const { gray, scale } = toWorkingSize(cv, native, p.minSide, p.maxSide);
  const eq = normalizeContrast(cv, gray, p.contrast, p.claheClip, p.claheTiles);
  lap('preprocess');
  const kp = detectKeypoints(cv, eq, p);
  const kpMirror = p.flips ? detectKeypoints(cv, eq, p, true) : undefined;
  lap('keypoints');
  const matches = matchKeypoints(kp, kpMirror, p);
  lap('match');
  const clusters = clusterMatches(matches, p.clusterRadius).filter((c) => c.members.length >= p.minInliers);
  const clusterOf = new Int32Array(matches.count).fill(-1);
  clusters.forEach((c, ci) => c.members.forEach((m) => (clusterOf[m] = ci)));
  lap('cluster');
  const { transforms, rejected } = fitTransforms(cv, matches, clusters, p);
  lap('ransac');
  if (p.blockMatching) {
    // Native resolution (see blockMatch.ts), then into the working frame: x_w = scale * x.
    for (const t of blockMatchTransforms(native, p, p.minDistance / scale)) {
      transforms.push({ ...rescaleTransform(t, scale), cluster: clusters.length + transforms.length });
    }
    lap('blocks');
  }
  if (p.denseMatching) {
    for (const t of denseMatchTransforms(native, { minDistance: p.minDistance / scale })) {
      transforms.push({ ...rescaleTransform(t, scale), cluster: clusters.length + transforms.length });
    }
    lap('dense');
  }

  const regions: { mask: Uint8Array; score: number }[] = [];
  const candidates: CopyCandidate[] = [];
  const minArea = p.minRegionFraction * gray.width * gray.height;
  for (const t of transforms) {
    const v = verifyCopy(gray, t, p);
    let reason: string | undefined;
    if (v.support < p.minSupport) reason = `ZNCC support ${v.support.toFixed(2)} < ${p.minSupport}`;
    else if (v.detail < p.minDetail) reason = `detail correlation ${v.detail.toFixed(2)} < ${p.minDetail}`;
    else if (Math.min(v.sourceArea, v.targetArea) < minArea) reason = `region of ${Math.min(v.sourceArea, v.targetArea)} px too small`;
    else if (contact(v.source, v.target, gray.width, gray.height, p.minDistance + 1) > MAX_SELF_CONTACT) reason = 'source and copy touch (periodic or symmetric structure)';
    else if (p.suppressText && (isTextLike(gray, v.source) || isTextLike(gray, v.target))) reason = 'text label';
    candidates.push({
      affine: toOriginal(t.affine, scale),
      inliers: t.inliers,
      cluster: t.cluster,
      flipped: t.flipped,
      meanZncc: v.meanZncc,
      support: v.support,
      detail: v.detail,
      accepted: !reason,
      reason,
    });
    if (reason) continue;
    const score = Math.max(0, Math.min(1, v.meanZncc)) * Math.min(1, t.inliers / (2 * p.minInliers));
    if (p.mergePairs) {
      const both = new Uint8Array(v.source.length);
      for (let i = 0; i < both.length; i++) both[i] = v.source[i] | v.target[i];
      addRegion(regions, both, score);
    } else {
      addRegion(regions, v.source, score);
      addRegion(regions, v.target, score);
    }
  }
  lap('verify');
  let instances = toMasks(cv, regions.map((r) => r.mask), gray, image.width, image.height);
  const scores = regions.map((r) => r.score);
  lap('upscale');
  if (p.resampledTwins) {
    instances = addResampledTwins(image, instances, scores, p.minRegionFraction);
    lap('resampled');
  }

  const inv = 1 / scale;
  const scaleArr = (a: Float32Array) => a.map((v) => v * inv);
  return {
    instances,
    scores,
    debug: {
      scale,
      keypoints: {
        x: scaleArr(concat(kp.x, kpMirror?.x)),
        y: scaleArr(concat(kp.y, kpMirror?.y)),
        mirroredCount: kpMirror?.count ?? 0,
      },
      matches: {
        ax: scaleArr(matches.ax),
        ay: scaleArr(matches.ay),
        bx: scaleArr(matches.bx),
        by: scaleArr(matches.by),
        flipped: matches.flipped,
        cluster: clusterOf,
      },
      clusters: clusters.map((c) => ({ size: c.members.length })),
      candidates,
      rejectedFits: rejected,
      timings,
    },
  };
}

function concat(a: Float32Array, b?: Float32Array): Float32Array {
  if (!b) return a;
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Conjugates a working-frame affine into the original frame: S^-1 A S with S = scale. */
function toOriginal(a: Affine, scale: number): Affine {
  return [a[0], a[1], a[2] / scale, a[3], a[4], a[5] / scale];
}

/** Share of the smaller of a, b lying within `r` pixels (square neighbourhood) of the other. */
function contact(a: Uint8Array, b: Uint8Array, w: number, h: number, r: number): number {
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    na += a[i];
    nb += b[i];
  }
  const [small, other] = na <= nb ? [a, b] : [b, a];
  const near = boxMean(Float32Array.from(other), w, h, r);
  let touching = 0;
  for (let i = 0; i < small.length; i++) if (small[i] && near[i] > 1e-6) touching++;
  return touching / Math.max(1, Math.min(na, nb));
}

function iou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    inter += a[i] & b[i];
    union += a[i] | b[i];
  }
  return union ? inter / union : 0;
}

/** Adds a region, merging it into an existing one that it essentially repeats. */
function addRegion(regions: { mask: Uint8Array; score: number }[], mask: Uint8Array, score: number): void {
  for (const r of regions) {
    if (iou(r.mask, mask) > DUPLICATE_IOU) {
      for (let i = 0; i < mask.length; i++) r.mask[i] |= mask[i];
      r.score = Math.max(r.score, score);
      return;
    }
  }
  regions.push({ mask: mask.slice(), score });
}

/**
 * The instances plus each region of the resampled-twin map (native resolution) large enough to
 * keep, score 1 (verified pixel for pixel); a region that essentially repeats an instance is merged
 * into it. `scores` is extended in place.
 */
function addResampledTwins(image: Image, instances: Masks, scores: number[], minRegionFraction: number): Masks {
  const { width: W, height: H } = image;
  const n = W * H;
  const cc = connectedComponents(resampledTwinMap(image), H, W);
  const masks: Uint8Array[] = [];
  for (let k = 0; k < instances.count; k++) masks.push(instances.data.slice(k * n, (k + 1) * n));
  for (let c = 1; c <= cc.count; c++) {
    if (cc.areas[c - 1] < minRegionFraction * n) continue;
    const region = new Uint8Array(n);
    for (let q = 0; q < n; q++) if (cc.labels[q] === c) region[q] = 1;
    const same = masks.findIndex((m) => iou(m, region) > DUPLICATE_IOU);
    if (same >= 0) {
      for (let q = 0; q < n; q++) masks[same][q] |= region[q];
      scores[same] = 1;
    } else {
      masks.push(region);
      scores.push(1);
    }
  }
  const data = new Uint8Array(masks.length * n);
  masks.forEach((m, k) => data.set(m, k * n));
  return { data, count: masks.length, height: H, width: W };
}

/** Working-frame 0/1 masks -> (N,H,W) at the original size (bilinear then threshold, so edges stay smooth). */
function toMasks(cv: OpenCv, masks: Uint8Array[], gray: GrayImage, width: number, height: number): Masks {
  const out = new Uint8Array(masks.length * width * height);
  masks.forEach((m, k) => {
    const dst = out.subarray(k * width * height, (k + 1) * width * height);
    if (gray.width === width && gray.height === height) {
      dst.set(m);
      return;
    }
    const src = cv.matFromArray(gray.height, gray.width, cv.CV_8UC1, m.map((v) => v * 255));
    const big = new cv.Mat();
    try {
      cv.resize(src, big, new cv.Size(width, height), 0, 0, cv.INTER_LINEAR);
      const d: Uint8Array = big.data;
      for (let i = 0; i < dst.length; i++) dst[i] = d[i] >= 128 ? 1 : 0;
    } finally {
      src.delete();
      big.delete();
    }
  });
  return { data: out, count: masks.length, height, width };
}
