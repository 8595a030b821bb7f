/**
 * Validation metrics by name, as a model spec lists them (`metrics`, default DEFAULT_METRICS): each
 * scores one sample's decoded prediction against its truth events at the model's input size; the
 * trainer reports the mean over the validation samples under `key` in the history.
 */
import type { Masks } from '../data/types';
import { ConfigError, didYouMean } from '../errors';
import type { InstancePrediction } from '../infer/types';
import { imageOF1 } from '../metrics/of1';

export interface ValidationMetric {
  /** History key, e.g. 'valDice'. */
  key: string;
  compute(pred: InstancePrediction, truth: Masks): number;
}

const metrics = new Map<string, ValidationMetric>();

export function registerMetric(name: string, metric: ValidationMetric): void {
  if (metrics.has(name)) throw new ConfigError(`metric '${name}' is registered twice`);
  metrics.set(name, metric);
}

export function getMetric(name: string): ValidationMetric {
  const m = metrics.get(name);
  if (!m) throw new ConfigError(`unknown metric '${name}'; ${didYouMean(name, [...metrics.keys()])}`);
  return m;
}

export function listMetrics(): string[] {
  return [...metrics.keys()];
}

export const DEFAULT_METRICS: readonly string[] = ['dice', 'iou', 'of1'];

/**
 * The predicted foreground: the probability map above 0.5 when the decoder kept one (the model's
 * own foreground), else the union of the predicted events.
 */
export function predictedForeground(pred: InstancePrediction): Uint8Array {
  const { count, height, width, data } = pred.instances;
  const n = height * width;
  if (pred.probability) return Uint8Array.from(pred.probability, (v) => (v > 0.5 ? 1 : 0));
  const out = new Uint8Array(n);
  for (let i = 0; i < count; i++) for (let p = 0; p < n; p++) out[p] |= data[i * n + p] ? 1 : 0;
  return out;
}

/** The union of the truth events (H*W 0/1). */
export function truthForeground(truth: Masks): Uint8Array {
  const n = truth.height * truth.width;
  const out = new Uint8Array(n);
  for (let i = 0; i < truth.count; i++) for (let p = 0; p < n; p++) out[p] |= truth.data[i * n + p] ? 1 : 0;
  return out;
}

/** Intersection and the two areas of the foregrounds. */
function overlap(pred: InstancePrediction, truth: Masks): { inter: number; a: number; b: number } {
  const p = predictedForeground(pred);
  const t = truthForeground(truth);
  let inter = 0;
  let a = 0;
  let b = 0;
  for (let i = 0; i < p.length; i++) {
    a += p[i];
    b += t[i];
    inter += p[i] & t[i];
  }
  return { inter, a, b };
}

// An empty prediction on an empty truth scores 1 in each.
registerMetric('dice', {
  key: 'valDice',
  compute(pred, truth) {
    const { inter, a, b } = overlap(pred, truth);
    return a + b === 0 ? 1 : (2 * inter) / (a + b);
  },
});
registerMetric('iou', {
  key: 'valIoU',
  compute(pred, truth) {
    const { inter, a, b } = overlap(pred, truth);
    return a + b - inter === 0 ? 1 : inter / (a + b - inter);
  },
});
registerMetric('of1', {
  key: 'valOF1',
  compute: (pred, truth) => imageOF1(pred.instances, truth),
});
