import { MetricError } from '../errors';
import type { Masks } from '../data/types';
import { imageOF1, meanScore } from './of1';
import { addConfusion, confusion, imageOverlap, PixelScoreHistogram, precisionRecallF1, summarizeOverlap, unionMask, type Confusion, type ImageOverlap } from './pixel';
import { imagePixelScores, meanDefined } from './pixel-image';
import { rocAuc } from './roc';
import { annotationUnionArea, AUTHENTIC, decodeAnnotation } from './rle';

/** Ground truth of one image. `shape` is null when the source gives none (Kaggle solution rows of authentic images). */
export interface TruthEntry {
  caseId: string;
  shape: [number, number] | null;
  /** The (N,H,W) instance masks; N = 0 for authentic. Loaded on demand (masks of a big set do not fit in memory at once). */
  masks(): Masks;
  /** Where the truth came from, for error messages. */
  source: string;
  /** Dataset split, when the truth comes from a dataset folder. */
  split?: string;
}

/** One image's scores. */
export interface ImageEvaluation {
  case_id: string;
  of1: number;
  dice: number;
  iou: number;
  forged: boolean;
  n_true: number;
  n_pred: number;
  /** The oF1 had this image's predicted instances been merged into one (equals of1 with 0 or 1 predicted). */
  of1_merged: number;
  /** Pixel F1 and ROC AUC of this image (metrics/pixel-image.ts); NaN where undefined (no forged pixel, no probability). */
  pixel_f1: number;
  pixel_auc: number;
}

/**
 * What explains an oF1: the competition scores every row 0..1 and averages, an `authentic` row
 * scoring 1 only when predicted exactly `authentic`, a forged row by matched F1 / max(n_pred, n_true).
 * NaN where a share has no rows (no authentic rows, no detected forged rows).
 */
export interface ScoreBreakdown {
  /** Authentic rows predicted exactly `authentic` (no instance), and their share of authentic rows. */
  n_authentic_clean: number;
  authentic_clean_share: number;
  /** Share of authentic rows with at least one predicted instance (each costs a full point). */
  authentic_false_alarm_rate: number;
  /** Forged rows with at least one predicted instance ("detected"), and their share of forged rows. */
  n_forged_detected: number;
  forged_detected_share: number;
  /** Mean oF1 over forged rows and over authentic rows. */
  of1_forged: number;
  of1_authentic: number;
  /** Mean predicted and true instances per forged row. */
  mean_pred_instances_forged: number;
  mean_true_instances_forged: number;
  /** The same over detected forged rows only (the fragmentation of what was found). */
  mean_pred_instances_detected: number;
  mean_true_instances_detected: number;
  /** oF1 had each image's predicted instances been merged into one instance. */
  of1_merged: number;
}

export const SCORE_BREAKDOWN_KEYS: ReadonlyArray<keyof ScoreBreakdown> = [
  'n_authentic_clean', 'authentic_clean_share', 'authentic_false_alarm_rate', 'n_forged_detected', 'forged_detected_share',
  'of1_forged', 'of1_authentic', 'mean_pred_instances_forged', 'mean_true_instances_forged',
  'mean_pred_instances_detected', 'mean_true_instances_detected', 'of1_merged',
];

/** Everything `sifd evaluate` prints; snake_case so the JSON keys read the same everywhere. NaN where undefined. */
export interface Evaluation extends ScoreBreakdown {
  /** Kaggle oF1: mean over images. */
  of1: number;
  /** Pixel precision/recall/F1 pooled over all pixels of all images (union of instances). */
  pixel_precision: number;
  pixel_recall: number;
  pixel_f1: number;
  dice_pos: number;
  dice_all: number;
  iou_pos: number;
  iou_all: number;
  /** Image-level detection: an image is called forged when it has at least one predicted instance. */
  image_accuracy: number;
  image_precision: number;
  image_recall: number;
  image_f1: number;
  /** CaCL-Net's protocol: per-image pixel F1 (AUC when probability maps were given) averaged over the images where defined. */
  pixel_f1_image_mean: number;
  pixel_auc_image_mean?: number;
  /** Present when probability maps were given: pixel ROC AUC and the F1 at the best threshold. */
  pixel_auc?: number;
  best_threshold?: number;
  best_pixel_f1?: number;
  /** Present when image scores were given. */
  image_auc?: number;
  n_images: number;
  n_forged: number;
  n_authentic: number;
  n_pred_forged: number;
  per_image: ImageEvaluation[];
}

/** A prediction for one image: instance masks (or a submission annotation) plus optional scores. */
export interface PredictionInput {
  /** Instances at the truth's size, or an RLE annotation string. */
  instances: Masks | string;
  /** Per-pixel probability (H*W) at the truth's size: enables pixel AUC and best-threshold F1. */
  probability?: Float32Array;
  /** Image-level forgery score (e.g. max instance score): enables image AUC. */
  imageScore?: number;
}

/**
 * Streams images in and produces one Evaluation, so notebooks and the trainer's validation can
 * score predictions one image at a time, and `evaluateSubmission` scores a CSV the same way.
 */
export class EvaluationAccumulator {
  private readonly perImage: ImageEvaluation[] = [];
  private readonly overlaps: ImageOverlap[] = [];
  private pixels: Confusion = { tp: 0, fp: 0, fn: 0, tn: 0 };
  private readonly detection: Confusion = { tp: 0, fp: 0, fn: 0, tn: 0 };
  private readonly histogram: PixelScoreHistogram;
  private sawProbability = false;
  private readonly imageScores: number[] = [];
  private readonly imageLabels: number[] = [];

  constructor(bins = 1000) {
    this.histogram = new PixelScoreHistogram(bins);
  }

  add(truth: TruthEntry, pred: PredictionInput): ImageEvaluation {
    const where = `${truth.source} (case_id ${truth.caseId})`;
    const trueMasks = truth.masks();
    const forged = trueMasks.count > 0;
    let result: ImageEvaluation;
    if (truth.shape === null) {
      // No shape: only an authentic truth can lack one; the prediction can only be wrong by its area.
      if (forged) throw new MetricError('forged truth without a shape', where);
      const predAnnotation = typeof pred.instances === 'string' ? pred.instances : null;
      const nPred = predAnnotation === null ? (pred.instances as Masks).count : predAnnotation.trim() === AUTHENTIC ? 0 : predAnnotation.split(';').length;
      const area = predAnnotation === null ? sum(unionMask(pred.instances as Masks)) : annotationUnionArea(predAnnotation, where);
      const c: Confusion = { tp: 0, fp: area, fn: 0, tn: 0 };
      this.pixels = addConfusion(this.pixels, c);
      const overlap = imageOverlap(c);
      this.overlaps.push(overlap);
      const of1 = nPred === 0 ? 1 : 0;
      result = { case_id: truth.caseId, of1, dice: overlap.dice, iou: overlap.iou, forged, n_true: 0, n_pred: nPred, of1_merged: of1, pixel_f1: NaN, pixel_auc: NaN };
    } else {
      const [h, w] = truth.shape;
      const predMasks = typeof pred.instances === 'string' ? decodeAnnotation(pred.instances, h, w, where) : pred.instances;
      if (predMasks.height !== h || predMasks.width !== w) {
        throw new MetricError(`prediction is ${predMasks.height}x${predMasks.width}, truth is ${h}x${w}`, where);
      }
      const trueUnion = unionMask(trueMasks);
      const predUnion = unionMask(predMasks);
      const c = confusion(predUnion, trueUnion);
      this.pixels = addConfusion(this.pixels, c);
      const overlap = imageOverlap(c);
      this.overlaps.push(overlap);
      if (pred.probability) {
        this.histogram.add(pred.probability, trueUnion);
        this.sawProbability = true;
      }
      const of1 = imageOF1(predMasks, trueMasks);
      const of1Merged = predMasks.count > 1 ? imageOF1(mergeInstances(predMasks), trueMasks) : of1;
      const scores = imagePixelScores(predUnion, trueUnion, pred.probability);
      result = { case_id: truth.caseId, of1, dice: overlap.dice, iou: overlap.iou, forged, n_true: trueMasks.count, n_pred: predMasks.count, of1_merged: of1Merged, ...scores };
    }
    const calledForged = result.n_pred > 0;
    if (calledForged && forged) this.detection.tp++;
    else if (calledForged) this.detection.fp++;
    else if (forged) this.detection.fn++;
    else this.detection.tn++;
    if (pred.imageScore !== undefined) {
      this.imageScores.push(pred.imageScore);
      this.imageLabels.push(forged ? 1 : 0);
    }
    this.perImage.push(result);
    return result;
  }

  /**
   * What PR and ROC curves are drawn from: each image's score and label (images given a score), and
   * the pooled pixel-score histogram (null when no probability map was given).
   */
  curveData(): { imageScores: number[]; imageLabels: number[]; pixelHistogram: PixelScoreHistogram | null } {
    return { imageScores: this.imageScores.slice(), imageLabels: this.imageLabels.slice(), pixelHistogram: this.sawProbability ? this.histogram : null };
  }

  result(): Evaluation {
    const n = this.perImage.length;
    const pix = precisionRecallF1(this.pixels);
    const det = precisionRecallF1(this.detection);
    const nForged = this.perImage.filter((r) => r.forged).length;
    const out: Evaluation = {
      of1: meanScore(this.perImage.map((r) => r.of1)),
      pixel_precision: pix.precision,
      pixel_recall: pix.recall,
      pixel_f1: pix.f1,
      pixel_f1_image_mean: meanDefined(this.perImage.map((r) => r.pixel_f1)),
      ...summarizeOverlap(this.overlaps),
      image_accuracy: n ? (this.detection.tp + this.detection.tn) / n : NaN,
      image_precision: det.precision,
      image_recall: det.recall,
      image_f1: det.f1,
      n_images: n,
      n_forged: nForged,
      n_authentic: n - nForged,
      n_pred_forged: this.perImage.filter((r) => r.n_pred > 0).length,
      ...scoreBreakdown(this.perImage),
      per_image: this.perImage.slice(),
    };
    if (this.sawProbability) {
      const best = this.histogram.best();
      out.pixel_auc = this.histogram.rocAuc();
      out.pixel_auc_image_mean = meanDefined(this.perImage.map((r) => r.pixel_auc));
      out.best_threshold = best.threshold;
      out.best_pixel_f1 = best.f1;
    }
    if (this.imageScores.length) out.image_auc = rocAuc(this.imageScores, this.imageLabels);
    return out;
  }
}

/** The breakdown of per-image results (what `EvaluationAccumulator.result` adds to an Evaluation). */
export function scoreBreakdown(perImage: readonly ImageEvaluation[]): ScoreBreakdown {
  const forged = perImage.filter((r) => r.forged);
  const authentic = perImage.filter((r) => !r.forged);
  const detected = forged.filter((r) => r.n_pred > 0);
  const clean = authentic.filter((r) => r.n_pred === 0).length;
  const mean = (rows: readonly ImageEvaluation[], f: (r: ImageEvaluation) => number) => meanScore(rows.map(f));
  return {
    n_authentic_clean: clean,
    authentic_clean_share: authentic.length ? clean / authentic.length : NaN,
    authentic_false_alarm_rate: authentic.length ? 1 - clean / authentic.length : NaN,
    n_forged_detected: detected.length,
    forged_detected_share: forged.length ? detected.length / forged.length : NaN,
    of1_forged: mean(forged, (r) => r.of1),
    of1_authentic: mean(authentic, (r) => r.of1),
    mean_pred_instances_forged: mean(forged, (r) => r.n_pred),
    mean_true_instances_forged: mean(forged, (r) => r.n_true),
    mean_pred_instances_detected: mean(detected, (r) => r.n_pred),
    mean_true_instances_detected: mean(detected, (r) => r.n_true),
    of1_merged: mean(perImage, (r) => r.of1_merged),
  };
}

/** The union of every instance as one instance (N=1), or the masks unchanged when N <= 1. */
export function mergeInstances(m: Masks): Masks {
  return m.count <= 1 ? m : { data: unionMask(m), count: 1, height: m.height, width: m.width };
}

/**
 * Score a submission (case_id -> annotation) against the truth. Every truth image must have a
 * row (a missing one is an error naming the ids, as Kaggle refuses such a file); rows for images
 * the truth does not know are an error too, since they usually mean the wrong folder.
 */
export function evaluateSubmission(truth: readonly TruthEntry[], submission: ReadonlyMap<string, string>, submissionFile = 'submission'): Evaluation {
  const known = new Set(truth.map((t) => t.caseId));
  const missing = truth.filter((t) => !submission.has(t.caseId)).map((t) => t.caseId);
  const extra = [...submission.keys()].filter((id) => !known.has(id));
  if (missing.length) throw new MetricError(`no row for ${missing.length} of ${truth.length} truth case_id(s): ${preview(missing)}`, submissionFile);
  if (extra.length) throw new MetricError(`${extra.length} case_id(s) not in the truth: ${preview(extra)}`, submissionFile);
  const acc = new EvaluationAccumulator();
  for (const t of truth) acc.add(t, { instances: submission.get(t.caseId) as string });
  return acc.result();
}

/**
 * Keep the truth of the dataset splits the submission covers: predicting `test_images` and scoring
 * against the whole dataset should not fail for the train images. Missing rows inside a covered
 * split still fail in evaluateSubmission. Truth without splits is returned unchanged.
 */
export function truthForSubmission(truth: readonly TruthEntry[], submission: ReadonlyMap<string, string>): TruthEntry[] {
  const covered = new Set(truth.filter((t) => submission.has(t.caseId)).map((t) => t.split));
  if (covered.size === 0) return truth.slice();
  return truth.filter((t) => covered.has(t.split));
}

/** The evaluation without per-image rows, NaN as null: what `--json` prints (the breakdown's keys included). */
export function evaluationSummary(e: Evaluation): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(e)) {
    if (k === 'per_image') continue;
    out[k] = typeof v === 'number' && Number.isFinite(v) ? v : null;
  }
  return out;
}

function preview(ids: string[]): string {
  return ids.length > 5 ? `${ids.slice(0, 5).join(', ')}, ...` : ids.join(', ');
}

function sum(a: Uint8Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k];
  return s;
}
