import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../errors';
import { writeFileAtomic } from '../util/atomic';

/**
 * How a run's event-score threshold was chosen: `<run>/calibration.json`, written by eval/calibrate.ts
 * (notebooks 03-07, `sifd calibrate`) from a tuning set the run never trained or reports on: every
 * candidate's score there. The choice itself goes into the run's predict.json (infer/predict-options.ts),
 * which the run predictor reads, so the notebook, `sifd predict`, `sifd evaluate` and the model zoo all
 * predict with the same threshold.
 */
export const CALIBRATION_FILE = 'calibration.json';

export interface CalibrationTrial {
  minEventScore: number;
  of1: number;
  falseAlarmRate: number;
  forgedDetected: number;
}

export interface CalibrationRecord {
  model: string;
  /** The chosen event-score threshold (RunPredictorOptions.minEventScore). */
  minEventScore: number;
  /** The chosen trial and the no-threshold trial (minEventScore 0) on the tuning images. */
  chosen: CalibrationTrial;
  unthresholded: CalibrationTrial;
  trials: CalibrationTrial[];
  data: string;
  images: number;
}

export function readCalibration(runDir: string): CalibrationRecord | null {
  const file = path.join(runDir, CALIBRATION_FILE);
  if (!fs.existsSync(file)) return null;
  let rec: CalibrationRecord;
  try {
    rec = JSON.parse(fs.readFileSync(file, 'utf8')) as CalibrationRecord;
  } catch (err) {
    throw new ConfigError(`unreadable calibration (${(err as Error).message})`, file);
  }
  if (!rec || typeof rec.minEventScore !== 'number' || !(rec.minEventScore >= 0 && rec.minEventScore <= 1)) {
    throw new ConfigError('calibration has no minEventScore in [0, 1]', file);
  }
  return rec;
}

export function writeCalibration(runDir: string, rec: CalibrationRecord): void {
  writeFileAtomic(path.join(runDir, CALIBRATION_FILE), JSON.stringify(rec, null, 1) + '\n');
}
