import * as path from 'path';
import { Worker } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import { startTsWorker } from '../util/ts-worker';
import { TrainingError } from '../errors';
import type { Masks } from '../data/types';
import type { ForwardInput, Model } from '../models/types';
import type { ReplicaInit, ShardMessage, ShardResult } from './replica-worker';

/**
 * Data-parallel gradients over worker threads. tfjs-wasm's XNNPACK threads speed up convolutions and matrix
 * products only; the rest of a training step (elementwise ops, the JavaScript around every kernel) stays on one
 * core. Replicas parallelise the whole step: the batch is split into shards, this thread computes the first
 * shard's gradients while each worker (its own single-threaded wasm backend, its own copy of the registry model,
 * the current weights sent every step) computes another's, and the gradients are summed weighted by shard size.
 * For a loss that is a mean over samples this is exactly the full batch's gradient; for a loss averaged over
 * something else (matched instances of a set loss) it is the mean of the shards' losses, a close stand-in.
 */
export interface ShardGradients {
  /** Shard-size-weighted mean of the shards' losses. */
  loss: number;
  /** Weighted sum of the shards' gradients, by weight name; the caller disposes. */
  grads: Map<string, tf.Tensor>;
}

/** Shard sizes: as equal as possible, the first shard (this thread's) the largest. */
export function shardSizes(batch: number, replicas: number): number[] {
  const n = Math.min(batch, replicas);
  return Array.from({ length: n }, (_, k) => Math.floor(batch / n) + (k < batch % n ? 1 : 0));
}

interface Pending {
  resolve(r: ShardResult): void;
  reject(e: Error): void;
}

export class GradientReplicas {
  readonly replicas: number;
  private readonly workers: Worker[];
  private readonly pending: Array<Pending | null>;
  private closed = false;
  /** Each worker replica's live tensor count after its last step (a leak check for tests). */
  readonly replicaTensors: number[] = [];

  private constructor(workers: Worker[]) {
    this.workers = workers;
    this.replicas = workers.length + 1;
    this.pending = workers.map(() => null);
    workers.forEach((w, k) => {
      w.on('message', (m: ShardResult | { ready: true }) => {
        const p = this.pending[k];
        this.pending[k] = null;
        if (!p || 'ready' in m) return;
        if (m.error) p.reject(new TrainingError(`data-parallel replica ${k + 1}: ${m.error}`));
        else p.resolve(m);
      });
      w.on('error', (err) => {
        const p = this.pending[k];
        this.pending[k] = null;
        p?.reject(new TrainingError(`data-parallel replica ${k + 1} crashed: ${err.message}`));
      });
    });
  }

  /**
   * Starts `replicas - 1` worker replicas of `model` (rebuilt from the registry by its name and config) on
   * `backend`. Resolves once every replica has its backend and model.
   */
  static async start(model: Model, replicas: number, backend: string): Promise<GradientReplicas> {
    if (!Number.isInteger(replicas) || replicas < 1) throw new TrainingError(`dataParallel must be an integer >= 1, got ${replicas}`);
    const entry = path.join(__dirname, 'replica-worker.ts');
    const workers: Worker[] = [];
    try {
      for (let k = 1; k < replicas; k++) {
        const init: ReplicaInit = { role: 'sifd-replica', backend, model: model.name, config: model.config };
        // One core each: XNNPACK threads inside a replica would only compete with the other replicas.
        workers.push(startTsWorker(entry, { workerData: init, env: { ...process.env, SIFD_WASM_THREADS: '1' } }));
      }
      await Promise.all(
        workers.map(
          (w, k) =>
            new Promise<void>((resolve, reject) => {
              const onMessage = (m: ShardResult | { ready: true }) => {
                w.off('error', onError);
                if ('ready' in m) resolve();
                else reject(new TrainingError(`data-parallel replica ${k + 1}: ${m.error ?? 'did not start'}`));
              };
              const onError = (err: Error) => {
                w.off('message', onMessage);
                reject(new TrainingError(`data-parallel replica ${k + 1} failed to start: ${err.message}`));
              };
              w.once('message', onMessage);
              w.once('error', onError);
            }),
        ),
      );
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
    return new GradientReplicas(workers);
  }

  /**
   * Loss and gradients of `input` for the weights `names`/`variables` of `model` (this thread's copy), the
   * batch split over the replicas. Shards smaller than the replica count leave replicas idle.
   */
  async gradients(model: Model, names: string[], variables: tf.Variable[], input: ForwardInput): Promise<ShardGradients> {
    if (this.closed) throw new TrainingError('data-parallel replicas used after close()');
    const [b, h, w, c] = input.images.shape;
    const sizes = shardSizes(b, this.replicas);
    const starts = sizes.map((_, k) => sizes.slice(0, k).reduce((x, y) => x + y, 0));
    const masks = input.masks ?? tf.zeros([b, h, w, 1]);
    const remote: Array<Promise<ShardResult>> = [];
    if (sizes.length > 1) {
      const weights = variables.map((v) => v.dataSync() as Float32Array);
      // Frozen weights are not differentiated, but the replicas must compute with their values too.
      const trained = new Set(names);
      const frozenNames = [...model.params.keys()].filter((n) => !trained.has(n));
      const frozen = frozenNames.length ? { names: frozenNames, weights: frozenNames.map((n) => model.params.get(n)!.dataSync() as Float32Array) } : undefined;
      const images = input.images.dataSync() as Float32Array;
      const maskData = masks.dataSync() as Float32Array;
      const mc = masks.shape[3];
      for (let k = 1; k < sizes.length; k++) {
        const [s, n] = [starts[k], sizes[k]];
        const msg: ShardMessage = {
          cmd: 'grads',
          names,
          weights,
          ...(frozen ? { frozen } : {}),
          images: { data: images.slice(s * h * w * c, (s + n) * h * w * c), shape: [n, h, w, c] },
          masks: { data: maskData.slice(s * h * w * mc, (s + n) * h * w * mc), shape: [n, h, w, mc] },
          ...(input.instances ? { instances: input.instances.slice(s, s + n) as Masks[] } : {}),
        };
        remote.push(
          new Promise<ShardResult>((resolve, reject) => {
            this.pending[k - 1] = { resolve, reject };
            this.workers[k - 1].postMessage(msg);
          }),
        );
      }
    }
    // A failing shard must not surface as an unhandled rejection while this thread is still busy.
    for (const r of remote) r.catch(() => undefined);
    // This thread's shard, while the workers compute theirs.
    const own = sizes[0];
    const local = tf.tidy(() => ({
      images: input.images.slice([0, 0, 0, 0], [own, h, w, c]),
      masks: masks.slice([0, 0, 0, 0], [own, h, w, masks.shape[3]]),
    }));
    if (!input.masks) masks.dispose();
    let loss: number;
    const grads = new Map<string, tf.Tensor>();
    try {
      const { value, grads: g } = tf.variableGrads(() => {
        const out = model.forward({ ...local, ...(input.instances ? { instances: input.instances.slice(0, own) } : {}) } as ForwardInput, { training: true });
        if (!out.loss) throw new TrainingError(`model '${model.name}' returned no loss for a batch with targets`);
        return out.loss;
      }, variables);
      loss = (own / b) * value.dataSync()[0];
      value.dispose();
      names.forEach((n, i) => {
        const t = g[variables[i].name];
        if (t) grads.set(n, own === b ? t : tf.tidy(() => t.mul(own / b)));
        if (t && own !== b) t.dispose();
      });
    } finally {
      tf.dispose([local.images, local.masks]);
    }
    let results: ShardResult[];
    try {
      results = await Promise.all(remote);
    } catch (err) {
      for (const g of grads.values()) g.dispose();
      throw err;
    }
    results.forEach((r, j) => {
      if (r.tensors !== undefined) this.replicaTensors[j] = r.tensors;
      const share = sizes[j + 1] / b;
      loss += share * r.loss;
      names.forEach((n, i) => {
        const g = r.grads[i];
        if (!g) return;
        const prev = grads.get(n);
        const next = tf.tidy(() => {
          const t = tf.tensor(g, variables[i].shape).mul(share);
          return prev ? prev.add(t) : t;
        });
        prev?.dispose();
        grads.set(n, next);
      });
    });
    return { loss, grads };
  }

  /** Stops the worker replicas. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.workers) w.postMessage({ cmd: 'close' });
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
