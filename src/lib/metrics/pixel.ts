import { MetricError } from '../errors';
import type { Masks } from '../data/types';
import { f1FromCounts } from './of1';
import { rocAucFromHistograms } from './roc';

/** Pixel counts of one prediction against one truth (flat 0/1 masks of equal size). */
export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export function confusion(pred: Uint8Array, truth: Uint8Array): Confusion {
  if (pred.length !== truth.length) throw new MetricError(`mask sizes differ: ${pred.length} vs ${truth.length}`);
  const c: Confusion = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (let k = 0; k < pred.length; k++) {
    const p = pred[k] !== 0;
    const t = truth[k] !== 0;
    if (p && t) c.tp++;
    else if (p) c.fp++;
    else if (t) c.fn++;
    else c.tn++;
  }
  return c;
}

export function addConfusion(a: Confusion, b: Confusion): Confusion {
  return { tp: a.tp + b.tp, fp: a.fp + b.fp, fn: a.fn + b.fn, tn: a.tn + b.tn };
}

/** Union of all instances: the (H*W) binary "forged here" mask (data/components.ts owns it). */
export { unionMask } from '../data/components';

export interface PrecisionRecallF1 {
  precision: number;
  recall: number;
  f1: number;
}

/** Precision/recall/F1 of pooled pixel counts; an empty denominator gives 0. */
export function precisionRecallF1(c: Confusion): PrecisionRecallF1 {
  return {
    precision: c.tp + c.fp > 0 ? c.tp / (c.tp + c.fp) : 0,
    recall: c.tp + c.fn > 0 ? c.tp / (c.tp + c.fn) : 0,
    f1: f1FromCounts(c.tp, c.fp, c.fn),
  };
}

/** Per-image overlap of the union masks. Empty prediction on empty truth scores 1 (nothing to find, nothing claimed). */
export interface ImageOverlap {
  dice: number;
  iou: number;
  /** Truth has at least one forged pixel. */
  forged: boolean;
}

export function imageOverlap(c: Confusion): ImageOverlap {
  const forged = c.tp + c.fn > 0;
  if (c.tp + c.fp + c.fn === 0) return { dice: 1, iou: 1, forged };
  return { dice: (2 * c.tp) / (2 * c.tp + c.fp + c.fn), iou: c.tp / (c.tp + c.fp + c.fn), forged };
}

/**
 * The seed notebooks' variants: `*_pos` = mean over forged images only, `*_all` = mean over every
 * image (authentic ones score 1 for an empty prediction, 0 otherwise). NaN when a set is empty.
 */
export interface OverlapSummary {
  dice_pos: number;
  dice_all: number;
  iou_pos: number;
  iou_all: number;
}

export function summarizeOverlap(images: readonly ImageOverlap[]): OverlapSummary {
  const pos = images.filter((o) => o.forged);
  const mean = (xs: readonly ImageOverlap[], key: 'dice' | 'iou') =>
    xs.length ? xs.reduce((s, o) => s + o[key], 0) / xs.length : NaN;
  return { dice_pos: mean(pos, 'dice'), dice_all: mean(images, 'dice'), iou_pos: mean(pos, 'iou'), iou_all: mean(images, 'iou') };
}

/** Binary mask = probability >= threshold. */
export function thresholdProbability(prob: Float32Array, threshold: number): Uint8Array {
  const out = new Uint8Array(prob.length);
  for (let k = 0; k < prob.length; k++) out[k] = prob[k] >= threshold ? 1 : 0;
  return out;
}

export interface ThresholdedScores extends PrecisionRecallF1 {
  threshold: number;
}

/**
 * Pools pixel probabilities of many images into two histograms (truth positive / negative), so
 * precision/recall/F1 at any grid threshold, the best threshold and pixel ROC AUC come from one
 * pass over the data. Thresholds are on the grid k/bins (probability >= k/bins is positive).
 */
export class PixelScoreHistogram {
  readonly bins: number;
  readonly pos: Float64Array;
  readonly neg: Float64Array;

  constructor(bins = 1000) {
    if (!Number.isInteger(bins) || bins < 2) throw new MetricError(`histogram bins must be an integer >= 2, got ${bins}`);
    this.bins = bins;
    this.pos = new Float64Array(bins);
    this.neg = new Float64Array(bins);
  }

  /** Add one image: probabilities in [0, 1] (clamped) and the (H*W) truth union mask. */
  add(prob: Float32Array, truth: Uint8Array): void {
    if (prob.length !== truth.length) throw new MetricError(`probability map has ${prob.length} pixels, truth ${truth.length}`);
    for (let k = 0; k < prob.length; k++) {
      const p = prob[k];
      const bin = p >= 1 ? this.bins - 1 : p > 0 ? Math.floor(p * this.bins) : 0;
      if (truth[k] !== 0) this.pos[bin]++;
      else this.neg[bin]++;
    }
  }

  /** Pooled counts with the threshold k/bins, k = round(threshold * bins). */
  confusionAt(threshold: number): Confusion {
    const k0 = Math.min(this.bins, Math.max(0, Math.round(threshold * this.bins)));
    const c: Confusion = { tp: 0, fp: 0, fn: 0, tn: 0 };
    for (let k = 0; k < this.bins; k++) {
      if (k >= k0) {
        c.tp += this.pos[k];
        c.fp += this.neg[k];
      } else {
        c.fn += this.pos[k];
        c.tn += this.neg[k];
      }
    }
    return c;
  }

  at(threshold: number): ThresholdedScores {
    return { threshold, ...precisionRecallF1(this.confusionAt(threshold)) };
  }

  /** The grid threshold with the highest pooled F1 (lowest threshold on ties). */
  best(): ThresholdedScores {
    let totalPos = 0;
    for (let k = 0; k < this.bins; k++) totalPos += this.pos[k];
    let tp = 0;
    let fp = 0;
    let bestK = this.bins;
    let bestF1 = -1;
    // sweep from the highest threshold down, adding one bin at a time
    for (let k = this.bins - 1; k >= 0; k--) {
      tp += this.pos[k];
      fp += this.neg[k];
      const f1 = f1FromCounts(tp, fp, totalPos - tp);
      if (f1 >= bestF1) {
        bestF1 = f1;
        bestK = k;
      }
    }
    return this.at(bestK / this.bins);
  }

  rocAuc(): number {
    return rocAucFromHistograms(this.pos, this.neg);
  }
}
