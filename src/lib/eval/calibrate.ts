import * as path from 'path';
import { readImage } from '../data/image-io';
import { readMasks } from '../data/npy';
import { scan } from '../data/scan';
import type { Masks } from '../data/types';
import { ConfigError, DatasetError } from '../errors';
import { writeCalibration, type CalibrationRecord, type CalibrationTrial } from '../infer/calibration';
import { keepScoring, postprocessPrediction } from '../infer/postprocess';
import { readRunPredictOptions, writeRunPredictOptions } from '../infer/predict-options';
import { loadPredictorFromRun } from '../infer/run';
import type { InstancePrediction } from '../infer/types';
import { EvaluationAccumulator } from '../metrics/evaluate';

/**
 * The event-score threshold of a run, chosen on a tuning set: every labelled image is predicted once
 * with no threshold; a threshold only matters where it crosses an event's score, so the search tries
 * every score the events reached (each image's outcome for each number of surviving events computed
 * once) and picks the best Kaggle oF1 under the same postprocess validation applies; ties go to the
 * lower threshold. An `authentic` row scores 1 only when nothing is predicted, so a threshold that
 * silences weak events on authentic figures usually pays more than the forged rows it loses. Choose
 * it on images the run neither trained nor reports on. The choice goes into the run's predict.json
 * (the run predictor's defaults); calibration.json keeps the chosen trial and a fixed grid of
 * thresholds (EVENT_SCORE_CANDIDATES) for the table.
 */
export const EVENT_SCORE_CANDIDATES: readonly number[] = [0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];

export interface CalibrateOptions {
  runDir: string;
  data: string;
  /** The thresholds reported in the table (the search itself tries every event score). */
  candidates?: readonly number[];
  /** At most this many images per (split, label). */
  limitPerGroup?: number;
  /** Write calibration.json into the run (default true). */
  write?: boolean;
  onImage?: (done: number, total: number) => void;
  warn?: (msg: string) => void;
}

interface Predicted {
  id: string;
  truth: Masks;
  raw: InstancePrediction;
}

function trial(minEventScore: number, predicted: readonly Predicted[]): CalibrationTrial {
  const acc = new EvaluationAccumulator();
  for (const p of predicted) {
    const { height, width } = p.truth;
    const pred = postprocessPrediction(keepScoring(p.raw, minEventScore), null, height, width);
    acc.add({ caseId: p.id, shape: [height, width], masks: () => p.truth, source: p.id }, { instances: pred.instances });
  }
  const e = acc.result();
  return { minEventScore, of1: e.of1, falseAlarmRate: e.authentic_false_alarm_rate, forgedDetected: e.forged_detected_share };
}

/** One image's oF1 when only its events scoring at least `t` are kept. */
function imageScore(p: Predicted, t: number): number {
  const { height, width } = p.truth;
  const pred = postprocessPrediction(keepScoring(p.raw, t), null, height, width);
  const acc = new EvaluationAccumulator();
  return acc.add({ caseId: p.id, shape: [height, width], masks: () => p.truth, source: p.id }, { instances: pred.instances }).of1;
}

/**
 * The lowest threshold with the best mean oF1. Each image's outcome depends only on how many of its
 * events survive, so it is computed once per count (its k best events, k = 0..n) and every distinct
 * event score (plus 0, and just above the highest score: nothing kept) is a candidate.
 */
function bestThreshold(predicted: readonly Predicted[]): number {
  const perImage = predicted.map((p) => {
    const sorted = [...p.raw.scores].sort((a, b) => b - a);
    // outcome[k]: the image's score with its k best events kept; the threshold sorted[k-1] keeps k of them
    const outcome = [imageScore(p, Infinity), ...sorted.map((s) => imageScore(p, s))];
    return { sorted, outcome };
  });
  const scores = predicted.flatMap((p) => p.raw.scores);
  // Keeping no event at all is a candidate too: the lowest threshold above every score (when one fits under 1).
  const top = Math.max(0, ...scores);
  const none = top < 1 ? [Math.min(1, top + 1e-6)] : [];
  const candidates = [0, ...new Set(scores), ...none].filter((t) => t >= 0 && t <= 1).sort((a, b) => a - b);
  let best = { t: 0, score: -1 };
  for (const t of candidates) {
    let total = 0;
    for (const { sorted, outcome } of perImage) total += outcome[sorted.filter((s) => s >= t).length];
    if (total > best.score + 1e-9) best = { t, score: total };
  }
  return best.t;
}

export async function calibrateEventScore(opts: CalibrateOptions): Promise<CalibrationRecord> {
  const candidates = [...(opts.candidates ?? EVENT_SCORE_CANDIDATES)].sort((a, b) => a - b);
  if (candidates.length === 0 || candidates.some((t) => !(t >= 0 && t <= 1))) throw new ConfigError(`event-score candidates must be in [0, 1], got ${JSON.stringify(candidates)}`);
  if (candidates[0] !== 0) candidates.unshift(0);
  const scanned = await scan(opts.data, { verify: 'masks', limitPerGroup: opts.limitPerGroup });
  for (const p of scanned.problems) opts.warn?.(`${p.file}: ${p.reason}`);
  const samples = scanned.samples.filter((s) => s.label !== 'unknown');
  if (samples.length === 0) throw new DatasetError('no labelled images to calibrate on', scanned.root);
  const predictor = await loadPredictorFromRun(opts.runDir, { minEventScore: 0, warn: opts.warn });
  const predicted: Predicted[] = [];
  let modelName = '';
  try {
    modelName = predictor.name.split(' (')[0];
    for (const sample of samples) {
      const image = await readImage(sample.imagePath);
      const { height, width } = image;
      const truth = sample.maskPath ? readMasks(sample.maskPath, { height, width }) : { data: new Uint8Array(0), count: 0, height, width };
      predicted.push({ id: sample.id, truth, raw: await predictor.predict(image) });
      opts.onImage?.(predicted.length, samples.length);
    }
  } finally {
    predictor.dispose();
  }
  const best = bestThreshold(predicted);
  const trials = [...new Set([...candidates, best])].sort((a, b) => a - b).map((t) => trial(t, predicted));
  const chosen = trials.find((t) => t.minEventScore === best)!;
  const record: CalibrationRecord = {
    model: modelName,
    minEventScore: chosen.minEventScore,
    chosen,
    unthresholded: trials[0],
    trials,
    data: path.resolve(opts.data),
    images: predicted.length,
  };
  if (opts.write ?? true) {
    writeCalibration(opts.runDir, record);
    writeRunPredictOptions(opts.runDir, { ...(readRunPredictOptions(opts.runDir) ?? {}), minEventScore: record.minEventScore });
  }
  return record;
}
