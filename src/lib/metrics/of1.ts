import { MetricError } from '../errors';
import type { Masks } from '../data/types';
import { maxWeightAssignment } from './assignment';

/**
 * Kaggle oF1 for one image, exactly as the competition's metric computes it:
 * - if truth or prediction has no instance (`authentic`): 1 when both have none, else 0;
 * - otherwise the pixel-F1 matrix pred x true, the assignment maximising total F1, and
 *   score = sum of matched F1 / max(n_pred, n_true) (unmatched instances on either side cost).
 * The final competition score is the mean of this over images (`meanScore`).
 */
export function imageOF1(pred: Masks, truth: Masks): number {
  if (pred.height !== truth.height || pred.width !== truth.width) {
    throw new MetricError(`prediction is ${pred.height}x${pred.width} but truth is ${truth.height}x${truth.width}`);
  }
  if (pred.count === 0 || truth.count === 0) return pred.count === truth.count ? 1 : 0;
  const f1 = f1Matrix(pred, truth);
  const matched = maxWeightAssignment(f1).reduce((sum, [i, j]) => sum + f1[i][j], 0);
  return matched / Math.max(pred.count, truth.count);
}

/**
 * Pixel F1 between every predicted (rows) and every true (columns) instance. Cost is
 * sum(pred areas) x n_true: each prediction's pixels are listed once, then looked up in every truth.
 */
export function f1Matrix(pred: Masks, truth: Masks): number[][] {
  const n = pred.height * pred.width;
  const trueAreas = Array.from({ length: truth.count }, (_, j) => countOn(truth.data, j * n, n));
  const out: number[][] = [];
  for (let i = 0; i < pred.count; i++) {
    const on = onIndices(pred.data, i * n, n);
    out.push(
      trueAreas.map((trueArea, j) => {
        let tp = 0;
        const base = j * n;
        for (let k = 0; k < on.length; k++) tp += truth.data[base + on[k]] !== 0 ? 1 : 0;
        return f1FromCounts(tp, on.length - tp, trueArea - tp);
      }),
    );
  }
  return out;
}

/** F1 of two flat 0/1 masks; 0 when either is empty (the metric's precision/recall convention). */
export function pixelF1(pred: Uint8Array, truth: Uint8Array): number {
  if (pred.length !== truth.length) throw new MetricError(`mask sizes differ: ${pred.length} vs ${truth.length}`);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let k = 0; k < pred.length; k++) {
    const p = pred[k] !== 0;
    const t = truth[k] !== 0;
    if (p && t) tp++;
    else if (p) fp++;
    else if (t) fn++;
  }
  return f1FromCounts(tp, fp, fn);
}

/** 2PR/(P+R) with P = tp/(tp+fp), R = tp/(tp+fn); equals 2tp/(2tp+fp+fn), 0 when tp = 0. */
export function f1FromCounts(tp: number, fp: number, fn: number): number {
  return tp > 0 ? (2 * tp) / (2 * tp + fp + fn) : 0;
}

/** Mean of per-image scores (the competition's final score); NaN for no images. */
export function meanScore(scores: readonly number[]): number {
  return scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : NaN;
}

function countOn(data: Uint8Array, offset: number, n: number): number {
  let c = 0;
  for (let k = offset; k < offset + n; k++) c += data[k] !== 0 ? 1 : 0;
  return c;
}

function onIndices(data: Uint8Array, offset: number, n: number): Uint32Array {
  const idx = new Uint32Array(countOn(data, offset, n));
  let c = 0;
  for (let k = 0; k < n; k++) if (data[offset + k] !== 0) idx[c++] = k;
  return idx;
}
