import * as fs from 'fs';
import * as path from 'path';
import { inputChannels } from '../evidence/index';
import { createLoader, type Loader } from '../data/loader';
import { resolveDataRoot, scan } from '../data/scan';
import { writeFileAtomic } from '../util/atomic';
import { stratifiedSplit } from '../data/split';
import type { Problem } from '../data/types';
import { ConfigError, DatasetError } from '../errors';
import { buildModel, getModelSpec, listModels } from '../models/index';
import type { ModelConfig } from '../models/types';
import { Rng } from '../util/random';
import { assignWeights, findLatestCheckpoint, type LoadedCheckpoint } from './checkpoint';
import { DEFAULT_TRAIN_CONFIG, validateTrainConfig, type TrainConfig } from './config';
import { trainPreset } from './presets';
import type { ScheduleSpec } from './schedules';
import { trainModel, type TrainerCallbacks, type TrainResult } from './trainer';

export interface DatasetRunOptions {
  /** Registry name; with `resume` and an existing checkpoint, the checkpoint's model is used (and must match). */
  model: string;
  modelConfig?: ModelConfig;
  /** Dataset root (Kaggle layout or data/sample). */
  data?: string;
  /** Run folder (runs/<name>). */
  out: string;
  resume?: boolean;
  /**
   * Fine-tune: start from the weights of the latest checkpoint of this run folder (`sifd weights
   * import` writes one), with a fresh optimizer and epoch count; the model and its config come from
   * that run (`modelConfig` may override options that keep the shapes). Ignored when resuming.
   */
  init?: string;
  /**
   * A schedule over the whole run in optimizer steps (cosine or poly to the last step, as the
   * notebooks' recipes use), given epochs x batches per epoch once the loader is known. A resumed
   * run keeps its recorded schedule.
   */
  scheduleFor?: (totalSteps: number) => ScheduleSpec;
  /** Start from a preset (presets.ts), then apply `overrides`. */
  preset?: string;
  overrides?: Partial<TrainConfig>;
  /** Fraction of the labelled samples held out for validation (stratified); 0 = none. Default 0.2. */
  valFraction?: number;
  /** Loader worker threads (default 0: decode in this thread). */
  workers?: number;
  /** Data-parallel training replicas (trainModel's dataParallel; default 1). */
  replicas?: number;
  /** Image paths never trained on nor used for the run's own validation (a caller's held-out set). */
  holdOut?: ReadonlySet<string>;
  /** At most this many samples per (split, label), for quick runs. */
  limitPerGroup?: number;
  callbacks?: TrainerCallbacks[];
  warn?: (msg: string) => void;
  /** Each sample the scan or the loader skipped. */
  onProblem?: (p: Problem) => void;
}

/** runs/<name>/run.json: what a run was started on, so a resume can check it is the same. */
interface RunInfo {
  model: string;
  /** Absolute dataset root. */
  data: string;
  /** The checkpoint the weights started from (`init`), if any. */
  init?: string;
}

const RUN_INFO = 'run.json';

function readRunInfo(runDir: string): RunInfo | undefined {
  const file = path.join(runDir, RUN_INFO);
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as RunInfo;
  } catch (err) {
    throw new ConfigError(`unreadable run description (${(err as Error).message})`, file);
  }
}

function writeRunInfo(runDir: string, info: RunInfo): void {
  writeFileAtomic(path.join(runDir, RUN_INFO), JSON.stringify(info, null, 1) + '\n');
}

/** The latest checkpoint of the run `dir` to fine-tune from; it must exist and be of `model`. */
function loadInit(dir: string, model: string, warn: (msg: string) => void): LoadedCheckpoint {
  const ckpt = findLatestCheckpoint(path.resolve(dir), warn);
  if (!ckpt) throw new ConfigError('--init: no complete checkpoint (epoch_<k>/) in this run folder', dir);
  if (ckpt.meta.model.name !== model) throw new ConfigError(`--init: the run holds model '${ckpt.meta.model.name}', not '${model}'`, dir);
  return ckpt;
}

/**
 * The `sifd train` pipeline: scan -> stratified train/val split -> seeded loaders -> trainer,
 * checkpointing into `out`. Refuses to overwrite the checkpoints of an earlier run unless asked
 * to resume it.
 */
export async function trainOnDataset(opts: DatasetRunOptions): Promise<TrainResult & { runDir: string; trainSamples: number; valSamples: number }> {
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  const runDir = path.resolve(opts.out);
  const existing = fs.existsSync(runDir) && fs.readdirSync(runDir).some((n) => /^epoch_\d+$/.test(n));
  if (existing && !opts.resume) {
    throw new ConfigError('this run folder already holds checkpoints; pass --resume to continue it or choose another --out', runDir);
  }
  const ckpt = opts.resume ? findLatestCheckpoint(runDir, warn, { setAsideCorrupt: true }) : undefined;
  if (opts.resume && !ckpt) warn(`warning: no complete checkpoint in ${runDir}; starting from scratch`);
  if (ckpt && ckpt.meta.model.name !== opts.model) {
    throw new ConfigError(`the run was trained with model '${ckpt.meta.model.name}', not '${opts.model}'`, runDir);
  }
  const ignored = Object.keys(opts.overrides ?? {}).filter((k) => k !== 'epochs');
  if (ckpt && (ignored.length || opts.preset)) {
    warn(`warning: resuming keeps the run's own recipe; ignoring ${[...ignored, ...(opts.preset ? ['preset'] : [])].join(', ')}`);
  }
  const recorded = readRunInfo(runDir);
  const dataRoot = resolveDataRoot(opts.data ?? (ckpt && recorded ? recorded.data : undefined));
  if (ckpt && recorded && opts.data !== undefined && dataRoot !== recorded.data) {
    throw new ConfigError(`the run was trained on ${recorded.data}, not ${dataRoot}; resume with that --data (or omit it) or start a new --out`, runDir);
  }
  if (ckpt && opts.overrides?.epochs !== undefined && opts.overrides.epochs < ckpt.meta.epoch) {
    throw new ConfigError(`the run has already finished ${ckpt.meta.epoch} epochs; --epochs ${opts.overrides.epochs} is below that (give more to train longer)`, runDir);
  }
  const base = opts.preset ? trainPreset(opts.preset) : { ...DEFAULT_TRAIN_CONFIG };
  const config = validateTrainConfig(ckpt ? { ...ckpt.meta.train, ...(opts.overrides?.epochs ? { epochs: opts.overrides.epochs } : {}) } : { ...base, ...opts.overrides });
  const spec = getModelSpec(opts.model);

  // 'masks': mask data is read, so a forged image whose mask is empty (all zero or NaN) is skipped
  // with an 'empty-mask' problem instead of teaching the model that forged means nothing.
  const scanned = await scan(dataRoot, { verify: 'masks', limitPerGroup: opts.limitPerGroup });
  for (const p of scanned.problems) opts.onProblem?.(p);
  const labelled = scanned.samples.filter((s) => s.split !== 'test' && s.label !== 'unknown' && !opts.holdOut?.has(s.imagePath));
  if (labelled.length === 0) throw new DatasetError('no labelled training images (train_images/ or supplemental_images/ with authentic/ and forged/)', scanned.root);
  const valFraction = opts.valFraction ?? 0.2;
  const split = labelled.length >= 2 && valFraction > 0 ? stratifiedSplit(labelled, { valFraction, seed: config.seed }) : { train: labelled, val: [] };
  if (split.train.length === 0) throw new DatasetError('the validation split took every sample; lower the validation fraction', scanned.root);

  const common = { batchSize: config.batchSize, size: config.size, seed: config.seed, workers: opts.workers ?? 0, instances: spec.targets.some((t) => t === 'instances' || t === 'boxes'), evidence: config.evidence, onProblem: opts.onProblem };
  const loaders: Loader[] = [createLoader({ ...common, samples: split.train, augment: config.augment })];
  if (split.val.length) loaders.push(createLoader({ ...common, samples: split.val, augment: 'none', shuffle: false }));
  const [trainLoader, valLoader] = loaders;
  const runConfig = opts.scheduleFor && !ckpt ? validateTrainConfig({ ...config, schedule: opts.scheduleFor(config.epochs * trainLoader.batchesPerEpoch) }) : config;
  // An evidence channel widens the model's input (a model without `inChannels` rejects it by name).
  const channels = inputChannels(config.evidence);
  if (channels !== 3 && !('inChannels' in spec.defaults)) {
    throw new ConfigError(`model '${opts.model}' takes RGB input only; evidence '${config.evidence}' needs a model with an 'inChannels' option (${listModels().filter((m) => 'inChannels' in m.defaults).map((m) => m.name).join(', ')})`);
  }
  const init = !ckpt && opts.init ? loadInit(opts.init, opts.model, warn) : undefined;
  if (ckpt && opts.init) warn(`warning: resuming ${runDir}; --init ${opts.init} is ignored`);
  const modelConfig = ckpt
    ? ckpt.meta.model.config
    : { ...(init ? init.meta.model.config : {}), ...(channels !== 3 ? { inChannels: channels } : {}), ...opts.modelConfig };
  const model = buildModel(opts.model, modelConfig, new Rng(config.seed));
  if (init) {
    try {
      assignWeights(model, init.weights, init.dir);
    } catch (err) {
      model.dispose();
      throw err;
    }
  }
  if (!ckpt || !recorded) writeRunInfo(runDir, { model: opts.model, data: scanned.root, ...(init ? { init: init.dir } : {}) });
  try {
    const result = await trainModel({
      model,
      config: runConfig,
      train: ({ epoch }) => trainLoader.epoch(epoch),
      val: valLoader ? ({ epoch }) => valLoader.epoch(epoch) : undefined,
      runDir,
      resume: ckpt ?? false,
      callbacks: opts.callbacks,
      batchesPerEpoch: trainLoader.batchesPerEpoch,
      dataParallel: opts.replicas ?? 1,
      warn,
    });
    return { ...result, runDir, trainSamples: split.train.length, valSamples: split.val.length };
  } finally {
    model.dispose();
    for (const l of loaders) await l.close();
  }
}
