import { MetricError } from '../errors';
import { f1FromCounts } from './of1';
import { confusion, PixelScoreHistogram } from './pixel';

/**
 * CaCL-Net's per-image pixel metrics (its tables average F1 and AUC over the images of a set):
 * F1 of the predicted foreground against the true one, and the ROC AUC of the probability map.
 * Both are undefined (NaN) on an image without forged pixels, and AUC also on an image that is all
 * forged or has no probability map; the means skip undefined values. Pooled F1/AUC (every pixel of
 * the set at once) are metrics/evaluate.ts's pixel_f1 and pixel_auc.
 */
export interface ImagePixelScores {
  pixel_f1: number;
  pixel_auc: number;
}

/** Bins of the per-image AUC histogram (the same resolution as the pooled one). */
const AUC_BINS = 1000;

export function imagePixelScores(pred: Uint8Array, truth: Uint8Array, probability?: Float32Array): ImagePixelScores {
  if (probability && probability.length !== truth.length) throw new MetricError(`probability map has ${probability.length} pixels, truth ${truth.length}`);
  const c = confusion(pred, truth);
  if (c.tp + c.fn === 0) return { pixel_f1: NaN, pixel_auc: NaN };
  let auc = NaN;
  if (probability) {
    const h = new PixelScoreHistogram(AUC_BINS);
    h.add(probability, truth);
    auc = h.rocAuc();
  }
  return { pixel_f1: f1FromCounts(c.tp, c.fp, c.fn), pixel_auc: auc };
}

/** Mean of the finite values; NaN when there are none. */
export function meanDefined(xs: readonly number[]): number {
  const ok = xs.filter((x) => Number.isFinite(x));
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
}
