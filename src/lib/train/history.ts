import * as fs from 'fs';
import { TrainingError } from '../errors';
import { writeFileAtomic } from '../util/atomic';

/** One line of history.jsonl: the summary of one finished epoch. */
export interface EpochRecord {
  /** 1-based number of the finished epoch. */
  epoch: number;
  /** Optimizer steps done so far (cumulative). */
  step: number;
  lr: number;
  trainLoss: number;
  valLoss?: number;
  /** Extra metrics (val dice, ...). */
  metrics?: Record<string, number>;
  seconds: number;
}

export function historyToJsonl(records: readonly EpochRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : '');
}

/** Rewrite the whole file atomically (history is small), so it always matches a checkpoint. */
export function writeHistory(file: string, records: readonly EpochRecord[]): void {
  writeFileAtomic(file, historyToJsonl(records));
}

export function readHistory(file: string): EpochRecord[] {
  const text = fs.readFileSync(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line, i) => {
      try {
        return JSON.parse(line) as EpochRecord;
      } catch (err) {
        throw new TrainingError(`line ${i + 1} is not JSON (${(err as Error).message})`, file);
      }
    });
}
