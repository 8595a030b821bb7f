import type { Image, Masks } from '../data/types';

/**
 * What every predictor returns for one image, at the image's ORIGINAL height x width.
 * `instances` is (N,H,W) 0/1, one channel per detected copy-move event (a source and its copies);
 * N = 0 means authentic.
 */
export interface InstancePrediction {
  instances: Masks;
  /** One confidence in [0, 1] per instance, same order as `instances`. */
  scores: number[];
  /** Optional per-pixel forgery probability (H*W, row-major) at the original size. */
  probability?: Float32Array;
  /** Optional human-readable reasons behind the prediction (e.g. why an image came out authentic). */
  notes?: string[];
}

/** One interface for every model family and the classical detector, so one CLI predicts with all. */
export interface Predictor {
  name: string;
  predict(image: Image): Promise<InstancePrediction>;
  /** Frees weights/tensors; the predictor is unusable afterwards. */
  dispose(): void;
}
