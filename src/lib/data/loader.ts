import * as path from 'path';
import { Worker } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import { startTsWorker } from '../util/ts-worker';
import { buildPipeline, type Pipeline } from '../augment/pipeline';
import type { PipelineSpec } from '../augment/presets';
import { toSize } from '../augment/transform';
import { BackendError, ConfigError } from '../errors';
import { Rng } from '../util/random';
import { processBatch, type BatchConfig, type BatchJob, type BatchResult, type WorkItem } from './loader-worker';
import { checkEvidenceKind, inputChannels, type EvidenceKind } from '../evidence/index';
import type { Batch, InstanceTensors } from './batch';
import type { Label, Problem, Sample } from './types';

export interface LoaderOptions {
  samples: readonly Sample[];
  batchSize: number;
  /** Fixed output size (one number = square). */
  size: number | readonly [number, number];
  /** Preset name ('seed-a', 'seed-b', 'none') or a pipeline spec; default 'none'. */
  augment?: string | PipelineSpec;
  seed?: number;
  /** Decoding threads; 0 decodes in the caller's thread, one batch at a time. Default 0. */
  workers?: number;
  /** Shuffle the order each epoch (seeded); default true. */
  shuffle?: boolean;
  /** Drop a last batch smaller than batchSize; default false. */
  dropLast?: boolean;
  /** Batches decoded ahead of the consumer (the bounded queue); default 2 per worker. */
  prefetch?: number;
  /** Also yield per-sample instance masks and boxes. */
  instances?: boolean;
  /** Append copy-move evidence computed at native resolution as extra channels (evidence/index.ts); default 'none'. */
  evidence?: EvidenceKind;
  /** Called once per sample that fails to load or augment (it is skipped). */
  onProblem?: (p: Problem) => void;
}

/**
 * One batch of the loader: the shared Batch (data/batch.ts) with every field filled. The consumer
 * owns its tensors: call `dispose()` when done. B is batchSize except for the last batch of an
 * epoch and for a batch that lost samples which failed to load.
 */
export interface LoadedBatch extends Batch {
  ids: string[];
  labels: Label[];
  indices: number[];
  /** Per-sample instance masks [N,H,W] and boxes [N,4] (loader option `instances`). */
  instances?: Array<Required<InstanceTensors>>;
  dispose(): void;
}

export type { Batch, InstanceTensors };

interface Pending {
  resolve(r: BatchResult): void;
  reject(e: Error): void;
}

interface WorkerSlot {
  worker: Worker;
  jobs: Map<number, Pending>;
}

function startWorker(config: BatchConfig): Worker {
  return startTsWorker(path.join(__dirname, 'loader-worker.ts'), { workerData: { role: 'sifd-loader', config } });
}

/**
 * Dataset -> shuffled, seeded batches of NHWC float32 tensors at a fixed size. Decoding and
 * augmentation run in worker threads ahead of the consumer (at most `prefetch` batches ahead);
 * the main thread only wraps the transferred buffers in tensors. Batch b of epoch e always holds
 * the same samples with the same augmentation (each sample's Rng comes from seed, epoch and its
 * index), so the number of workers changes speed, never content.
 */
export class Loader {
  readonly batchSize: number;
  readonly size: [number, number];
  readonly seed: number;
  readonly workers: number;
  readonly pipeline: Pipeline;
  /** Every sample skipped so far (file, reason), once each. */
  readonly problems: Problem[] = [];
  private readonly samples: readonly Sample[];
  private readonly opts: LoaderOptions;
  private readonly config: BatchConfig;
  private slots: WorkerSlot[] = [];
  private nextJob = 0;
  private closed = false;
  private active = 0;

  constructor(opts: LoaderOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new ConfigError(`batchSize must be a positive integer, got ${opts.batchSize}`);
    const workers = opts.workers ?? 0;
    if (!Number.isInteger(workers) || workers < 0) throw new ConfigError(`workers must be a non-negative integer, got ${workers}`);
    if (opts.samples.length === 0) throw new ConfigError('the loader needs at least one sample');
    this.opts = opts;
    this.samples = opts.samples;
    this.batchSize = opts.batchSize;
    this.size = toSize(opts.size, 'loader');
    this.seed = opts.seed ?? 0;
    this.workers = workers;
    // built here too so that a bad spec fails now, in the caller's thread, with a clear message
    this.pipeline = buildPipeline(opts.augment ?? 'none', this.size);
    const evidence = checkEvidenceKind(opts.evidence, 'loader');
    this.config = { spec: this.pipeline.spec, size: this.size, seed: this.seed, instances: opts.instances ?? false, evidence };
  }

  /** Batches an epoch yields when every sample loads (a batch whose samples all fail is skipped). */
  get batchesPerEpoch(): number {
    const n = this.samples.length / this.batchSize;
    return this.opts.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** The sample indices of an epoch, in the order they are batched. */
  order(epoch: number): number[] {
    const idx = this.samples.map((_, i) => i);
    return this.opts.shuffle === false ? idx : new Rng(`sifd-loader-order:${this.seed}:${epoch}`).shuffle(idx);
  }

  /** Batches of one epoch, in order. Stop early with `break`; the work in flight is dropped. */
  async *epoch(epoch = 0): AsyncGenerator<LoadedBatch> {
    if (this.closed) throw new ConfigError('loader is closed');
    if (this.active > 0) throw new ConfigError('an epoch is already being iterated; finish or break it first');
    this.active++;
    const jobs = this.jobsFor(epoch);
    const ahead = Math.max(1, this.opts.prefetch ?? 2 * Math.max(1, this.workers));
    const inFlight = new Map<number, Promise<BatchResult>>();
    let next = 0;
    const fill = () => {
      while (this.workers > 0 && next < jobs.length && inFlight.size < ahead) {
        const p = this.dispatch(jobs[next]);
        p.catch(() => undefined); // awaited below; this only silences early rejections
        inFlight.set(next++, p);
      }
    };
    try {
      for (let b = 0; b < jobs.length; b++) {
        let result: BatchResult;
        if (this.workers === 0) {
          result = await processBatch(this.config, this.pipeline, jobs[b]);
        } else {
          fill();
          result = await inFlight.get(b)!;
          inFlight.delete(b);
          fill();
        }
        this.report(result.problems);
        if (result.ids.length > 0) yield this.toBatch(result);
      }
    } finally {
      this.active--;
    }
  }

  /** Stops the workers. No tensor is held by the loader, so none is left behind. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots;
    this.slots = [];
    for (const s of slots) for (const p of s.jobs.values()) p.reject(new BackendError('loader closed'));
    // An idle worker is unref'd; ref it again so the process waits for terminate() to settle
    // (otherwise the event loop can end with close() still pending).
    await Promise.all(
      slots.map((s) => {
        s.worker.ref();
        return s.worker.terminate();
      }),
    );
  }

  private jobsFor(epoch: number): BatchJob[] {
    const order = this.order(epoch);
    const jobs: BatchJob[] = [];
    for (let i = 0; i < order.length; i += this.batchSize) {
      const chunk = order.slice(i, i + this.batchSize);
      if (chunk.length < this.batchSize && this.opts.dropLast) break;
      const items: WorkItem[] = chunk.map((index) => {
        const s = this.samples[index];
        return { index, id: s.id, label: s.label, imagePath: s.imagePath, maskPath: s.maskPath };
      });
      jobs.push({ jobId: this.nextJob++, epoch, items });
    }
    return jobs;
  }

  private ensureWorkers(): void {
    while (this.slots.length < this.workers) {
      const slot: WorkerSlot = { worker: startWorker(this.config), jobs: new Map() };
      slot.worker.on('message', (msg: { ok: boolean; result?: BatchResult; jobId?: number; message?: string }) => {
        const id = msg.ok ? msg.result!.jobId : msg.jobId!;
        const pending = slot.jobs.get(id);
        slot.jobs.delete(id);
        // an idle worker must not keep the process alive; a busy one must
        if (slot.jobs.size === 0) slot.worker.unref();
        if (!pending) return;
        if (msg.ok) pending.resolve(msg.result!);
        else pending.reject(new BackendError(`loader worker failed: ${msg.message}`));
      });
      const fail = (err: Error) => {
        for (const p of slot.jobs.values()) p.reject(new BackendError(`loader worker died: ${err.message}`));
        slot.jobs.clear();
        this.slots = this.slots.filter((s) => s !== slot);
      };
      slot.worker.on('error', fail);
      slot.worker.on('exit', (code) => {
        if (slot.jobs.size > 0) fail(new Error(`exit code ${code}`));
      });
      this.slots.push(slot);
    }
  }

  private dispatch(job: BatchJob): Promise<BatchResult> {
    this.ensureWorkers();
    const slot = this.slots.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
    return new Promise<BatchResult>((resolve, reject) => {
      slot.jobs.set(job.jobId, { resolve, reject });
      slot.worker.ref();
      slot.worker.postMessage(job);
    });
  }

  private report(problems: Problem[]): void {
    for (const p of problems) {
      if (this.problems.some((q) => q.file === p.file && q.reason === p.reason)) continue;
      this.problems.push(p);
      this.opts.onProblem?.(p);
    }
  }

  /** Wraps transferred buffers in tensors: the only per-batch work left to the main thread. */
  private toBatch(r: BatchResult): LoadedBatch {
    const [H, W] = this.size;
    const B = r.ids.length;
    const images = tf.tensor4d(r.images, [B, H, W, inputChannels(this.config.evidence)], 'float32');
    const masks = tf.tensor4d(r.foreground, [B, H, W, 1], 'float32');
    const instances = r.instances?.map((inst) => ({
      masks: tf.tensor3d(inst.masks, [inst.count, H, W], 'float32'),
      boxes: tf.tensor2d(inst.boxes, [inst.count, 4], 'float32'),
    }));
    return {
      images,
      masks,
      ids: r.ids,
      labels: r.labels,
      indices: r.indices,
      instances,
      dispose() {
        images.dispose();
        masks.dispose();
        for (const i of instances ?? []) {
          i.masks.dispose();
          i.boxes.dispose();
        }
      },
    };
  }
}

export function createLoader(opts: LoaderOptions): Loader {
  return new Loader(opts);
}
