import * as tf from '@tensorflow/tfjs';
import { copyLinks, evidenceUnion, trustedEvidencePlane, checkEvidenceKind, type EvidenceKind } from '../evidence/index';
import type { Image } from '../data/types';
import { ConfigError, ModelError, TrainingError } from '../errors';
import { buildModel, getModelSpec } from '../models/index';
import type { Decode, ForwardOutput, Model, ModelSpec, Preprocess } from '../models/types';
import { assignWeights, findLatestCheckpoint, type LoadedCheckpoint } from '../train/checkpoint';
import { Rng } from '../util/random';
import { DECODE_DEFAULTS } from './decode';
import { runDecoder } from './decode-params';
import { checkEventPolicy, keepScoring, type EventPolicy } from './postprocess';
import { readRunPredictOptions } from './predict-options';
import { squareResize } from './preprocess';
import type { InstancePrediction, Predictor } from './types';

export interface RunPredictorOptions {
  /** Probability at or above which a pixel is forged (default 0.5). */
  threshold?: number;
  /** Connected regions smaller than this many pixels (at original size) are dropped (default 10). */
  minArea?: number;
  /**
   * Runs trained with an evidence channel: an evidence region whose mean predicted probability
   * reaches this joins the prediction at native resolution (infer/postprocess.ts,
   * keepVerifiedEvidence), and the instances are the connected regions of the result. null: the
   * model's output alone. Default 0.3 (chosen on validation figures of generator seeds 2 and 9, see README).
   * Regions of a trusted plane (evidence/index.ts, trustedEvidencePlane: resampled twins) join
   * whatever the model says, unless this is null.
   */
  evidenceKeep?: number | null;
  /**
   * How the instances become copy-move events (infer/postprocess.ts, groupEvents). Default: the
   * model's decoder's own (infer/decode.ts: 'copy-links' for probability maps, from the image's block pairs; 'overlap' for queries).
   */
  events?: EventPolicy;
  /**
   * Events scoring below this (a probability-map event's score is the best mean probability of its
   * regions) are dropped, so a weak blob does not turn an authentic row into a false alarm. Default:
   * the run's predict.json (set by eval/calibrate.ts from a tuning set, or by a zoo recipe), else 0 (keep all).
   */
  minEventScore?: number;
  warn?: (msg: string) => void;
}

/**
 * A Predictor from the latest complete checkpoint of a training run, through the model's contract
 * (models/types.ts): the spec's preprocess brings each image to the run's input (default: the
 * square training size, normalized as the loader did, evidence planes computed at the original
 * size), the model runs, and the spec's decode turns its output into copy-move events at the
 * image's original size (the preprocess's `restore` brings maps back), fusing the evidence.
 * A run tuned by `sifd tune` decodes with its tuned parameters (infer/decode-params.ts).
 */
/** A run's model with its latest weights, its input recipe and its decoder (tuned parameters included). */
export interface RunModel {
  model: Model;
  spec: ModelSpec;
  meta: LoadedCheckpoint['meta'];
  /** The checkpoint folder the weights came from. */
  dir: string;
  decode: Decode;
  evidence: EvidenceKind;
  preprocess: Preprocess;
}

/** The latest complete checkpoint of `runDir` as a built model (the caller disposes `model`). */
export function loadRunModel(runDir: string, warn?: (msg: string) => void): RunModel {
  const ckpt = findLatestCheckpoint(runDir, warn);
  if (!ckpt) throw new TrainingError('no complete checkpoint (epoch_<k>/) in this run folder', runDir);
  const { meta } = ckpt;
  const spec = getModelSpec(meta.model.name);
  const model = buildModel(meta.model.name, meta.model.config, new Rng(0));
  try {
    assignWeights(model, ckpt.weights, ckpt.dir);
    const decode = runDecoder(spec, runDir, meta.model.name);
    const evidence = checkEvidenceKind(meta.train.evidence, 'run');
    const preprocess = (spec.preprocess ?? squareResize)({ size: meta.train.size, augment: meta.train.augment, evidence });
    return { model, spec, meta, dir: ckpt.dir, decode, evidence, preprocess };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/**
 * A run's predictor. Options left undefined come from the run's predict.json (infer/predict-options.ts)
 * when it has one, else from the defaults documented above.
 */
export async function loadPredictorFromRun(runDir: string, given: RunPredictorOptions = {}): Promise<Predictor> {
  const recorded = readRunPredictOptions(runDir) ?? {};
  const opts: RunPredictorOptions = { ...given };
  for (const key of ['minEventScore', 'evidenceKeep', 'events'] as const) {
    if (opts[key] === undefined && recorded[key] !== undefined) (opts as Record<string, unknown>)[key] = recorded[key];
  }
  const evidenceKeep = opts.evidenceKeep === undefined ? 0.3 : opts.evidenceKeep;
  if (evidenceKeep !== null && !(evidenceKeep >= 0 && evidenceKeep <= 1)) throw new ConfigError(`evidenceKeep must be in [0, 1] or null, got ${evidenceKeep}`);
  if (opts.events !== undefined) checkEventPolicy(opts.events);
  const minEventScore = opts.minEventScore ?? 0;
  if (!(minEventScore >= 0 && minEventScore <= 1)) throw new ConfigError(`minEventScore must be in [0, 1], got ${minEventScore}`);
  const { model, meta, dir, decode, evidence, preprocess } = loadRunModel(runDir, opts.warn);
  const threshold = opts.threshold ?? DECODE_DEFAULTS.threshold;
  const minArea = opts.minArea ?? DECODE_DEFAULTS.minArea;
  let disposed = false;

  return {
    name: `${meta.model.name} (${dir})`,
    async predict(image: Image): Promise<InstancePrediction> {
      if (disposed) throw new ModelError('predictor used after dispose()');
      const { height, width } = image;
      const input = await preprocess(image);
      const out: ForwardOutput = tf.tidy(() => {
        const x = tf.tensor4d(input.pixels, [1, input.height, input.width, input.channels]);
        const { loss, ...o } = model.forward({ images: x }, { training: false });
        loss?.dispose();
        return o;
      });
      try {
        const n = height * width;
        const fuse = input.evidence && evidenceKeep !== null
          ? { union: evidenceUnion(input.evidence, n), trusted: trustedEvidencePlane(evidence, input.evidence, n), keep: evidenceKeep }
          : null;
        return keepScoring(decode(out, { height, width, restore: input.restore, threshold, minArea, events: opts.events, evidence: fuse, links: () => copyLinks(image) }), minEventScore);
      } finally {
        tf.dispose(Object.values(out) as tf.Tensor[]);
      }
    },
    dispose() {
      if (!disposed) model.dispose();
      disposed = true;
    },
  };
}
