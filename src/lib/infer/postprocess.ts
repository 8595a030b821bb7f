import { ConfigError, didYouMean } from '../errors';
import type { Masks } from '../data/types';
import { connectedComponents, maskBox } from '../data/components';
import { dilate } from '../classical/maskOps';
import { groupByCopyLinks, type CopyLinks } from './copy-link-events';
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
  /**
   * How the cleaned instances become copy-move events (see groupEvents). Default 'keep': the
   * predictors group their own output (the classical detector reports events, the run predictor
   * applies its `events` option), so this is for grouping on top of a predictor's own choice.
   */
  events?: EventPolicy;
  /**
   * Policy 'overlap': two instances whose nearest pixels lie at most this far apart (pixels,
   * 8-neighbourhood distance; 0: overlap only, 1: touching) are one event. Default 3.
   */
  eventGap?: number;
}

export const POSTPROCESS_DEFAULTS: Required<PostprocessOptions> = { scoreThreshold: 0, minArea: 10, mergeIoU: 0.6, events: 'keep', eventGap: 3 };

export function resolvePostprocessOptions(opts: PostprocessOptions = {}): Required<PostprocessOptions> {
  const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as PostprocessOptions;
  const o = { ...POSTPROCESS_DEFAULTS, ...given };
  if (!(o.scoreThreshold >= 0 && o.scoreThreshold <= 1)) throw new ConfigError(`scoreThreshold must be in [0, 1], got ${o.scoreThreshold}`);
  if (!(o.minArea >= 0) || !Number.isFinite(o.minArea)) throw new ConfigError(`minArea must be a number >= 0, got ${o.minArea}`);
  if (!(o.mergeIoU > 0 && o.mergeIoU <= 1)) throw new ConfigError(`mergeIoU must be in (0, 1], got ${o.mergeIoU}`);
  checkEventPolicy(o.events);
  checkEventGap(o.eventGap);
  return o;
}

/**
 * How a predictor's instances become copy-move events. In the competition's masks one channel is
 * one event: a source region and all of its copies. 'keep': the instances as they are;
 * 'merge-all': one event per image, every instance unioned, score the highest (most forged images
 * hold one event); 'overlap': instances whose masks overlap or come within a gap of a few pixels
 * (`eventGap`) are one event, transitively, score the highest of its members; 'copy-links': the
 * regions (instances within `eventGap` joined) grouped by the matched block pairs between them, a
 * source with its copies (infer/copy-link-events.ts; needs the image's links, which the run predictor
 * computes), one event when fewer than two linked groups are found.
 */
export type EventPolicy = 'keep' | 'merge-all' | 'overlap' | 'copy-links';
export const EVENT_POLICIES: readonly EventPolicy[] = ['keep', 'merge-all', 'overlap', 'copy-links'];

/** The policy itself, or a ConfigError naming the valid ones. */
export function checkEventPolicy(policy: string): EventPolicy {
  if (!(EVENT_POLICIES as readonly string[]).includes(policy)) {
    throw new ConfigError(`unknown event policy '${policy}'; ${didYouMean(policy, EVENT_POLICIES)}`);
  }
  return policy as EventPolicy;
}

function checkEventGap(gap: number): void {
  if (!(Number.isInteger(gap) && gap >= 0)) throw new ConfigError(`eventGap must be an integer >= 0 (pixels), got ${gap}`);
}

/** Pixels that are on (non-zero). */
export function maskArea(m: Uint8Array): number {
  let c = 0;
  for (let p = 0; p < m.length; p++) if (m[p] !== 0) c++;
  return c;
}

/** Intersection over union of two 0/1 masks of the same size (0 when both are empty). */
export function maskIoU(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let p = 0; p < a.length; p++) {
    inter += a[p] & b[p];
    union += a[p] | b[p];
  }
  return union ? inter / union : 0;
}

export interface ScoredMask {
  /** 0/1, H*W. */
  mask: Uint8Array;
  score: number;
}

/**
 * The one duplicate merge of sifd (postprocessPrediction, the classical detector's regions and its
 * resampled twins): `mask` is OR-ed into the first of `kept` that it overlaps with IoU above `iou`
 * (that one's score becomes the higher of the two), else a copy of it is appended. Returns the
 * index it landed at. `kept` is changed in place.
 */
export function addOrMerge(kept: ScoredMask[], mask: Uint8Array, score: number, iou: number): number {
  const k = kept.findIndex((r) => maskIoU(r.mask, mask) > iou);
  if (k < 0) {
    kept.push({ mask: mask.slice(), score });
    return kept.length - 1;
  }
  const r = kept[k];
  for (let p = 0; p < mask.length; p++) r.mask[p] |= mask[p];
  r.score = Math.max(r.score, score);
  return k;
}

/** addOrMerge over `items` in their order: a region found twice (IoU above `iou`) becomes one. */
export function mergeDuplicates(items: readonly ScoredMask[], iou: number): ScoredMask[] {
  const kept: ScoredMask[] = [];
  for (const it of items) addOrMerge(kept, it.mask, it.score, iou);
  return kept;
}

/**
 * Copy-move events from a prediction's instances (see EventPolicy). 'keep' returns `pred` itself;
 * otherwise the events come out sorted by score, highest first, and `probability` and `notes`
 * are carried over. Masks are read as 0/1 (any non-zero value is on).
 */
export function groupEvents(pred: InstancePrediction, policy: EventPolicy, opts: { gap?: number; links?: () => CopyLinks } = {}): InstancePrediction {
  checkEventPolicy(policy);
  const gap = opts.gap ?? POSTPROCESS_DEFAULTS.eventGap;
  checkEventGap(gap);
  const { count, height, width } = pred.instances;
  if (pred.scores.length !== count) throw new ConfigError(`prediction has ${count} instances but ${pred.scores.length} scores`);
  if (policy === 'keep' || count === 0) return pred;
  if (policy === 'copy-links') {
    if (!opts.links) throw new ConfigError("event policy 'copy-links' needs the image's matched block pairs (a run predictor computes them)");
    return groupByCopyLinks(pred, opts.links, { gap });
  }
  const n = height * width;
  const masks = Array.from({ length: count }, (_, i) => pred.instances.data.subarray(i * n, (i + 1) * n).map((v) => (v !== 0 ? 1 : 0)));
  const group = policy === 'merge-all' ? new Int32Array(count) : groupTouching(masks, height, width, gap);
  const events = new Map<number, ScoredMask>();
  masks.forEach((m, i) => {
    const e = events.get(group[i]);
    if (!e) {
      events.set(group[i], { mask: m, score: pred.scores[i] });
      return;
    }
    for (let p = 0; p < n; p++) e.mask[p] |= m[p];
    e.score = Math.max(e.score, pred.scores[i]);
  });
  const list = [...events.values()].sort((a, b) => b.score - a.score);
  const data = new Uint8Array(list.length * n);
  list.forEach((e, k) => data.set(e.mask, k * n));
  return { ...pred, instances: { data, count: list.length, height, width }, scores: list.map((e) => e.score) };
}

/**
 * A group label per 0/1 mask (H*W each): masks that overlap or lie within `gap` pixels (square
 * neighbourhood) of each other share one, transitively. Labels are mask indices (the group's first).
 */
export function groupTouching(masks: Uint8Array[], height: number, width: number, gap: number): Int32Array {
  const parent = Int32Array.from(masks.map((_, i) => i));
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  const boxes = masks.map((m) => boundingBox(m, width));
  for (let i = 0; i < masks.length; i++) {
    let grown: Uint8Array | undefined;
    for (let j = i + 1; j < masks.length; j++) {
      if (find(i) === find(j) || !boxesNear(boxes[i], boxes[j], gap)) continue;
      grown ??= gap > 0 ? dilate(masks[i], width, height, gap) : masks[i];
      if (touches(grown, masks[j], boxes[j]!, width)) parent[find(j)] = find(i);
    }
  }
  // labels: the smallest index of each group
  const root = masks.map((_, i) => find(i));
  const first = new Map<number, number>();
  root.forEach((r, i) => first.has(r) || first.set(r, i));
  return Int32Array.from(root.map((r) => first.get(r)!));
}

/**
 * Does `mask` overlap `other` anywhere, or come within `gap` pixels of it? (`other` already
 * dilated by the gap may be passed with gap 0.)
 */
export function masksTouch(mask: Uint8Array, other: Uint8Array, height: number, width: number, gap: number): boolean {
  const a = boundingBox(mask, width);
  const b = boundingBox(other, width);
  if (!boxesNear(a, b, gap)) return false;
  return touches(gap > 0 ? dilate(other, width, height, gap) : other, mask, a!, width);
}

type Bounds = { x0: number; y0: number; x1: number; y1: number };

function boxesNear(a: Bounds | null, b: Bounds | null, gap: number): boolean {
  if (!a || !b) return false;
  return !(b.x0 > a.x1 + gap || a.x0 > b.x1 + gap || b.y0 > a.y1 + gap || a.y0 > b.y1 + gap);
}

/** Any pixel of `m` (inside its bounds `box`) that is on in `grown`? */
function touches(grown: Uint8Array, m: Uint8Array, box: Bounds, width: number): boolean {
  for (let y = box.y0; y <= box.y1; y++) {
    for (let x = box.x0, p = y * width + x; x <= box.x1; x++, p++) if (m[p] && grown[p]) return true;
  }
  return false;
}

/** Inclusive bounding box of a 0/1 mask, or null when it is empty. */
function boundingBox(m: Uint8Array, width: number): Bounds | null {
  const box = maskBox(m, width);
  return box && { x0: box.x1, y0: box.y1, x1: box.x2 - 1, y1: box.y2 - 1 };
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
 * mergeIoU is OR-ed into it, see addOrMerge), then group them into events (`events`, default
 * 'keep'). Instances come out sorted by score, highest first. `notes` are carried over.
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
  // Low scores go first, so dropped instances are never resized.
  const scored = keepScoring(pred, o.scoreThreshold);
  const resized = resizeMasks(scored.instances, height, width);
  const n = height * width;
  const order = scored.scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]);
  const kept: ScoredMask[] = [];
  for (const [score, i] of order) {
    const mask = resized.data.slice(i * n, (i + 1) * n).map((v) => (v !== 0 ? 1 : 0)); // a predictor may use 255 for on
    if (maskArea(mask) < o.minArea) continue;
    addOrMerge(kept, mask, score, o.mergeIoU);
  }
  const data = new Uint8Array(kept.length * n);
  kept.forEach((k, i) => data.set(k.mask, i * n));
  const out: InstancePrediction = { instances: { data, count: kept.length, height, width }, scores: kept.map((k) => k.score) };
  if (pred.probability) {
    const src = probabilitySize ?? { height: pred.instances.height, width: pred.instances.width };
    out.probability = resizeProbability(pred.probability, src.height, src.width, height, width);
  }
  if (pred.notes) out.notes = pred.notes;
  return groupEvents(out, o.events, { gap: o.eventGap });
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
 * map (evidence/index.ts) whose mean model probability reaches `keep` joins the prediction with
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

/** The prediction without its instances scoring below `min` (probability map and notes kept). */
export function keepScoring(pred: InstancePrediction, min: number): InstancePrediction {
  if (min <= 0 || pred.scores.every((s) => s >= min)) return pred;
  const { height, width } = pred.instances;
  const n = height * width;
  const keep = pred.scores.map((s, i) => (s >= min ? i : -1)).filter((i) => i >= 0);
  const data = new Uint8Array(keep.length * n);
  keep.forEach((i, k) => data.set(pred.instances.data.subarray(i * n, (i + 1) * n), k * n));
  return { ...pred, instances: { data, count: keep.length, height, width }, scores: keep.map((i) => pred.scores[i]) };
}
