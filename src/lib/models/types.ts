import type * as tf from '@tensorflow/tfjs';
import type { Masks } from '../data/types';
import type { Rng } from '../util/random';

/**
 * One training/validation batch, NHWC float32. Whoever consumes a batch disposes its tensors
 * (the trainer does, after the step).
 */
export interface Batch {
  /** [B,H,W,3] float32 in [0,1]. */
  images: tf.Tensor4D;
  /** [B,H,W,1] float32 0/1: the forged foreground = union of the sample's instance masks. */
  masks: tf.Tensor4D;
  /** Per-sample instance masks at batch size H x W (models with set losses use them). */
  instances?: Masks[];
  /** Sample ids, for logging. */
  ids?: string[];
}

/** What `forward` sees: a batch, or images alone at inference. */
export interface ForwardInput {
  images: tf.Tensor4D;
  masks?: tf.Tensor4D;
  instances?: Masks[];
}

/**
 * The one output dict of every model, so one trainer, evaluator and predictor serve all.
 * Every tensor belongs to the caller (dispose it, or call forward inside tf.tidy).
 */
export interface ForwardOutput {
  /** Scalar total loss; present when `forward` got targets. */
  loss?: tf.Scalar;
  /** [B,H,W,1] forged-pixel probability in [0,1], at input size. */
  masks?: tf.Tensor4D;
  /** [B,Q,H,W] per-query instance probabilities in [0,1]. */
  instances?: tf.Tensor4D;
  /** [B,Q] confidence per instance query. */
  scores?: tf.Tensor2D;
  /** [B,...] feature embeddings (contrastive models). */
  embeddings?: tf.Tensor;
}

export type ModelConfig = Record<string, unknown>;

export interface Model {
  /** Registry name, e.g. 'unet-tiny'. */
  readonly name: string;
  /** The full config (defaults merged with overrides) the model was built from; saved in checkpoints. */
  readonly config: ModelConfig;
  /**
   * Trainable weights keyed by stable slash-separated names (`enc1/conv/w`), which is what
   * checkpoints store. tfjs names the Variables itself (unique per process).
   */
  readonly params: Map<string, tf.Variable>;
  forward(input: ForwardInput, opts: { training: boolean }): ForwardOutput;
  dispose(): void;
}

export interface ModelSpec {
  /** Build with `config` = defaults merged with the caller's overrides; initial weights come from `rng`. */
  build(config: ModelConfig, rng: Rng): Model;
  defaults: ModelConfig;
  description: string;
}
