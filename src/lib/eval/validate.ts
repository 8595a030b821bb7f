import { readImage } from '../data/image-io';
import { readMasks } from '../data/npy';
import type { Masks, Sample } from '../data/types';
import { ModelError } from '../errors';
import { postprocessPrediction, type PostprocessOptions } from '../infer/postprocess';
import type { InstancePrediction, Predictor } from '../infer/types';
import { EvaluationAccumulator, type Evaluation, type TruthEntry } from '../metrics/evaluate';

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
  opts: { keep?: number; postprocess?: PostprocessOptions; onImage?: (done: number, total: number) => void } = {},
): Promise<ValidationResult> {
  const acc = new EvaluationAccumulator();
  const base = new EvaluationAccumulator();
  const kept: ValidationResult['kept'] = [];
  let done = 0;
  for (const sample of samples) {
    if (sample.label === 'unknown') throw new ModelError('validation needs labelled samples', sample.imagePath);
    const image = await readImage(sample.imagePath);
    const { height, width } = image;
    const truthMasks = sample.maskPath ? readMasks(sample.maskPath, { height, width }) : emptyMasks(height, width);
    const truth: TruthEntry = { caseId: sample.id, shape: [height, width], masks: () => truthMasks, source: sample.maskPath ?? sample.imagePath };
    const prediction = postprocessPrediction(await predictor.predict(image), null, height, width, opts.postprocess);
    acc.add(truth, { instances: prediction.instances, probability: prediction.probability, imageScore: Math.max(0, ...prediction.scores) });
    base.add(truth, { instances: emptyMasks(height, width), imageScore: 0 });
    if (kept.length < (opts.keep ?? 0)) kept.push({ sample, truth: truthMasks, prediction });
    opts.onImage?.(++done, samples.length);
  }
  const evaluation = acc.result();
  const baseline = base.result();
  return { evaluation, baseline, rows: [toRow(predictor.name, evaluation), toRow('all authentic (baseline)', baseline)], kept };
}
