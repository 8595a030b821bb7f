import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../errors';
import type { Decode, ModelSpec } from '../models/types';
import { writeFileAtomic } from '../util/atomic';

/**
 * A run's tuned decoder parameters: `<run>/decode.json`, written by `sifd tune` (eval/tune.ts) and
 * read by the run predictor (infer/run.ts), which then decodes with spec.decodeWith(params).
 */
export const DECODE_PARAMS_FILE = 'decode.json';

export interface DecodeParamsRecord {
  model: string;
  params: Record<string, number>;
  /** oF1 of the tuned and of the default parameters on the tuning images. */
  of1: number;
  defaultOf1: number;
  /** Where and how the search ran. */
  data: string;
  images: number;
  trials: number;
  seed: number;
}

export function readDecodeParams(runDir: string): DecodeParamsRecord | null {
  const file = path.join(runDir, DECODE_PARAMS_FILE);
  if (!fs.existsSync(file)) return null;
  let rec: DecodeParamsRecord;
  try {
    rec = JSON.parse(fs.readFileSync(file, 'utf8')) as DecodeParamsRecord;
  } catch (err) {
    throw new ConfigError(`unreadable decoder parameters (${(err as Error).message})`, file);
  }
  if (!rec || typeof rec.params !== 'object' || rec.params === null) throw new ConfigError('decoder parameters file has no "params" object', file);
  return rec;
}

export function writeDecodeParams(runDir: string, rec: DecodeParamsRecord): void {
  writeFileAtomic(path.join(runDir, DECODE_PARAMS_FILE), JSON.stringify(rec, null, 1) + '\n');
}

/** The spec's decoder with the run's tuned parameters when it has any, else its default decoder. */
export function runDecoder(spec: Pick<ModelSpec, 'decode' | 'decodeWith'>, runDir: string, modelName: string): Decode {
  const rec = readDecodeParams(runDir);
  if (!rec) return spec.decode;
  const file = path.join(runDir, DECODE_PARAMS_FILE);
  if (rec.model !== modelName) throw new ConfigError(`decoder parameters are for model '${rec.model}', the run is '${modelName}'`, file);
  if (!spec.decodeWith) throw new ConfigError(`model '${modelName}' has no tunable decoder, but the run has decoder parameters`, file);
  return spec.decodeWith(rec.params);
}
