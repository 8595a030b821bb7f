import type * as tf from '@tensorflow/tfjs';
import type { Label, Masks } from './types';

/** One sample's instances as tensors at batch size: one channel per copy-move event. */
export interface InstanceTensors {
  /** [N,H,W] float32 0/1. */
  masks: tf.Tensor3D;
  /** [N,4] float32 [x1,y1,x2,y2] in pixels, x2/y2 exclusive. */
  boxes?: tf.Tensor2D;
}

/**
 * One training/validation batch, NHWC float32: what the loader (data/loader.ts) yields and the
 * trainer consumes. Whoever consumes a batch disposes its tensors: `dispose()` when present, else
 * images, masks and instances one by one.
 */
export interface Batch {
  /** [B,H,W,C] float32, normalized by the pipeline; C = 3 + evidence planes (0/1). */
  images: tf.Tensor4D;
  /** [B,H,W,1] float32 0/1: the forged foreground = union of the sample's instance masks. */
  masks: tf.Tensor4D;
  /** Per-sample instances, as tensors (the loader) or plain Masks; the trainer hands models Masks. */
  instances?: Array<InstanceTensors | Masks>;
  /** Sample ids, for logging. */
  ids?: string[];
  labels?: Label[];
  /** Sample positions in the loader's sample list. */
  indices?: number[];
  dispose?(): void;
}
