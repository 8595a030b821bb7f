/**
 * The training runs in a runs folder, read from each run's newest checkpoint description
 * (checkpoint.json alone: the weights are loaded only for the run that is used).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { CheckpointMeta } from '../train/checkpoint';

export interface RunListing {
  dir: string;
  model: string;
  /** Epochs finished and epochs the run was started for. */
  epoch: number;
  epochs: number;
  finished: boolean;
  /** Modification time of the newest checkpoint (ms since the epoch). */
  mtimeMs: number;
  /** Training time in minutes: the sum of the recorded epochs' seconds. */
  trainMinutes: number;
  /** Scalars in the checkpoint (trainable parameters and buffers such as BatchNorm statistics). */
  parameters: number;
  meta: CheckpointMeta;
}

const EPOCH_DIR = /^epoch_(\d+)$/;

/** Every run folder directly under `runsDir` with a readable checkpoint description; others are reported to `warn`. */
export function listRuns(runsDir: string, warn: (msg: string) => void = () => undefined): RunListing[] {
  if (!fs.existsSync(runsDir)) return [];
  const out: RunListing[] = [];
  for (const name of fs.readdirSync(runsDir).sort()) {
    const dir = path.join(runsDir, name);
    if (!fs.statSync(dir).isDirectory()) continue;
    const epochs = fs.readdirSync(dir).map((n) => EPOCH_DIR.exec(n)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1])).sort((a, b) => b - a);
    if (!epochs.length) continue;
    const file = path.join(dir, `epoch_${epochs[0]}`, 'checkpoint.json');
    let meta: CheckpointMeta;
    try {
      meta = JSON.parse(fs.readFileSync(file, 'utf8')) as CheckpointMeta;
      if (typeof meta?.model?.name !== 'string' || !Number.isInteger(meta.epoch)) throw new Error('no model name or epoch');
    } catch (err) {
      warn(`warning: ${file}: unreadable checkpoint description (${(err as Error).message}); run skipped`);
      continue;
    }
    out.push({
      dir,
      model: meta.model.name,
      epoch: meta.epoch,
      epochs: meta.train?.epochs ?? meta.epoch,
      finished: meta.epoch >= (meta.train?.epochs ?? meta.epoch),
      mtimeMs: fs.statSync(file).mtimeMs,
      trainMinutes: (meta.history ?? []).reduce((s, r) => s + (r.seconds ?? 0), 0) / 60,
      parameters: (meta.weights ?? []).reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0),
      meta,
    });
  }
  return out;
}

/** The newest finished run of `model` (by its newest checkpoint's time), or undefined. */
export function newestFinishedRun(runs: readonly RunListing[], model: string): RunListing | undefined {
  return runs.filter((r) => r.model === model && r.finished).sort((a, b) => b.mtimeMs - a.mtimeMs)[0];
}
