import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { TrainingError } from '../errors';
import type { Model, ModelConfig } from '../models/types';
import { writeDirAtomic } from '../util/atomic';
import type { TrainConfig } from './config';
import type { EpochRecord } from './history';
import type { OptimizerState, OptimizerSpec } from './optimizers';

/**
 * A checkpoint is a folder `runs/<name>/epoch_<k>/` (k = epochs finished, 1-based) holding
 *   weights.bin     float32 LE, every parameter back to back
 *   optimizer.bin   float32 LE, every optimizer slot back to back
 *   checkpoint.json model name + config, train config, epoch, step, RNG state, history, the
 *                   layout of both .bin files and their byte counts + FNV-1a hashes.
 * It is built in a temp folder and renamed into place, so a folder named epoch_<k> is complete
 * unless something corrupted it later; loading verifies sizes and hashes anyway.
 */
export const CHECKPOINT_FORMAT = 1;
const META = 'checkpoint.json';
const WEIGHTS = 'weights.bin';
const OPTIMIZER = 'optimizer.bin';
const EPOCH_DIR = /^epoch_(\d+)$/;

interface TensorEntry {
  name: string;
  shape: number[];
  /** Offset in float32 elements. */
  offset: number;
}

interface SlotEntry extends TensorEntry {
  slot: string;
}

export interface CheckpointMeta {
  format: number;
  model: { name: string; config: ModelConfig };
  train: TrainConfig;
  /** Epochs finished. */
  epoch: number;
  /** Optimizer steps done. */
  step: number;
  rng: number[];
  history: EpochRecord[];
  weights: TensorEntry[];
  optimizer: { spec: OptimizerSpec; t: number; slots: SlotEntry[] };
  files: Record<string, { bytes: number; fnv1a: number }>;
}

export interface TrainingSnapshot {
  model: Model;
  optimizer: OptimizerState;
  train: TrainConfig;
  epoch: number;
  step: number;
  rng: number[];
  history: EpochRecord[];
}

export interface LoadedCheckpoint {
  dir: string;
  meta: CheckpointMeta;
  /** name -> values, in checkpoint.json order. */
  weights: Map<string, { shape: number[]; values: Float32Array }>;
  optimizer: OptimizerState;
}

export function checkpointDir(runDir: string, epoch: number): string {
  return path.join(runDir, `epoch_${epoch}`);
}

/**
 * Write epoch_<snapshot.epoch> atomically. `beforeRename` runs after every file is written and
 * before the rename (tests use it to kill the process mid-save).
 */
export async function saveCheckpoint(
  runDir: string,
  snap: TrainingSnapshot,
  opts: { beforeRename?: (tmpDir: string) => void | Promise<void> } = {},
): Promise<string> {
  const weights = packWeights(modelState(snap.model));
  const optim = packOptimizer(snap.optimizer);
  const dir = checkpointDir(runDir, snap.epoch);
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    model: { name: snap.model.name, config: snap.model.config },
    train: snap.train,
    epoch: snap.epoch,
    step: snap.step,
    rng: snap.rng.slice(),
    history: snap.history,
    weights: weights.entries,
    optimizer: { spec: snap.optimizer.spec, t: snap.optimizer.t, slots: optim.entries },
    files: {
      [WEIGHTS]: { bytes: weights.bytes.length, fnv1a: fnv1a(weights.bytes) },
      [OPTIMIZER]: { bytes: optim.bytes.length, fnv1a: fnv1a(optim.bytes) },
    },
  };
  // A checkpoint is never deleted: an epoch folder already there (from a run resumed earlier) is set aside.
  await writeDirAtomic(
    dir,
    async (tmp) => {
      fs.writeFileSync(path.join(tmp, WEIGHTS), weights.bytes);
      fs.writeFileSync(path.join(tmp, OPTIMIZER), optim.bytes);
      fs.writeFileSync(path.join(tmp, META), JSON.stringify(meta, null, 1));
      if (opts.beforeRename) await opts.beforeRename(tmp);
    },
    { existing: 'aside' },
  );
  return dir;
}

/** Read and verify one checkpoint folder; throws TrainingError naming the file and what is wrong. */
export function loadCheckpoint(dir: string): LoadedCheckpoint {
  const metaFile = path.join(dir, META);
  if (!fs.existsSync(metaFile)) throw new TrainingError(`not a checkpoint (no ${META})`, dir);
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as CheckpointMeta;
  } catch (err) {
    throw new TrainingError(`unreadable checkpoint metadata (${(err as Error).message})`, metaFile);
  }
  if (meta.format !== CHECKPOINT_FORMAT) throw new TrainingError(`checkpoint format ${meta.format}, expected ${CHECKPOINT_FORMAT}`, metaFile);
  const w = readVerified(dir, WEIGHTS, meta);
  const o = readVerified(dir, OPTIMIZER, meta);
  const weights = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const e of meta.weights) weights.set(e.name, { shape: e.shape, values: slice(w, e, path.join(dir, WEIGHTS)) });
  const slots: OptimizerState['slots'] = {};
  for (const e of meta.optimizer.slots) {
    slots[e.name] ??= {};
    slots[e.name][e.slot] = { shape: e.shape, values: slice(o, e, path.join(dir, OPTIMIZER)) };
  }
  return { dir, meta, weights, optimizer: { spec: meta.optimizer.spec, t: meta.optimizer.t, slots } };
}

export interface FindCheckpointOptions {
  /**
   * Resuming: rename every unloadable checkpoint newer than the one returned to
   * `epoch_<k>.corrupt-<time>` (kept, never deleted), so the epoch can be written again.
   */
  setAsideCorrupt?: boolean;
}

/**
 * The newest loadable checkpoint of a run, or undefined when there is none. Incomplete or corrupt
 * folders are skipped with a warning (through `warn`), never deleted: the user may want them.
 */
export function findLatestCheckpoint(
  runDir: string,
  warn: (msg: string) => void = (m) => console.warn(m),
  opts: FindCheckpointOptions = {},
): LoadedCheckpoint | undefined {
  if (!fs.existsSync(runDir)) return undefined;
  const epochs = fs
    .readdirSync(runDir)
    .map((n) => EPOCH_DIR.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  for (const e of epochs) {
    const dir = checkpointDir(runDir, e);
    try {
      return loadCheckpoint(dir);
    } catch (err) {
      if (opts.setAsideCorrupt) {
        const aside = `${dir}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        fs.renameSync(dir, aside);
        warn(`warning: checkpoint ${dir} is unusable (${(err as Error).message}); kept as ${aside}, resuming from an earlier one`);
      } else {
        warn(`warning: skipping checkpoint ${dir}: ${(err as Error).message}`);
      }
    }
  }
  return undefined;
}

/**
 * Everything a checkpoint holds of a model: its trainable parameters and its non-trainable buffers
 * (BatchNorm running statistics), which eval-mode forward passes read, so a reloaded model predicts
 * what the trained one did. The two share one namespace (ParamStore).
 */
export function modelState(model: Model): Map<string, tf.Variable> {
  return model.buffers?.size ? new Map([...model.params, ...model.buffers]) : model.params;
}

/** Copy checkpoint weights (and buffers) into a model; names and shapes must match exactly. */
export function assignWeights(model: Model, weights: LoadedCheckpoint['weights'], source: string): void {
  const state = modelState(model);
  for (const name of state.keys()) {
    if (!weights.has(name)) throw new TrainingError(`checkpoint has no weight '${name}' that model '${model.name}' needs`, source);
  }
  for (const [name, w] of weights) {
    const v = state.get(name);
    if (!v) throw new TrainingError(`checkpoint weight '${name}' is not a parameter of model '${model.name}'`, source);
    if (v.shape.join(',') !== w.shape.join(',')) {
      throw new TrainingError(`weight '${name}' has shape [${w.shape}] in the checkpoint, [${v.shape}] in the model`, source);
    }
  }
  for (const [name, w] of weights) {
    const t = tf.tensor(w.values, w.shape, 'float32');
    state.get(name)!.assign(t);
    t.dispose();
  }
}

function packWeights(params: Map<string, tf.Variable>): { entries: TensorEntry[]; bytes: Uint8Array } {
  const entries: TensorEntry[] = [];
  const arrays: Float32Array[] = [];
  let offset = 0;
  for (const [name, v] of params) {
    entries.push({ name, shape: v.shape.slice(), offset });
    arrays.push(v.dataSync() as Float32Array);
    offset += v.size;
  }
  return { entries, bytes: concat(arrays, offset) };
}

function packOptimizer(state: OptimizerState): { entries: SlotEntry[]; bytes: Uint8Array } {
  const entries: SlotEntry[] = [];
  const arrays: Float32Array[] = [];
  let offset = 0;
  for (const [name, slots] of Object.entries(state.slots)) {
    for (const [slot, d] of Object.entries(slots)) {
      entries.push({ name, slot, shape: d.shape, offset });
      arrays.push(d.values);
      offset += d.values.length;
    }
  }
  return { entries, bytes: concat(arrays, offset) };
}

function concat(arrays: Float32Array[], total: number): Uint8Array {
  const out = new Float32Array(total);
  let o = 0;
  for (const a of arrays) {
    out.set(a, o);
    o += a.length;
  }
  return new Uint8Array(out.buffer);
}

function readVerified(dir: string, name: string, meta: CheckpointMeta): Float32Array {
  const file = path.join(dir, name);
  const expect = meta.files?.[name];
  if (!expect) throw new TrainingError(`${META} does not describe ${name}`, dir);
  if (!fs.existsSync(file)) throw new TrainingError('missing file', file);
  const buf = fs.readFileSync(file);
  if (buf.length !== expect.bytes) throw new TrainingError(`has ${buf.length} bytes, expected ${expect.bytes} (truncated or corrupt)`, file);
  if (fnv1a(buf) !== expect.fnv1a) throw new TrainingError('content hash does not match checkpoint.json (corrupt)', file);
  // Copy into an aligned buffer: a Buffer's byteOffset need not be a multiple of 4.
  const aligned = new Uint8Array(buf.length);
  aligned.set(buf);
  return new Float32Array(aligned.buffer);
}

function slice(all: Float32Array, e: TensorEntry, file: string): Float32Array {
  const size = e.shape.reduce((a, b) => a * b, 1);
  if (e.offset < 0 || e.offset + size > all.length) throw new TrainingError(`tensor '${e.name}' lies outside the file`, file);
  return all.slice(e.offset, e.offset + size);
}

/** FNV-1a 32-bit over bytes (fast enough for tens of MB; detects truncation and bit flips). */
export function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
