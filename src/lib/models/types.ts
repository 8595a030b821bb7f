import type * as tf from '@tensorflow/tfjs';
import type { Batch, InstanceTensors } from '../data/batch';
import type { Image, Masks } from '../data/types';
import type { EventPolicy } from '../infer/postprocess';
import type { CopyLinks } from '../infer/copy-link-events';
import type { InstancePrediction } from '../infer/types';
import type { Rng } from '../util/random';
import type { StateDict } from '../weights/stateDict';

export type { Batch };
/** One sample's instances at batch size (the loader's `InstanceTensors`). */
export type BatchInstances = InstanceTensors;

/** What `forward` sees: images, plus the targets the spec asks for when training or validating. */
export interface ForwardInput {
  /** [B,H,W,C] float32 as the spec's preprocess (or the loader) made them. */
  images: tf.Tensor4D;
  /** Target 'foreground': [B,H,W,1] float32 0/1, the union of each sample's events. */
  masks?: tf.Tensor4D;
  /** Target 'instances': per-sample event masks (N,H,W) at input size; set-loss models match predictions to them. */
  instances?: Masks[];
  /** Target 'boxes': per-sample [N,4] float32 [x1,y1,x2,y2] boxes of the events, same order as `instances`. */
  boxes?: tf.Tensor2D[];
}

/**
 * The one output dict of every model, so one trainer, evaluator and predictor serve all. Every
 * tensor is batched along axis 0 and belongs to the caller (dispose it, or call forward inside
 * tf.tidy). Which fields a model fills is its own business: only its spec's `decode` reads them.
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
  /** [B,Q,4] boxes [x1,y1,x2,y2] in input pixels, one per query. */
  boxes?: tf.Tensor3D;
  /** [B,H,W,D] per-pixel embeddings (or [B,...] for other embedding models). */
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
  /**
   * Non-trainable state a checkpoint must keep besides `params` (BatchNorm running mean/variance),
   * under the same kind of stable names; optimizers never see it. Absent when a model has none.
   */
  readonly buffers?: Map<string, tf.Variable>;
  forward(input: ForwardInput, opts: { training: boolean }): ForwardOutput;
  dispose(): void;
}

/**
 * Targets a model's loss reads, which the loader then yields and the trainer hands to `forward`:
 * 'foreground' (the union mask), 'instances' (one mask per event), 'boxes' (one box per event),
 * 'pairs' (source/copy parts of each event, for contrastive losses; the loader does not make
 * them yet, so a spec asking for them fails at training time with a clear message).
 */
export type TargetKind = 'foreground' | 'instances' | 'boxes' | 'pairs';
export const TARGET_KINDS: readonly TargetKind[] = ['foreground', 'instances', 'boxes', 'pairs'];

/** How a run was trained, as far as its input goes (what a preprocess must reproduce). */
export interface InputRecipe {
  /** The training size (one number = square). */
  size: number;
  /** The augmentation preset whose normalisation the loader used. */
  augment?: string;
  /** Evidence planes appended to RGB (evidence/ registry name). */
  evidence?: string;
}

/** One image as a model input, and the way back to the image's own size. */
export interface PreparedInput {
  /** HWC float32 pixels, `channels` per pixel. */
  pixels: Float32Array;
  height: number;
  width: number;
  channels: number;
  /** Evidence planes at the image's native size (one H*W plane after another), or null. */
  evidence: Uint8Array | null;
  /** A per-pixel map at the input's height x width -> the original image's height x width. */
  restore(map: Float32Array): Float32Array;
}

/** Image -> model input by a model's own policy (square resize, aspect-preserving, tiled, ...). */
export type Preprocess = (image: Image) => Promise<PreparedInput>;
export type PreprocessFactory = (recipe: InputRecipe) => Preprocess;

/** What `decode` knows besides the model's output. */
export interface DecodeContext {
  /** The size the prediction is for (the original image at inference, the input in validation). */
  height: number;
  width: number;
  /** Input-size map -> height x width (identity in validation). */
  restore(map: Float32Array): Float32Array;
  /** Probability at or above which a pixel is forged. */
  threshold: number;
  /** Regions (instances) smaller than this many pixels are dropped. */
  minArea: number;
  /** How instances become copy-move events; undefined: the decoder's own default. */
  events?: EventPolicy;
  /**
   * Evidence to fuse at `height` x `width`: the union of the planes (a region joins when the model's
   * mean probability over it reaches `keep`) and the trusted planes (join whatever the model says).
   */
  evidence?: { union: Uint8Array; trusted: Uint8Array | null; keep: number } | null;
  /** The image's matched block pairs, computed on demand (event policy 'copy-links'). */
  links?: () => CopyLinks;
}

/**
 * Model output of ONE sample (every tensor with batch size 1) -> copy-move events with scores at
 * ctx.height x ctx.width. Masks, embeddings + clustering, boxes + masks: all end as instances.
 */
export type Decode = (output: ForwardOutput, ctx: DecodeContext) => InstancePrediction;

export interface ModelSpec {
  /** Build with `config` = defaults merged with the caller's overrides; initial weights come from `rng`. */
  build(config: ModelConfig, rng: Rng): Model;
  defaults: ModelConfig;
  description: string;
  /** The targets the loss needs (the loader yields them, the trainer passes them to forward). */
  targets: readonly TargetKind[];
  /** Image -> input; default: the square resize of the training size (infer/preprocess.ts). */
  preprocess?: PreprocessFactory;
  /** Output -> events (infer/decode.ts has the common decoders). */
  decode: Decode;
  /**
   * The decoder with parameters of its own (a run's tuned `decode.json`, infer/decode-params.ts);
   * `decodeWith({})` is `decode`. Absent: the decoder has no parameters to tune.
   */
  decodeWith?: (params: Record<string, number>) => Decode;
  /** Candidate values per decoder parameter for `sifd tune` (eval/tune.ts); goes with `decodeWith`. */
  tuning?: Record<string, readonly number[]>;
  /** Validation metrics by name (eval/metrics.ts); default ['dice', 'iou', 'of1']. */
  metrics?: readonly string[];
  /**
   * Reference (PyTorch/HF) weights -> the built model's parameters (weights/maps/). Present: the
   * config accepts `weights: FILE` and `sifd weights import` works for this model.
   */
  importWeights?(model: Model, dict: StateDict): WeightsImportReport;
  /** The config options a reference file implies (a MiT file's variant), merged under the caller's. */
  configForWeights?(dict: StateDict): ModelConfig;
  /** Parameter-name prefixes of the (pretrainable) backbone: what `--freeze backbone` freezes. */
  backbone?: readonly string[];
}

/** What an import assigned and what of the file it left out. */
export interface WeightsImportReport {
  file: string;
  /** Model parameters given a value from the file. */
  assigned: number;
  /** File tensors the model has no place for (a classifier head, say), by name. */
  ignored: string[];
  /** One line on what mapped where, for logs. */
  summary: string;
}
