import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../errors';
import type { Rng } from '../util/random';

/** One parameter as listed in a model summary. */
export interface ParamInfo {
  name: string;
  shape: number[];
  size: number;
}

/**
 * The weights of one model, keyed by stable slash-separated names
 * (`encoder/stage1/block0/attn/q/w`) so checkpoints survive refactors of the code that builds them.
 * tfjs names the underlying Variables itself (names must be unique per process, and two models
 * may live side by side); the stable name is the key of `variables`.
 * Initial values come from the Rng given, so the same seed gives the same weights.
 *
 * `variables` are trainable; `buffers` (BatchNorm running mean/variance) are state a checkpoint must
 * keep but no optimizer may touch: they are non-trainable tf.Variables, so tf.variableGrads and the
 * optimizers never see them, and only the layer that owns one assigns it (in its training forward).
 * One name space covers both maps. A Model exposes them as its optional `buffers` map (types.ts).
 */
export class ParamStore {
  readonly variables = new Map<string, tf.Variable>();
  readonly buffers = new Map<string, tf.Variable>();

  constructor(private readonly rng: Rng) {}

  /** Truncated normal (resampled beyond 2 std), the ViT/SegFormer init for linear layers. */
  truncNormal(name: string, shape: number[], std: number): tf.Variable {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      let v = this.rng.normal();
      while (v < -2 || v > 2) v = this.rng.normal();
      values[i] = v * std;
    }
    return this.add(name, tf.tensor(values, shape));
  }

  /** He-style normal init (std = sqrt(2 / fanOut)) used by SegFormer for convolutions. */
  convKernel(name: string, shape: [number, number, number, number], fanOut: number): tf.Variable {
    return this.truncNormal(name, shape, Math.sqrt(2 / fanOut));
  }

  zeros(name: string, shape: number[]): tf.Variable {
    return this.add(name, tf.zeros(shape));
  }

  ones(name: string, shape: number[]): tf.Variable {
    return this.add(name, tf.ones(shape));
  }

  constant(name: string, shape: number[], value: number): tf.Variable {
    return this.add(name, tf.fill(shape, value));
  }

  /** A non-trainable state tensor (e.g. BatchNorm running statistics) filled with `value`. */
  buffer(name: string, shape: number[], value: number): tf.Variable {
    return this.add(name, tf.fill(shape, value), false);
  }

  get(name: string): tf.Variable {
    const v = this.variables.get(name);
    if (!v) throw new ModelError(`no parameter named '${name}'`);
    return v;
  }

  /** Number of scalars in every parameter whose name starts with `prefix` (all when omitted). */
  count(prefix = ''): number {
    let n = 0;
    for (const [name, v] of this.variables) if (name.startsWith(prefix)) n += v.size;
    return n;
  }

  list(): ParamInfo[] {
    return [...this.variables].map(([name, v]) => ({ name, shape: v.shape.slice(), size: v.size }));
  }

  /** Trainable parameters and buffers in one map (what a weight import or a checkpoint covers). */
  all(): Map<string, tf.Variable> {
    return new Map([...this.variables, ...this.buffers]);
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    for (const v of this.buffers.values()) v.dispose();
    this.variables.clear();
    this.buffers.clear();
  }

  private add(name: string, init: tf.Tensor, trainable = true): tf.Variable {
    if (this.variables.has(name) || this.buffers.has(name)) {
      init.dispose();
      throw new ModelError(`parameter '${name}' defined twice`);
    }
    const v = tf.variable(init, trainable);
    init.dispose();
    (trainable ? this.variables : this.buffers).set(name, v);
    return v;
  }
}
