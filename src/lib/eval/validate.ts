import { readImage } from '../data/image-io';
import { readMasks } from '../data/npy';
import type { Masks, Sample } from '../data/types';
import { ModelError } from '../errors';
import { postprocessPrediction, type PostprocessOptions } from '../infer/postprocess';
import type { InstancePrediction, Predictor } from '../infer/types';
import { EvaluationAccumulator, type Evaluation, type ImageEvaluation, type TruthEntry } from '../metrics/evaluate';
import type { PixelScoreHistogram } from '../metrics/pixel';

/**
 * Validation of a predictor on labelled samples, reported in the seed's format
 * (val_dice_pos, val_dice_all, val_iou_pos, val_iou_all) plus Kaggle oF1, next to the
 * all-`authentic` baseline (predict nothing anywhere).
 */
export interface ValidationRow {
  predictor: string;
  val_dice_pos: number;
  val_dice_all: number;
  val_iou_pos: number;
  val_iou_all: number;
  oF1: number;
  image_f1: number;
  /** Pixel ROC AUC of the probability map (NaN when the predictor gives none). */
  pixel_auc: number;
}

export interface ValidationResult {
  evaluation: Evaluation;
  baseline: Evaluation;
  rows: ValidationRow[];
  /** The first `keep` predictions (at original size), for overlays. */
  kept: Array<{ sample: Sample; truth: Masks; prediction: InstancePrediction }>;
  /** Image scores (max event score) with labels, and the pooled pixel-score histogram (null without probability maps): PR/ROC curves. */
  curves: { imageScores: number[]; imageLabels: number[]; pixelHistogram: PixelScoreHistogram | null };
  /** Samples skipped because their image or mask could not be read (only with `onUnreadable`). */
  unreadable: Array<{ sample: Sample; reason: string }>;
}

/** One scored image, as `onPrediction` sees it. */
export interface ScoredImage {
  sample: Sample;
  truth: Masks;
  prediction: InstancePrediction;
  scores: ImageEvaluation;
}

export interface ValidateOptions {
  /** Keep the first `keep` predictions (for overlays). */
  keep?: number;
  postprocess?: PostprocessOptions;
  onImage?: (done: number, total: number) => void;
  /** Every image after it is scored (per-image tables, per-family or per-transform breakdowns). */
  onPrediction?: (scored: ScoredImage) => void;
  /**
   * When given, an image or mask that cannot be read is skipped and reported here (and in
   * `unreadable`) instead of failing the validation; the scores cover the other images.
   */
  onUnreadable?: (sample: Sample, reason: string) => void;
}

function emptyMasks(height: number, width: number): Masks {
  return { data: new Uint8Array(0), count: 0, height, width };
}

function toRow(name: string, e: Evaluation): ValidationRow {
  return {
    predictor: name,
    val_dice_pos: e.dice_pos,
    val_dice_all: e.dice_all,
    val_iou_pos: e.iou_pos,
    val_iou_all: e.iou_all,
    oF1: e.of1,
    image_f1: e.image_f1,
    pixel_auc: e.pixel_auc ?? NaN,
  };
}

export async function validatePredictor(
  predictor: Predictor,
  samples: readonly Sample[],
  opts: ValidateOptions = {},
): Promise<ValidationResult> {
  const acc = new EvaluationAccumulator();
  const base = new EvaluationAccumulator();
  const kept: ValidationResult['kept'] = [];
  const unreadable: ValidationResult['unreadable'] = [];
  let done = 0;
  for (const sample of samples) {
    if (sample.label === 'unknown') throw new ModelError('validation needs labelled samples', sample.imagePath);
    let loaded;
    try {
      loaded = await readTruth(sample);
    } catch (err) {
      if (!opts.onUnreadable) throw err;
      const reason = (err as Error).message;
      unreadable.push({ sample, reason });
      opts.onUnreadable(sample, reason);
      opts.onImage?.(++done, samples.length);
      continue;
    }
    const { image, truthMasks } = loaded;
    const { height, width } = image;
    const truth: TruthEntry = { caseId: sample.id, shape: [height, width], masks: () => truthMasks, source: sample.maskPath ?? sample.imagePath };
    const prediction = postprocessPrediction(await predictor.predict(image), null, height, width, opts.postprocess);
    const scores = acc.add(truth, { instances: prediction.instances, probability: prediction.probability, imageScore: Math.max(0, ...prediction.scores) });
    base.add(truth, { instances: emptyMasks(height, width), imageScore: 0 });
    if (kept.length < (opts.keep ?? 0)) kept.push({ sample, truth: truthMasks, prediction });
    opts.onPrediction?.({ sample, truth: truthMasks, prediction, scores });
    opts.onImage?.(++done, samples.length);
  }
  const evaluation = acc.result();
  const baseline = base.result();
  return { evaluation, baseline, rows: [toRow(predictor.name, evaluation), toRow('all authentic (baseline)', baseline)], kept, curves: acc.curveData(), unreadable };
}

async function readTruth(sample: Sample): Promise<{ image: Awaited<ReturnType<typeof readImage>>; truthMasks: Masks }> {
  const image = await readImage(sample.imagePath);
  const { height, width } = image;
  return { image, truthMasks: sample.maskPath ? readMasks(sample.maskPath, { height, width }) : emptyMasks(height, width) };
}
