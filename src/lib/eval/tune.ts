import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { readImage } from '../data/image-io';
import { readMasks } from '../data/npy';
import { scan } from '../data/scan';
import type { Masks } from '../data/types';
import { ConfigError, DatasetError } from '../errors';
import { DECODE_DEFAULTS } from '../infer/decode';
import { writeDecodeParams, type DecodeParamsRecord } from '../infer/decode-params';
import { loadRunModel } from '../infer/run';
import { EvaluationAccumulator } from '../metrics/evaluate';
import type { Decode, DecodeContext, ForwardOutput } from '../models/types';
import { Rng } from '../util/random';

/**
 * `sifd tune`: a seeded random search (the full grid when it is no larger than `trials`) of a run's
 * decoder parameters over the candidates its spec lists (`tuning`), scored by the Kaggle oF1 on the
 * labelled images of `data`. Each image goes through the model once; every trial only decodes.
 * Trial 0 is the decoder's defaults. The best parameters go into the run's decode.json (with the
 * default's score), which the run predictor then uses. Tune on validation images, not on the set
 * you report.
 */
export interface TuneOptions {
  runDir: string;
  data: string;
  trials?: number;
  seed?: number;
  /** At most this many images per (split, label) (quick runs). */
  limitPerGroup?: number;
  /** Write decode.json (default true). */
  write?: boolean;
  onTrial?: (trial: TuneTrial, index: number, total: number) => void;
  warn?: (msg: string) => void;
}

export interface TuneTrial {
  params: Record<string, number>;
  of1: number;
}

export interface TuneResult {
  best: TuneTrial;
  defaults: TuneTrial;
  trials: TuneTrial[];
  images: number;
  record: DecodeParamsRecord;
}

interface Cached {
  id: string;
  out: ForwardOutput;
  ctx: DecodeContext;
  truth: Masks;
}

/** Candidate parameter sets: all grid points when there are at most `trials`, else `trials` seeded draws. */
export function candidateParams(space: Record<string, readonly number[]>, trials: number, rng: Rng): Record<string, number>[] {
  const keys = Object.keys(space);
  const gridSize = keys.reduce((n, k) => n * space[k].length, 1);
  if (gridSize <= trials) {
    let grid: Record<string, number>[] = [{}];
    for (const k of keys) grid = grid.flatMap((g) => space[k].map((v) => ({ ...g, [k]: v })));
    return grid;
  }
  const seen = new Set<string>();
  const out: Record<string, number>[] = [];
  for (let tries = 0; out.length < trials && tries < trials * 20; tries++) {
    const p: Record<string, number> = {};
    for (const k of keys) p[k] = rng.pick(space[k]);
    const key = JSON.stringify(p);
    if (!seen.has(key)) seen.add(key), out.push(p);
  }
  return out;
}

function score(decode: Decode, cache: Cached[]): number {
  const acc = new EvaluationAccumulator();
  for (const c of cache) {
    const pred = decode(c.out, c.ctx);
    acc.add(
      { caseId: c.id, shape: [c.ctx.height, c.ctx.width], masks: () => c.truth, source: c.id },
      { instances: pred.instances, probability: pred.probability, imageScore: Math.max(0, ...pred.scores) },
    );
  }
  return acc.result().of1;
}

export async function tuneDecoder(opts: TuneOptions): Promise<TuneResult> {
  const trials = opts.trials ?? 24;
  if (!Number.isInteger(trials) || trials < 1) throw new ConfigError(`trials must be an integer >= 1, got ${trials}`);
  const seed = opts.seed ?? 0;
  const run = loadRunModel(opts.runDir, opts.warn);
  const cache: Cached[] = [];
  try {
    const { spec, meta } = run;
    if (!spec.decodeWith || !spec.tuning) throw new ConfigError(`model '${meta.model.name}' has no tunable decoder parameters`, opts.runDir);
    const scanned = await scan(opts.data, { verify: 'masks', limitPerGroup: opts.limitPerGroup });
    const samples = scanned.samples.filter((s) => s.label !== 'unknown');
    if (samples.length === 0) throw new DatasetError('no labelled images to tune on', scanned.root);
    for (const sample of samples) {
      const image = await readImage(sample.imagePath);
      const { height, width } = image;
      const truth = sample.maskPath ? readMasks(sample.maskPath, { height, width }) : { data: new Uint8Array(0), count: 0, height, width };
      const input = await run.preprocess(image);
      const out = tf.tidy(() => {
        const { loss, ...o } = run.model.forward({ images: tf.tensor4d(input.pixels, [1, input.height, input.width, input.channels]) }, { training: false });
        loss?.dispose();
        return o;
      });
      cache.push({ id: sample.id, out, truth, ctx: { height, width, restore: input.restore, ...DECODE_DEFAULTS } });
    }
    const decodeWith = spec.decodeWith;
    const candidates = [{}, ...candidateParams(spec.tuning, trials, new Rng(seed))];
    const results: TuneTrial[] = [];
    candidates.forEach((params, i) => {
      const trial = { params, of1: score(decodeWith(params), cache) };
      results.push(trial);
      opts.onTrial?.(trial, i, candidates.length);
    });
    // the first best wins ties, so the defaults stay unless something beats them
    const best = results.reduce((a, b) => (b.of1 > a.of1 ? b : a));
    const record: DecodeParamsRecord = {
      model: meta.model.name,
      params: best.params,
      of1: best.of1,
      defaultOf1: results[0].of1,
      data: path.resolve(opts.data),
      images: cache.length,
      trials: candidates.length,
      seed,
    };
    if (opts.write ?? true) writeDecodeParams(opts.runDir, record);
    return { best, defaults: results[0], trials: results, images: cache.length, record };
  } finally {
    for (const c of cache) tf.dispose(Object.values(c.out) as tf.Tensor[]);
    run.model.dispose();
  }
}
