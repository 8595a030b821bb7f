import { ConfigError } from '../errors';
import type { Masks } from '../data/types';
import { connectedComponents } from '../data/components';
import type { InstancePrediction } from './types';

/**
 * From raw model output to the instances a submission holds, at the image's ORIGINAL size.
 *
 * Resize policy for any image size (no tiling): a model runs at its own fixed input size; its
 * instance masks come back with nearest-neighbour resizing and its probability map with bilinear
 * resizing (half-pixel centres, as tf.image.resize*(halfPixelCenters) and PIL do). Memory stays
 * bounded by the model input plus one H*W byte mask per kept instance, so very large scans
 * (e.g. 6000x4000) cost 24 MB per instance and never go through the model at full size.
 */
export interface PostprocessOptions {
  /** Instances scoring below this are dropped. Default 0 (keep all). */
  scoreThreshold?: number;
  /** Instances with fewer pixels than this, at original size, are dropped. Default 10. */
  minArea?: number;
  /** Two instances whose IoU exceeds this are one region seen twice: merged (union, max score). Default 0.6. */
  mergeIoU?: number;
}

export const POSTPROCESS_DEFAULTS: Required<PostprocessOptions> = { scoreThreshold: 0, minArea: 10, mergeIoU: 0.6 };

export function resolvePostprocessOptions(opts: PostprocessOptions = {}): Required<PostprocessOptions> {
  const o = { ...POSTPROCESS_DEFAULTS, ...opts };
  if (!(o.scoreThreshold >= 0 && o.scoreThreshold <= 1)) throw new ConfigError(`scoreThreshold must be in [0, 1], got ${o.scoreThreshold}`);
  if (!(o.minArea >= 0) || !Number.isFinite(o.minArea)) throw new ConfigError(`minArea must be a number >= 0, got ${o.minArea}`);
  if (!(o.mergeIoU > 0 && o.mergeIoU <= 1)) throw new ConfigError(`mergeIoU must be in (0, 1], got ${o.mergeIoU}`);
  return o;
}

/** Nearest-neighbour resize of (N,h,w) masks to (N,height,width). */
export function resizeMasks(masks: Masks, height: number, width: number): Masks {
  if (masks.height === height && masks.width === width) return masks;
  const srcN = masks.height * masks.width;
  const dstN = height * width;
  const xs = nearestIndex(masks.width, width);
  const ys = nearestIndex(masks.height, height);
  const data = new Uint8Array(masks.count * dstN);
  for (let i = 0; i < masks.count; i++) {
    const src = i * srcN;
    const dst = i * dstN;
    for (let y = 0; y < height; y++) {
      const row = src + ys[y] * masks.width;
      for (let x = 0; x < width; x++) data[dst + y * width + x] = masks.data[row + xs[x]];
    }
  }
  return { data, count: masks.count, height, width };
}

/** Bilinear resize of an (h,w) row-major map to (height,width), half-pixel centres. */
export function resizeProbability(prob: Float32Array, h: number, w: number, height: number, width: number): Float32Array {
  if (prob.length !== h * w) throw new ConfigError(`probability map has ${prob.length} values, expected ${h}x${w}`);
  if (h === height && w === width) return prob;
  const out = new Float32Array(height * width);
  const ax = linearAxis(w, width);
  const ay = linearAxis(h, height);
  for (let y = 0; y < height; y++) {
    const r0 = ay.lo[y] * w;
    const r1 = ay.hi[y] * w;
    const fy = ay.frac[y];
    for (let x = 0; x < width; x++) {
      const x0 = ax.lo[x];
      const x1 = ax.hi[x];
      const fx = ax.frac[x];
      const top = prob[r0 + x0] * (1 - fx) + prob[r0 + x1] * fx;
      const bottom = prob[r1 + x0] * (1 - fx) + prob[r1 + x1] * fx;
      out[y * width + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/**
 * Bring a prediction to (height,width) and clean it: resize, drop low-score and small instances,
 * merge near-duplicates (highest score first; a later instance overlapping a kept one above
 * mergeIoU is OR-ed into it). Instances come out sorted by score, highest first.
 */
export function postprocessPrediction(
  pred: InstancePrediction,
  probabilitySize: { height: number; width: number } | null,
  height: number,
  width: number,
  opts: PostprocessOptions = {},
): InstancePrediction {
  const o = resolvePostprocessOptions(opts);
  if (pred.scores.length !== pred.instances.count) {
    throw new ConfigError(`prediction has ${pred.instances.count} instances but ${pred.scores.length} scores`);
  }
  const resized = resizeMasks(pred.instances, height, width);
  const n = height * width;
  const order = pred.scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]);
  const kept: Array<{ mask: Uint8Array; area: number; score: number }> = [];
  for (const [score, i] of order) {
    if (score < o.scoreThreshold) continue;
    const mask = resized.data.slice(i * n, (i + 1) * n).map((v) => (v !== 0 ? 1 : 0)); // a predictor may use 255 for on
    const area = countOn(mask);
    if (area < o.minArea) continue;
    const twin = kept.find((k) => iou(k.mask, k.area, mask, area) > o.mergeIoU);
    if (twin) {
      for (let p = 0; p < n; p++) twin.mask[p] |= mask[p];
      twin.area = countOn(twin.mask);
    } else {
      kept.push({ mask, area, score });
    }
  }
  const data = new Uint8Array(kept.length * n);
  kept.forEach((k, i) => data.set(k.mask, i * n));
  const out: InstancePrediction = { instances: { data, count: kept.length, height, width }, scores: kept.map((k) => k.score) };
  if (pred.probability) {
    const src = probabilitySize ?? { height: pred.instances.height, width: pred.instances.width };
    out.probability = resizeProbability(pred.probability, src.height, src.width, height, width);
  }
  return out;
}

/**
 * Instances from a per-pixel probability map (semantic segmentation models): pixels at or above
 * `threshold`, split into 8-connected regions, each scored by its mean probability. Regions
 * below `minArea` pixels are dropped. The map is returned as `probability`.
 */
export function probabilityToInstances(prob: Float32Array, height: number, width: number, opts: { threshold?: number; minArea?: number } = {}): InstancePrediction {
  const threshold = opts.threshold ?? 0.5;
  const minArea = opts.minArea ?? POSTPROCESS_DEFAULTS.minArea;
  if (!(threshold > 0 && threshold <= 1)) throw new ConfigError(`threshold must be in (0, 1], got ${threshold}`);
  if (prob.length !== height * width) throw new ConfigError(`probability map has ${prob.length} values, expected ${height}x${width}`);
  const plane = new Uint8Array(prob.length);
  for (let p = 0; p < prob.length; p++) plane[p] = prob[p] >= threshold ? 1 : 0;
  const cc = connectedComponents(plane, height, width);
  const sums = new Float64Array(cc.count + 1);
  for (let p = 0; p < prob.length; p++) sums[cc.labels[p]] += prob[p];
  const keep = cc.areas.map((a, i) => i).filter((i) => cc.areas[i] >= minArea);
  const n = height * width;
  const data = new Uint8Array(keep.length * n);
  const slot = new Int32Array(cc.count + 1).fill(-1);
  keep.forEach((i, k) => (slot[i + 1] = k));
  for (let p = 0; p < n; p++) {
    const k = slot[cc.labels[p]];
    if (k >= 0) data[k * n + p] = 1;
  }
  return {
    instances: { data, count: keep.length, height, width },
    scores: keep.map((i) => sums[i + 1] / cc.areas[i]),
    probability: prob,
  };
}

function iou(a: Uint8Array, areaA: number, b: Uint8Array, areaB: number): number {
  let inter = 0;
  for (let p = 0; p < a.length; p++) inter += a[p] & b[p];
  const union = areaA + areaB - inter;
  return union > 0 ? inter / union : 0;
}

function countOn(m: Uint8Array): number {
  let c = 0;
  for (let p = 0; p < m.length; p++) c += m[p] !== 0 ? 1 : 0;
  return c;
}

/** For each destination index, the nearest source index (half-pixel centres). */
function nearestIndex(src: number, dst: number): Int32Array {
  const out = new Int32Array(dst);
  const scale = src / dst;
  for (let d = 0; d < dst; d++) out[d] = Math.min(src - 1, Math.floor((d + 0.5) * scale));
  return out;
}

function linearAxis(src: number, dst: number): { lo: Int32Array; hi: Int32Array; frac: Float32Array } {
  const lo = new Int32Array(dst);
  const hi = new Int32Array(dst);
  const frac = new Float32Array(dst);
  const scale = src / dst;
  for (let d = 0; d < dst; d++) {
    const s = Math.min(src - 1, Math.max(0, (d + 0.5) * scale - 0.5));
    lo[d] = Math.floor(s);
    hi[d] = Math.min(src - 1, lo[d] + 1);
    frac[d] = s - lo[d];
  }
  return { lo, hi, frac };
}

/**
 * Evidence verified by the model, at native resolution. Each 8-connected region of a 0/1 evidence
 * map (data/evidence.ts) whose mean model probability reaches `keep` joins the prediction with
 * its pixel-exact outline (its pixels are raised to `threshold`); the model's own regions stay.
 * The model has seen the evidence only resized to its input size, so it judges which regions are
 * copies (repeated glyphs and look-alikes are not) better than it draws their boundaries.
 * Returns the fused probability map.
 */
export function keepVerifiedEvidence(prob: Float32Array, evidence: Uint8Array, height: number, width: number, keep: number, threshold: number): Float32Array {
  const n = height * width;
  if (prob.length !== n || evidence.length !== n) throw new ConfigError(`probability (${prob.length}) and evidence (${evidence.length}) must both be ${height}x${width}`);
  if (!(keep >= 0 && keep <= 1)) throw new ConfigError(`evidence keep threshold must be in [0, 1], got ${keep}`);
  const cc = connectedComponents(evidence, height, width);
  const sums = new Float64Array(cc.count + 1);
  for (let p = 0; p < n; p++) sums[cc.labels[p]] += prob[p];
  const out = Float32Array.from(prob);
  for (let p = 0; p < n; p++) {
    const l = cc.labels[p];
    if (l > 0 && sums[l] / cc.areas[l - 1] >= keep && out[p] < threshold) out[p] = threshold;
  }
  return out;
}
