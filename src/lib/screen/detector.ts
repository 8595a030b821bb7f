/**
 * The detector a screening run uses, as a plain spec (it travels to worker processes and machines) and its id
 * (part of every result key: a result is valid for these bytes under this detector only). The predictors are the
 * library's own: the classical detector (classical/predictor.ts) or a trained run (infer/run.ts).
 */
import * as crypto from 'crypto';
import { createClassicalPredictor } from '../classical/predictor';
import { flattenParams, PARAM_GROUPS, resolveParams } from '../classical/params';
import { initBackend } from '../backend/index';
import { ConfigError } from '../errors';
import { POSTPROCESS_DEFAULTS, resolvePostprocessOptions, type EventPolicy, type PostprocessOptions } from '../infer/postprocess';
import { readRunPredictOptions } from '../infer/predict-options';
import { loadPredictorFromRun } from '../infer/run';
import type { Predictor } from '../infer/types';
import { findLatestCheckpoint } from '../train/checkpoint';

export interface ClassicalSpec {
  kind: 'classical';
  /** Classical detector parameters, flat or by stage (classical/params.ts). */
  params?: Record<string, number | boolean | string>;
  maxPixels?: number;
}

export interface RunSpec {
  kind: 'run';
  /** A training run folder (runs/<name>); its latest complete checkpoint is used. */
  dir: string;
  /** Options left undefined come from the run's predict.json (infer/predict-options.ts), as for `sifd predict --run`. */
  minEventScore?: number;
  evidenceKeep?: number | null;
  events?: EventPolicy;
}

export type DetectorSpec = (ClassicalSpec | RunSpec) & { postprocess?: PostprocessOptions };

export const DETECTOR_KINDS = ['classical', 'run'] as const;

function digest(parts: ReadonlyArray<string | Uint8Array>): string {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 16);
}

/**
 * A stable id for what the detector computes: its kind and a hash of everything that changes its output
 * (resolved parameters and post-processing; for a run, its model config and weights, so the same run copied to
 * another machine has the same id and a retrained one a new id). Throws ConfigError for bad parameters or a run
 * folder without a usable checkpoint, before any image is read.
 */
export function detectorId(spec: DetectorSpec): string {
  const post = JSON.stringify(resolvePostprocessOptions(spec.postprocess ?? {}));
  if (spec.kind === 'classical') {
    // how it runs (the 'run' group: a stage worker thread or not) changes no result
    const resolved: Record<string, unknown> = { ...resolveParams(spec.params ?? {}) };
    for (const k of PARAM_GROUPS.run) delete resolved[k];
    const params = JSON.stringify(resolved);
    return `classical-${digest([params, String(spec.maxPixels ?? ''), post])}`;
  }
  if (spec.kind === 'run') {
    const ckpt = findLatestCheckpoint(spec.dir, () => undefined);
    if (!ckpt) throw new ConfigError('no complete checkpoint (epoch_<k>/) in this run folder', spec.dir);
    const weights = [...ckpt.weights.values()].map((w) => new Uint8Array(w.values.buffer, w.values.byteOffset, w.values.byteLength));
    // the options it will predict with: given ones, else the run's predict.json (calibrated threshold), else defaults
    const recorded = readRunPredictOptions(spec.dir) ?? {};
    const opts = JSON.stringify([spec.minEventScore ?? recorded.minEventScore ?? 0, spec.evidenceKeep ?? recorded.evidenceKeep, spec.events ?? recorded.events ?? null]);
    return `run-${digest([JSON.stringify(ckpt.meta.model), ...weights, opts, post])}`;
  }
  throw new ConfigError(`unknown detector kind '${(spec as { kind: string }).kind}'; known: ${DETECTOR_KINDS.join(', ')}`);
}

/**
 * The spec for one of `processes` detector processes side by side: with more than one, each classical detector
 * runs single-threaded (stageWorker off, unless the spec sets it) since the processes already share the cores out.
 * Same detector id, same results.
 */
export function specPerProcess(spec: DetectorSpec, processes: number): DetectorSpec {
  if (spec.kind !== 'classical' || processes <= 1 || flattenParams(spec.params ?? {}).stageWorker !== undefined) return spec;
  return { ...spec, params: { ...spec.params, stageWorker: false } };
}

/** The predictor for a spec (the caller disposes it). A run's model goes on the fastest tfjs backend here. */
export async function createDetector(spec: DetectorSpec): Promise<Predictor> {
  if (spec.kind === 'classical') return createClassicalPredictor(spec.params ?? {}, { maxPixels: spec.maxPixels });
  await initBackend();
  return loadPredictorFromRun(spec.dir, { minEventScore: spec.minEventScore, evidenceKeep: spec.evidenceKeep, events: spec.events, warn: () => undefined });
}

/** Post-processing of a spec, with the submission's defaults (the same as `sifd predict`). */
export function postprocessOf(spec: DetectorSpec): PostprocessOptions {
  return { ...POSTPROCESS_DEFAULTS, ...(spec.postprocess ?? {}) };
}
