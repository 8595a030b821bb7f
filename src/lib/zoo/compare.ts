/**
 * The model zoo side by side (`sifd compare`, notebook 09): for every model asked for, the newest
 * finished run of it in the runs folder, else one trained with its family recipe scaled to the
 * budget; then the classical detector and the all-authentic baseline; all evaluated on the same
 * validation images by one protocol (entry.ts). A model that cannot be scored is listed as absent
 * with the reason, never dropped.
 */
import * as path from 'path';
import { createClassicalPredictor } from '../classical/predictor';
import { scan } from '../data/scan';
import { stratifiedSplit } from '../data/split';
import type { Masks, Problem, Sample } from '../data/types';
import { ConfigError, didYouMean } from '../errors';
import { readDecodeParams } from '../infer/decode-params';
import { loadPredictorFromRun } from '../infer/run';
import { calibrateEventScore } from '../eval/calibrate';
import { readRunPredictOptions, type RunPredictOptions } from '../infer/predict-options';
import type { Predictor } from '../infer/types';
import type { Evaluation } from '../metrics/evaluate';
import { hasModel, listModels } from '../models/index';
import { trainOnDataset } from '../train/dataset_run';
import type { TrainerCallbacks } from '../train/trainer';
import { evaluateEntry, readSyntheticTruth, type EntryEvaluation } from './entry';
import { familyRecipe, hasRecipe, scaleRecipe } from './recipes';
import { listRuns, newestFinishedRun, type RunListing } from './runs';

/** The models a comparison covers by default: the families notebooks 03-07 train. */
export const DEFAULT_ZOO_MODELS = ['segformer-cmfd', 'maskrcnn-mnv3s', 'dinov2-metric', 'bappy-patch', 'bappy-convlstm', 'deeplabv3plus'];

/** The split seed and share of the training data held out for validation when no --val-data is given (the recipes' seed). */
const VAL_SPLIT = { valFraction: 0.2, seed: 1 };

export interface CompareOptions {
  /** Training dataset (Kaggle layout); also the validation source (its held-out split) without `valData`. */
  data: string;
  valData?: string;
  /**
   * Tuning set: each run compare trains gets its event threshold calibrated there (eval/calibrate.ts,
   * into its predict.json), as the notebooks calibrate theirs. Never the validation set.
   */
  tuneData?: string;
  models: readonly string[];
  /** Folder of training runs (default runs/). */
  runs?: string;
  /** Minutes of training for the models without a finished run, shared among them; 0 or absent: train none. */
  budgetMinutes?: number;
  /** Train with the notebooks' SIFD_QUICK=1 recipes (tiny; tests, quick notebooks). */
  quick?: boolean;
  /** Add the classical detector (default true). */
  classical?: boolean;
  /** At most this many validation images per label (forged, authentic), in scan order. */
  valLimit?: number;
  log?: (line: string) => void;
  onImage?: (entry: string, done: number, total: number) => void;
  /** Training callbacks (progress bars in a notebook). */
  trainCallbacks?: (model: string) => TrainerCallbacks[];
}

export type EntryKind = 'run' | 'classical' | 'baseline' | 'absent';

export interface ZooMetrics {
  oF1: number;
  authentic_clean_share: number;
  forged_detected_share: number;
  of1_forged: number;
  dice_pos: number;
  dice_all: number;
  iou_pos: number;
  iou_all: number;
  pixel_f1: number;
  pixel_auc: number;
  image_f1: number;
  image_auc: number;
  ms_per_mp: number;
}

export interface ZooEntry {
  name: string;
  kind: EntryKind;
  model?: string;
  /** Absent: why. */
  reason?: string;
  run?: string;
  /** Whether this comparison trained the run. */
  trained?: boolean;
  /** What the run predicted with, and where that came from. */
  predictOptions?: RunPredictOptions;
  predictOptionsSource?: string;
  parameters?: number | null;
  trainMinutes?: number | null;
  metrics?: ZooMetrics;
  evaluation?: Omit<Evaluation, 'per_image'>;
  /** The full per-model evaluation (curves, groups); not serialised as is. */
  detail?: EntryEvaluation;
}

export interface ZooResult {
  date: string;
  data: string;
  valData: string;
  valImages: number;
  runs: string;
  problems: Problem[];
  unreadable: Array<{ file: string; reason: string }>;
  entries: ZooEntry[];
}

/** The shared validation images: --val-data's labelled training-split images, else the held-out split of --data. */
async function validationSamples(opts: CompareOptions): Promise<{ root: string; samples: Sample[]; problems: Problem[]; heldOut: Set<string> }> {
  const root = path.resolve(opts.valData ?? opts.data);
  const scanned = await scan(root);
  let samples = scanned.samples.filter((s) => s.split === 'train' && s.label !== 'unknown');
  let heldOut = new Set<string>();
  if (!opts.valData) {
    samples = stratifiedSplit(samples, VAL_SPLIT).val;
    heldOut = new Set(samples.map((s) => path.resolve(s.imagePath)));
  }
  if (opts.valLimit !== undefined) {
    const limit = opts.valLimit;
    const forged = samples.filter((s) => s.label === 'forged').slice(0, limit);
    const authentic = samples.filter((s) => s.label === 'authentic').slice(0, limit);
    samples = samples.filter((s) => forged.includes(s) || authentic.includes(s));
  }
  if (samples.length === 0) throw new ConfigError('no labelled validation images (train_images/ with authentic/ and forged/)', root);
  return { root, samples, problems: scanned.problems, heldOut };
}

function metricsOf(e: Evaluation, msPerMp: number): ZooMetrics {
  return {
    oF1: e.of1,
    authentic_clean_share: e.authentic_clean_share,
    forged_detected_share: e.forged_detected_share,
    of1_forged: e.of1_forged,
    dice_pos: e.dice_pos,
    dice_all: e.dice_all,
    iou_pos: e.iou_pos,
    iou_all: e.iou_all,
    pixel_f1: e.pixel_f1,
    pixel_auc: e.pixel_auc ?? NaN,
    image_f1: e.image_f1,
    image_auc: e.image_auc ?? NaN,
    ms_per_mp: msPerMp,
  };
}

function scored(entry: ZooEntry, detail: EntryEvaluation): ZooEntry {
  const { per_image: _perImage, ...evaluation } = detail.validation.evaluation;
  return { ...entry, metrics: metricsOf(detail.validation.evaluation, detail.msPerMegapixel), evaluation, detail };
}

/** The all-authentic baseline as a predictor: nothing anywhere. */
function nothingPredictor(): Predictor {
  const empty = (height: number, width: number): Masks => ({ data: new Uint8Array(0), count: 0, height, width });
  return { name: 'all authentic (baseline)', predict: async (image) => ({ instances: empty(image.height, image.width), scores: [] }), dispose: () => undefined };
}

export async function compareModels(opts: CompareOptions): Promise<ZooResult> {
  const log = opts.log ?? (() => undefined);
  const runsDir = path.resolve(opts.runs ?? 'runs');
  const budget = opts.budgetMinutes ?? 0;
  if (!(budget >= 0)) throw new ConfigError(`the training budget must be >= 0 minutes, got ${budget}`);
  if (opts.models.length === 0) throw new ConfigError(`no models to compare; registered: ${listModels().map((m) => m.name).join(', ')}`);
  const { root: valRoot, samples, problems, heldOut } = await validationSamples(opts);
  const synthetic = readSyntheticTruth(valRoot);
  const unreadable = new Map<string, string>();
  const onUnreadable = (s: Sample, reason: string) => unreadable.set(s.imagePath, reason);
  const evaluate = (p: Predictor, name: string) => evaluateEntry(p, samples, { synthetic, onUnreadable, onImage: (d, n) => opts.onImage?.(name, d, n) });
  log(`validation: ${samples.length} images of ${valRoot}${opts.valData ? '' : ' (held-out split)'}`);

  const runs = listRuns(runsDir, log);
  // Models without a finished run share the budget.
  const plans = opts.models.map((model) => ({ model, run: hasModel(model) ? newestFinishedRun(runs, model) : undefined }));
  const toTrain = plans.filter((p) => hasModel(p.model) && !p.run && hasRecipe(p.model)).length;
  const entries: ZooEntry[] = [];
  for (const plan of plans) {
    const { model } = plan;
    if (!hasModel(model)) {
      entries.push({ name: model, kind: 'absent', model, reason: `model '${model}' is not registered (${didYouMean(model, listModels().map((m) => m.name))})` });
      continue;
    }
    let run: RunListing | undefined = plan.run;
    let trained = false;
    if (!run) {
      if (!hasRecipe(model)) {
        entries.push({ name: model, kind: 'absent', model, reason: `no finished run of '${model}' in ${runsDir}, and no notebook recipe to train one (train it with sifd train)` });
        continue;
      }
      if (budget <= 0) {
        entries.push({ name: model, kind: 'absent', model, reason: `no finished run of '${model}' in ${runsDir}, and no --budget to train one` });
        continue;
      }
      try {
        run = await trainFromRecipe(model, runsDir, budget / toTrain, heldOut, opts, log);
        trained = true;
      } catch (err) {
        entries.push({ name: model, kind: 'absent', model, reason: `training failed: ${(err as Error).message}` });
        continue;
      }
    }
    const recorded = readRunPredictOptions(run.dir);
    const predictOptions = recorded ?? {};
    const source = recorded ? 'the run (predict.json)' : 'defaults (the run has no predict.json)';
    const tuned = readDecodeParams(run.dir) ? '; tuned decoder: the run\'s decode.json' : '';
    const base: ZooEntry = { name: model, kind: 'run', model, run: run.dir, trained, predictOptions, predictOptionsSource: source + tuned, parameters: run.parameters, trainMinutes: run.trainMinutes };
    let predictor: Predictor;
    try {
      predictor = await loadPredictorFromRun(run.dir);
    } catch (err) {
      entries.push({ ...base, kind: 'absent', reason: `its run could not be loaded: ${(err as Error).message}` });
      continue;
    }
    try {
      log(`${model}: evaluating ${path.basename(run.dir)}`);
      entries.push(scored(base, await evaluate(predictor, model)));
    } finally {
      predictor.dispose();
    }
  }
  if (opts.classical ?? true) {
    const classical = createClassicalPredictor();
    try {
      log('classical: evaluating');
      entries.push(scored({ name: 'classical', kind: 'classical', parameters: null, trainMinutes: 0 }, await evaluate(classical, 'classical')));
    } finally {
      classical.dispose();
    }
  }
  entries.push(scored({ name: 'all authentic (baseline)', kind: 'baseline', parameters: 0, trainMinutes: 0 }, await evaluate(nothingPredictor(), 'baseline')));
  return {
    date: new Date().toISOString(),
    data: path.resolve(opts.data),
    valData: valRoot,
    valImages: samples.length - unreadable.size,
    runs: runsDir,
    problems,
    unreadable: [...unreadable].map(([file, reason]) => ({ file, reason })),
    entries,
  };
}

/** Train `model` with its family recipe scaled to `minutes` into a new run folder, calibrated on the tuning set when one is given. */
async function trainFromRecipe(model: string, runsDir: string, minutes: number, heldOut: ReadonlySet<string>, opts: CompareOptions, log: (line: string) => void): Promise<RunListing> {
  const recipe = scaleRecipe(familyRecipe(model, { quick: opts.quick }), minutes);
  const out = path.join(runsDir, `zoo_${model}_${recipe.train.size}px_${recipe.train.epochs}ep${opts.quick ? '_quick' : ''}_${Date.now().toString(36)}`);
  log(`${model}: no finished run; training ${recipe.train.epochs} epoch(s) on at most ${recipe.trainImages} images into ${out} (budget ${minutes.toFixed(1)} min)`);
  await trainOnDataset({
    model,
    modelConfig: recipe.modelConfig,
    data: opts.data,
    out,
    overrides: recipe.train,
    scheduleFor: recipe.schedule,
    holdOut: heldOut,
    limitPerGroup: Math.ceil(recipe.trainImages / 2),
    callbacks: opts.trainCallbacks?.(model),
    warn: log,
  });
  if (opts.tuneData) {
    const rec = await calibrateEventScore({ runDir: out, data: opts.tuneData, warn: log });
    log(`${model}: event threshold ${rec.minEventScore} calibrated on ${rec.images} tuning images (oF1 ${rec.chosen.of1.toFixed(4)} there)`);
  }
  const listed = listRuns(runsDir).find((r) => r.dir === out);
  if (!listed) throw new ConfigError('training wrote no checkpoint', out);
  return listed;
}
