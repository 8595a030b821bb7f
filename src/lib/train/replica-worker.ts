/**
 * One data-parallel gradient replica (src/lib/train/data-parallel.ts): a worker thread with its own tfjs backend
 * (single-threaded wasm) and its own copy of a registry model. Per step it receives the current weights and a shard
 * of the batch, and answers the loss and the gradients of that shard's loss. It holds no optimizer: the main thread
 * combines the gradients and updates the one true copy of the weights.
 */
import { parentPort, workerData } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index';
import { buildModel } from '../models/index';
import type { ForwardInput, ModelConfig } from '../models/types';
import type { Masks } from '../data/types';
import { Rng } from '../util/random';

export interface ReplicaInit {
  role: 'sifd-replica';
  backend: string;
  model: string;
  config: ModelConfig;
}

export interface ShardMessage {
  cmd: 'grads';
  /** Current weights, in the order of `names`. */
  weights: Float32Array[];
  names: string[];
  /** Weights the trainer keeps fixed (TrainConfig.freeze): copied in, never differentiated. */
  frozen?: { names: string[]; weights: Float32Array[] };
  images: { data: Float32Array; shape: [number, number, number, number] };
  masks: { data: Float32Array; shape: [number, number, number, number] };
  instances?: Masks[];
}

export interface ShardResult {
  loss: number;
  /** Gradients in the order of `names`; null where the loss does not depend on the weight. */
  grads: Array<Float32Array | null>;
  /** The replica's live tensors after the step (model weights only, when nothing leaks). */
  tensors?: number;
  error?: string;
}

/** Copy the main thread's values into the replica's weights `names`; returns those variables. */
function assignAll(model: ReturnType<typeof buildModel>, names: string[], weights: Float32Array[]): tf.Variable[] {
  return names.map((n, i) => {
    const v = model.params.get(n);
    if (!v) throw new Error(`replica model has no weight '${n}'`);
    const t = tf.tensor(weights[i], v.shape);
    v.assign(t);
    t.dispose();
    return v;
  });
}

async function main(): Promise<void> {
  const port = parentPort!;
  const init = workerData as ReplicaInit;
  await initBackend({ prefer: init.backend });
  // The initial weights do not matter: every step brings the main thread's weights.
  const model = buildModel(init.model, init.config, new Rng(0));
  port.on('message', (m: ShardMessage | { cmd: 'close' }) => {
    if (m.cmd === 'close') {
      model.dispose();
      port.close();
      return;
    }
    try {
      const variables = assignAll(model, m.names, m.weights);
      if (m.frozen) assignAll(model, m.frozen.names, m.frozen.weights);
      const input: ForwardInput = {
        images: tf.tensor4d(m.images.data, m.images.shape),
        masks: tf.tensor4d(m.masks.data, m.masks.shape),
        ...(m.instances ? { instances: m.instances } : {}),
      };
      let result: ShardResult;
      try {
        const { value, grads } = tf.variableGrads(() => {
          const out = model.forward(input, { training: true });
          if (!out.loss) throw new Error(`model '${model.name}' returned no loss`);
          return out.loss;
        }, variables);
        result = { loss: value.dataSync()[0], grads: variables.map((v) => (grads[v.name] ? (grads[v.name].dataSync() as Float32Array) : null)) };
        tf.dispose([value, ...Object.values(grads)]);
      } finally {
        tf.dispose([input.images, input.masks!]);
      }
      result.tensors = tf.memory().numTensors;
      const buffers = result.grads.filter((g): g is Float32Array => g !== null).map((g) => g.buffer as ArrayBuffer);
      port.postMessage(result satisfies ShardResult, buffers);
    } catch (err) {
      port.postMessage({ loss: NaN, grads: [], error: err instanceof Error ? err.message : String(err) } satisfies ShardResult);
    }
  });
  port.postMessage({ ready: true });
}

main().catch((err) => {
  parentPort?.postMessage({ loss: NaN, grads: [], error: `replica failed to start: ${err instanceof Error ? err.message : String(err)}` });
});
