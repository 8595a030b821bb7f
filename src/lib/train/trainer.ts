import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { GradientReplicas } from './data-parallel';
import { ModelError, TrainingError } from '../errors';
import type { Batch, InstanceTensors } from '../data/batch';
import type { Masks } from '../data/types';
import { DEFAULT_METRICS, getMetric } from '../eval/metrics';
import { DECODE_DEFAULTS } from '../infer/decode';
import { modelContract } from '../models/registry';
import type { ForwardInput, ForwardOutput, Model, ModelSpec, TargetKind } from '../models/types';
import { Rng } from '../util/random';
import { findLatestCheckpoint, assignWeights, saveCheckpoint, type LoadedCheckpoint } from './checkpoint';
import { clipByGlobalNorm } from './clip';
import { validateTrainConfig, type TrainConfig } from './config';
import { writeHistory, type EpochRecord } from './history';
import { cleanStaleTemps } from '../util/tempfile';
import { createOptimizer } from './optimizers';
import { makeSchedule } from './schedules';

/**
 * Where batches come from. A function is called once per epoch with the epoch number (1-based)
 * and an Rng forked from the trainer's (saved in checkpoints), so shuffling and augmentation
 * are reproducible across a resume. The trainer disposes the tensors of every batch it takes.
 */
export type BatchSource =
  | AsyncIterable<Batch>
  | Iterable<Batch>
  | ((ctx: { epoch: number; rng: Rng }) => AsyncIterable<Batch> | Iterable<Batch>);

export interface BatchInfo {
  epoch: number;
  /** 1-based batch index within the epoch. */
  batch: number;
  step: number;
  loss: number;
  lr: number;
  /** Gradient global norm before clipping (only when clipping is on). */
  gradNorm?: number;
}

export interface TrainerCallbacks {
  onTrainStart?(info: { startEpoch: number; epochs: number; resumedFrom?: string; batchesPerEpoch?: number }): void;
  onEpochStart?(info: { epoch: number; epochs: number; lr: number }): void;
  onBatchEnd?(info: BatchInfo): void;
  onEpochEnd?(record: EpochRecord, history: readonly EpochRecord[]): void;
  onCheckpoint?(dir: string): void;
  onTrainEnd?(history: readonly EpochRecord[]): void;
}

export interface TrainOptions {
  model: Model;
  config: TrainConfig;
  train: BatchSource;
  val?: BatchSource;
  /** Folder for epoch_<k>/ checkpoints and history.jsonl; omit to train without saving. */
  runDir?: string;
  /** Continue from the latest complete checkpoint of runDir (or from this loaded one). */
  resume?: boolean | LoadedCheckpoint;
  callbacks?: TrainerCallbacks[];
  /** Only for progress displays (async sources cannot say how long they are). */
  batchesPerEpoch?: number;
  /**
   * Split every batch over this many replicas: this thread and N-1 worker threads, each with its own copy of the
   * model (rebuilt from the registry) and backend (src/lib/train/data-parallel.ts). Default 1 (off). With wasm,
   * run this thread single-threaded too (SIFD_WASM_THREADS=1 before initBackend), one replica per core. Ignored
   * (with a warning) on the tensorflow backend.
   */
  dataParallel?: number;
  warn?: (msg: string) => void;
  /** The model's contract (targets, decode, metrics); default: its registered spec (models/registry.ts, modelContract). */
  contract?: Contract;
}

/** What the trainer reads of a model spec. */
export type Contract = Pick<ModelSpec, 'targets' | 'decode' | 'metrics'>;

export interface TrainResult {
  history: EpochRecord[];
  /** Epochs finished (including those before a resume). */
  epoch: number;
  step: number;
  lastCheckpoint?: string;
  resumedFrom?: string;
}

/**
 * Train `model` for config.epochs epochs: per batch forward -> loss -> gradients -> optional
 * clipping -> optimizer update; a validation pass per epoch when `val` is given; a checkpoint
 * per epoch. A NaN/Inf loss stops the run with a TrainingError before the bad update is
 * applied, so the last checkpoint on disk stays the last good state.
 */
export async function trainModel(opts: TrainOptions): Promise<TrainResult> {
  const { model } = opts;
  const contract = opts.contract ?? modelContract(model.name);
  if (contract.targets.includes('pairs')) throw new TrainingError(`model '${model.name}' needs source/copy pair targets, which the loader does not make yet`);
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  const callbacks = opts.callbacks ?? [];
  const emit = <K extends keyof TrainerCallbacks>(key: K, ...args: Parameters<NonNullable<TrainerCallbacks[K]>>) => {
    for (const cb of callbacks) (cb[key] as ((...a: unknown[]) => void) | undefined)?.(...args);
  };

  let config = validateTrainConfig(opts.config);
  const rng = new Rng(config.seed);
  let history: EpochRecord[] = [];
  let startEpoch = 0;
  let step = 0;
  let resumedFrom: string | undefined;
  let lastCheckpoint: string | undefined;

  const resumeFrom =
    typeof opts.resume === 'object'
      ? opts.resume
      : opts.resume && opts.runDir
        ? findLatestCheckpoint(opts.runDir, warn, { setAsideCorrupt: true })
        : undefined;
  // temp folders of a run killed mid-save (.epoch_<k>.tmp-<pid>-*) go before anything is written
  if (opts.runDir) cleanStaleTemps(opts.runDir);
  if (opts.resume === true && !opts.runDir) throw new TrainingError('resume needs a run folder');
  // On the native backend TensorFlow's own thread pool already uses every core; replicas would only compete for them.
  const nativeBackend = tf.getBackend() === 'tensorflow';
  if ((opts.dataParallel ?? 1) > 1 && nativeBackend) warn(`dataParallel ${opts.dataParallel} ignored on the tensorflow backend: its thread pool uses every core`);
  const replicas = (opts.dataParallel ?? 1) > 1 && !nativeBackend ? await GradientReplicas.start(model, opts.dataParallel!, tf.getBackend()) : null;
  const optimizer = createOptimizer(config.optimizer, config.lr);
  try {
    if (resumeFrom) {
      checkResumable(model, resumeFrom);
      // The run's own recipe wins; only the epoch count may be raised to train longer.
      if (config.epochs < resumeFrom.meta.epoch) {
        throw new TrainingError(
          `the run has already finished ${resumeFrom.meta.epoch} epochs; epochs ${config.epochs} is below that (give more to train longer)`,
          resumeFrom.dir,
        );
      }
      config = validateTrainConfig({ ...resumeFrom.meta.train, epochs: config.epochs });
      assignWeights(model, resumeFrom.weights, resumeFrom.dir);
      optimizer.setState(resumeFrom.optimizer);
      rng.setState(resumeFrom.meta.rng);
      history = resumeFrom.meta.history.slice();
      startEpoch = resumeFrom.meta.epoch;
      step = resumeFrom.meta.step;
      resumedFrom = resumeFrom.dir;
      lastCheckpoint = resumeFrom.dir;
      // history.jsonl is written after each checkpoint: a kill in between leaves it one epoch short
      if (opts.runDir) writeHistory(path.join(opts.runDir, 'history.jsonl'), history);
    } else if (opts.resume === true) {
      warn(`warning: no complete checkpoint in ${opts.runDir}; starting from scratch`);
    }

    const schedule = makeSchedule(config.schedule, config.lr);
    const names = trainableNames(model, config.freeze ?? []);
    const variables = names.map((n) => model.params.get(n)!);
    emit('onTrainStart', { startEpoch, epochs: config.epochs, resumedFrom, batchesPerEpoch: opts.batchesPerEpoch });

    for (let epoch = startEpoch + 1; epoch <= config.epochs; epoch++) {
      const started = Date.now();
      const epochLr = config.scheduleUnit === 'epoch' ? schedule(epoch - 1) : schedule(step);
      emit('onEpochStart', { epoch, epochs: config.epochs, lr: epochLr });
      const epochRng = rng.fork(epoch);
      const valRng = rng.fork(`val-${epoch}`);
      let lossSum = 0;
      let batches = 0;
      let lr = epochLr;
      for await (const batch of iterate(opts.train, epoch, epochRng)) {
        lr = config.scheduleUnit === 'epoch' ? epochLr : schedule(step);
        optimizer.lr = lr;
        let loss: number;
        let gradNorm: number | undefined;
        try {
          ({ loss, gradNorm } = await trainStep(model, contract, names, variables, batch, optimizer, config.clipNorm, replicas));
        } finally {
          disposeBatch(batch);
        }
        if (!Number.isFinite(loss)) {
          throw new TrainingError(
            `loss is ${loss} at epoch ${epoch}, batch ${batches + 1} (step ${step + 1}); training stopped before applying ` +
              `this update. Last good checkpoint: ${lastCheckpoint ?? 'none'}. Try a lower learning rate or gradient clipping.`,
            opts.runDir,
          );
        }
        step += 1;
        batches += 1;
        lossSum += loss;
        emit('onBatchEnd', { epoch, batch: batches, step, loss, lr, gradNorm });
      }
      if (batches === 0) throw new TrainingError(`the training batch source gave no batches in epoch ${epoch}`);

      const record: EpochRecord = { epoch, step, lr, trainLoss: lossSum / batches, seconds: 0 };
      if (opts.val) {
        const v = await validate(model, contract, iterate(opts.val, epoch, valRng));
        record.valLoss = v.loss;
        record.metrics = v.metrics;
      }
      record.seconds = (Date.now() - started) / 1000;
      history.push(record);

      if (opts.runDir) {
        lastCheckpoint = await saveCheckpoint(opts.runDir, {
          model,
          optimizer: optimizer.getState(),
          train: config,
          epoch,
          step,
          rng: rng.getState(),
          history,
        });
        writeHistory(path.join(opts.runDir, 'history.jsonl'), history);
        emit('onCheckpoint', lastCheckpoint);
      }
      emit('onEpochEnd', record, history);
    }
    emit('onTrainEnd', history);
    return { history, epoch: Math.max(startEpoch, config.epochs), step, lastCheckpoint, resumedFrom };
  } finally {
    optimizer.dispose();
    await replicas?.close();
  }
}

/** The parameters the optimizer updates: all but those under a frozen prefix (each prefix must match some). */
export function trainableNames(model: Model, freeze: readonly string[]): string[] {
  const all = [...model.params.keys()];
  for (const prefix of freeze) {
    if (!all.some((n) => n.startsWith(prefix))) throw new TrainingError(`freeze prefix '${prefix}' matches no parameter of model '${model.name}'`);
  }
  const names = all.filter((n) => !freeze.some((prefix) => n.startsWith(prefix)));
  if (names.length === 0) throw new TrainingError(`freezing ${freeze.join(', ')} leaves model '${model.name}' nothing to train`);
  return names;
}

/** One optimizer step; returns the loss. When the loss is not finite nothing is updated. */
async function trainStep(
  model: Model,
  contract: Contract,
  names: string[],
  variables: tf.Variable[],
  batch: Batch,
  optimizer: ReturnType<typeof createOptimizer>,
  clipNorm: number | null,
  replicas: GradientReplicas | null,
): Promise<{ loss: number; gradNorm?: number }> {
  const input = toForwardInput(batch, contract.targets);
  let loss: number;
  let named = new Map<string, tf.Tensor>();
  if (replicas) {
    ({ loss, grads: named } = await replicas.gradients(model, names, variables, input));
  } else {
    const { value, grads } = tf.variableGrads(() => {
      const out = model.forward(input, { training: true });
      if (!out.loss) throw new ModelError(`model '${model.name}' returned no loss for a batch with targets`);
      return out.loss;
    }, variables);
    loss = value.dataSync()[0];
    value.dispose();
    names.forEach((n, i) => {
      const g = grads[variables[i].name];
      if (g) named.set(n, g);
    });
  }
  let gradNorm: number | undefined;
  try {
    if (!Number.isFinite(loss)) return { loss };
    if (clipNorm !== null) {
      const clipped = clipByGlobalNorm(named, clipNorm);
      for (const g of named.values()) g.dispose();
      named = clipped.grads;
      gradNorm = clipped.norm;
    }
    optimizer.apply(model.params, named);
    return { loss, gradNorm };
  } finally {
    for (const g of named.values()) g.dispose();
  }
}

/**
 * Mean loss, and the mean over samples of each of the contract's metrics (eval/metrics.ts): each
 * sample's output is decoded by the model's own decoder at the input's size and scored against its
 * truth events (the batch's instances, else its foreground as one event).
 */
async function validate(
  model: Model,
  contract: Contract,
  source: AsyncIterable<Batch> | Iterable<Batch>,
): Promise<{ loss: number; metrics: Record<string, number> }> {
  const metrics = (contract.metrics ?? DEFAULT_METRICS).map(getMetric);
  const sums = new Array<number>(metrics.length).fill(0);
  let lossSum = 0;
  let batches = 0;
  let samples = 0;
  for await (const batch of source) {
    try {
      const out: ForwardOutput = model.forward(toForwardInput(batch, contract.targets), { training: false });
      try {
        lossSum += out.loss ? out.loss.dataSync()[0] : NaN;
        const [b, h, w] = batch.images.shape;
        for (let i = 0; i < b; i++) {
          const sample = sliceOutput(out, i);
          try {
            const pred = contract.decode(sample, { height: h, width: w, restore: (m) => m, ...DECODE_DEFAULTS });
            const truth = truthEvents(batch, i);
            metrics.forEach((m, k) => (sums[k] += m.compute(pred, truth)));
          } finally {
            tf.dispose(Object.values(sample) as tf.Tensor[]);
          }
        }
      } finally {
        tf.dispose(Object.values(out) as tf.Tensor[]);
      }
      batches += 1;
      samples += batch.images.shape[0];
    } finally {
      disposeBatch(batch);
    }
  }
  const result: Record<string, number> = {};
  metrics.forEach((m, k) => (result[m.key] = samples ? sums[k] / samples : NaN));
  return { loss: batches ? lossSum / batches : NaN, metrics: result };
}

/** Sample `i` of every batched output tensor (batch size 1); the loss is left out. */
function sliceOutput(out: ForwardOutput, i: number): ForwardOutput {
  const sample: Record<string, tf.Tensor> = {};
  for (const [key, t] of Object.entries(out) as Array<[string, tf.Tensor | undefined]>) {
    if (key === 'loss' || !t) continue;
    sample[key] = tf.slice(t, [i, ...new Array<number>(t.rank - 1).fill(0)], [1, ...t.shape.slice(1)]);
  }
  return sample as ForwardOutput;
}

/** Sample `i`'s truth events: its instances, else its foreground as one event (none when empty). */
function truthEvents(batch: Batch, i: number): Masks {
  const inst = batch.instances?.[i];
  if (inst) return isMasks(inst) ? inst : tensorMasks(inst.masks);
  const [, height, width] = batch.masks.shape;
  const fg = tf.tidy(() => batch.masks.slice([i, 0, 0, 0], [1, height, width, 1]).dataSync());
  const data = Uint8Array.from(fg, (v) => (v >= 0.5 ? 1 : 0));
  const any = data.some((v) => v === 1);
  return { data: any ? data : new Uint8Array(0), count: any ? 1 : 0, height, width };
}

function iterate(source: BatchSource, epoch: number, rng: Rng): AsyncIterable<Batch> | Iterable<Batch> {
  return typeof source === 'function' ? source({ epoch, rng }) : source;
}

function disposeBatch(batch: Batch): void {
  if (batch.dispose) {
    batch.dispose();
    return;
  }
  batch.images.dispose();
  batch.masks.dispose();
  for (const inst of batch.instances ?? []) {
    if (!isMasks(inst)) {
      inst.masks.dispose();
      inst.boxes?.dispose();
    }
  }
}

function isMasks(x: InstanceTensors | Masks): x is Masks {
  return (x as Masks).data instanceof Uint8Array;
}

function tensorMasks(t: tf.Tensor3D): Masks {
  const [count, height, width] = t.shape;
  return { data: Uint8Array.from(t.dataSync(), (v) => (v >= 0.5 ? 1 : 0)), count, height, width };
}

/**
 * What the model sees: the images and the targets its contract names that the batch has; tensor
 * instances (from the loader) become plain (N,H,W) uint8 Masks. A target the batch lacks is left
 * out (the model decides whether it can do without, e.g. a set loss taking the foreground as one event).
 */
function toForwardInput(batch: Batch, targets: readonly TargetKind[]): ForwardInput {
  const input: ForwardInput = { images: batch.images };
  if (targets.includes('foreground')) input.masks = batch.masks;
  if (batch.instances && targets.includes('instances')) input.instances = batch.instances.map((inst) => (isMasks(inst) ? inst : tensorMasks(inst.masks)));
  if (batch.instances && targets.includes('boxes')) {
    const boxes = batch.instances.map((inst) => (isMasks(inst) ? undefined : inst.boxes));
    if (boxes.every((b) => b !== undefined)) input.boxes = boxes as tf.Tensor2D[];
  }
  // A model that asks for instances trains on the foreground (one event) when the batch has none.
  if (!input.instances && !input.masks) input.masks = batch.masks;
  return input;
}

function checkResumable(model: Model, ckpt: LoadedCheckpoint): void {
  const file = path.join(ckpt.dir, 'checkpoint.json');
  if (ckpt.meta.model.name !== model.name) {
    throw new TrainingError(`checkpoint is of model '${ckpt.meta.model.name}', not '${model.name}'`, file);
  }
  if (JSON.stringify(ckpt.meta.model.config) !== JSON.stringify(model.config)) {
    throw new TrainingError(
      `checkpoint model config ${JSON.stringify(ckpt.meta.model.config)} differs from ${JSON.stringify(model.config)}; ` +
        'build the model from the checkpoint config to resume',
      file,
    );
  }
}
