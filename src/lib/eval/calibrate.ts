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
 * with no threshold, then each candidate drops the events scoring below it, and the Kaggle oF1 (the
 * same postprocess validation applies) picks the best; ties go to the lower threshold. An `authentic`
 * row scores 1 only when nothing is predicted, so a threshold that silences weak events on authentic
 * figures usually pays more than the forged rows it loses. Choose it on images the run neither trained
 * nor reports on. The choice goes into the run's predict.json (the run predictor's defaults), the
 * record of every candidate into calibration.json.
 */
export const EVENT_SCORE_CANDIDATES: readonly number[] = [0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];

export interface CalibrateOptions {
  runDir: string;
  data: string;
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
  const trials = candidates.map((t) => trial(t, predicted));
  // the first best wins ties: the lowest threshold that reaches the best score
  const chosen = trials.reduce((a, b) => (b.of1 > a.of1 + 1e-12 ? b : a));
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
