/**
 * A run's event-score calibration (eval/calibrate.ts) as a notebook table: one row per candidate
 * threshold with its oF1, authentic false-alarm rate and forged rows detected on the tuning images,
 * the chosen one marked.
 */
import type { CalibrationRecord } from '../lib/infer/calibration';
import { table as displayTable } from './display';

export function calibrationRows(rec: CalibrationRecord): Array<Record<string, string | number>> {
  return rec.trials.map((t) => ({
    minEventScore: t.minEventScore,
    oF1: Number(t.of1.toFixed(4)),
    'authentic false alarms': `${(100 * t.falseAlarmRate).toFixed(1)}%`,
    'forged detected': `${(100 * t.forgedDetected).toFixed(1)}%`,
    chosen: t.minEventScore === rec.minEventScore ? 'yes' : '',
  }));
}

/** Displays the table, captioned with the tuning set and the choice. */
export function calibrationTable(rec: CalibrationRecord): void {
  displayTable(calibrationRows(rec), {
    caption: `Event-score threshold chosen on ${rec.images} tuning images (${rec.data}): ${rec.minEventScore} (oF1 ${rec.chosen.of1.toFixed(4)}; no threshold ${rec.unthresholded.of1.toFixed(4)})`,
  });
}
