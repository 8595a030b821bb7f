import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../errors';
import { writeFileAtomic } from '../util/atomic';
import { checkEventPolicy, type EventPolicy } from './postprocess';

/**
 * The prediction options a run was meant to be used with: `<run>/predict.json`, written next to the
 * checkpoints by whoever trained it with a family recipe (zoo/recipes.ts: notebook 03's and 06's
 * event threshold), and read by loadPredictorFromRun as its defaults, so `sifd predict --run`, the
 * notebooks and `sifd compare` predict alike. Options given explicitly still win.
 */
export const PREDICT_OPTIONS_FILE = 'predict.json';

export interface RunPredictOptions {
  minEventScore?: number;
  evidenceKeep?: number | null;
  events?: EventPolicy;
}

function checkUnit(v: unknown, key: string, file: string): void {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new ConfigError(`'${key}' must be a number in [0, 1], got ${JSON.stringify(v)}`, file);
}

/** The run's recorded prediction options, or null when it has none. */
export function readRunPredictOptions(runDir: string): RunPredictOptions | null {
  const file = path.join(runDir, PREDICT_OPTIONS_FILE);
  if (!fs.existsSync(file)) return null;
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`unreadable prediction options (${(err as Error).message})`, file);
  }
  if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) throw new ConfigError('prediction options must be a JSON object', file);
  const known = ['minEventScore', 'evidenceKeep', 'events'];
  const unknown = Object.keys(rec).filter((k) => !known.includes(k));
  if (unknown.length) throw new ConfigError(`unknown prediction option(s) ${unknown.join(', ')}; known: ${known.join(', ')}`, file);
  const out: RunPredictOptions = {};
  if (rec.minEventScore !== undefined) {
    checkUnit(rec.minEventScore, 'minEventScore', file);
    out.minEventScore = rec.minEventScore as number;
  }
  if (rec.evidenceKeep !== undefined) {
    if (rec.evidenceKeep !== null) checkUnit(rec.evidenceKeep, 'evidenceKeep', file);
    out.evidenceKeep = rec.evidenceKeep as number | null;
  }
  if (rec.events !== undefined) out.events = checkEventPolicy(String(rec.events));
  return out;
}

export function writeRunPredictOptions(runDir: string, opts: RunPredictOptions): void {
  writeFileAtomic(path.join(runDir, PREDICT_OPTIONS_FILE), JSON.stringify(opts, null, 1) + '\n');
}
