import type * as tf from '@tensorflow/tfjs';
import type { Masks } from '../data/types';
import type { Rng } from '../util/random';

/** One sample's instances at batch size (the loader's `InstanceTensors`). */
export interface BatchInstances {
  /** [N,H,W] float32 0/1. */
  masks: tf.Tensor3D;
  /** [N,4] float32 [x1,y1,x2,y2] in pixels, x2/y2 exclusive. */
  boxes?: tf.Tensor2D;
}

/**
 * One training/validation batch, NHWC float32 (src/lib/data/loader.ts yields these). Whoever
 * consumes a batch disposes its tensors: the trainer calls `dispose()` when present, else
 * disposes images, masks and instances itself.
 */
export interface Batch {
  /** [B,H,W,3] float32, normalized as the loader's pipeline does. */
  images: tf.Tensor4D;
  /** [B,H,W,1] float32 0/1: the forged foreground = union of the sample's instance masks. */
  masks: tf.Tensor4D;
  /** Per-sample instance masks, as tensors (the loader) or plain Masks; the trainer hands models Masks. */
  instances?: Array<BatchInstances | Masks>;
  /** Sample ids, for logging. */
  ids?: string[];
  dispose?(): void;
}

/** What `forward` sees: a batch, or images alone at inference. */
export interface ForwardInput {
  images: tf.Tensor4D;
  masks?: tf.Tensor4D;
  /** Per-sample instance masks (N,H,W) at input size; set-loss models match predictions to them. */
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
  /** The loss needs per-sample instance masks (set losses); the training loader then yields them. */
  needsInstances?: boolean;
}
