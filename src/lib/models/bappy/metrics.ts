import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../../data/batch';
import { predictedForeground, registerMetric, truthForeground } from '../../eval/metrics';
import type { Masks } from '../../data/types';
import type { InstancePrediction } from '../../infer/types';
import type { Model } from '../types';
import { patchLabels, patchLabelsTensor } from './patches';

/**
 * Patch-level validation metrics of Bappy et al.'s classifier, for any model: the predicted and
 * the true foreground are both labelled patch by patch with the same rule (patches.ts, IoU >= 12.5%),
 * so a patch model's blocky map and a pixel model's mask are scored alike. Per sample, averaged
 * over the validation samples by the trainer like every metric; `patchConfusion` sums for a confusion matrix.
 */
export function patchConfusion(pred: InstancePrediction, truth: Masks): PatchConfusion {
  const { height, width } = truth;
  const p = patchLabels(predictedForeground(pred), height, width);
  const t = patchLabels(truthForeground(truth), height, width);
  const m: PatchConfusion = { tp: 0, fp: 0, fn: 0, tn: 0 };
  p.forEach((v, i) => {
    if (v && t[i]) m.tp++;
    else if (v) m.fp++;
    else if (t[i]) m.fn++;
    else m.tn++;
  });
  return m;
}

registerMetric('patchAcc', {
  key: 'valPatchAcc',
  compute(pred, truth) {
    const { tp, fp, fn, tn } = patchConfusion(pred, truth);
    return (tp + tn) / (tp + fp + fn + tn);
  },
});

// No manipulated patch predicted or true scores 1, as Dice does for empty vs empty.
registerMetric('patchF1', {
  key: 'valPatchF1',
  compute(pred, truth) {
    const { tp, fp, fn } = patchConfusion(pred, truth);
    return tp + fp + fn === 0 ? 1 : (2 * tp) / (2 * tp + fp + fn);
  },
});

export interface PatchConfusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/**
 * The patch confusion matrix of a model over batches (at the model's input size): each sample's
 * predicted map above 0.5 and its truth both labelled by the IoU >= 12.5% rule. The batches are
 * disposed here (pass a loader epoch).
 */
export async function patchConfusionOver(model: Model, batches: AsyncIterable<Batch> | Iterable<Batch>): Promise<PatchConfusion> {
  const m: PatchConfusion = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for await (const batch of batches) {
    try {
      const [pred, truth] = tf.tidy(() => {
        const out = model.forward({ images: batch.images }, { training: false });
        return [patchLabelsTensor(out.masks!.greater(0.5).toFloat() as tf.Tensor4D).dataSync(), patchLabelsTensor(batch.masks).dataSync()];
      });
      pred.forEach((v, i) => {
        if (v && truth[i]) m.tp++;
        else if (v) m.fp++;
        else if (truth[i]) m.fn++;
        else m.tn++;
      });
    } finally {
      if (batch.dispose) batch.dispose();
      else tf.dispose([batch.images, batch.masks]);
    }
  }
  return m;
}
