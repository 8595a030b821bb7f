import * as tf from '@tensorflow/tfjs';
import type { Masks } from '../../data/types';

/**
 * Query outputs as every model returns them (ForwardOutput). `instances` is the joint
 * probability "pixel is forged and belongs to query q" = sigmoid(mask_q) * sigmoid(objectness_q),
 * so a query that found nothing has a dark map and any consumer thresholding the maps at 0.5
 * (the generic run predictor) drops it without knowing about objectness.
 */
export interface InstanceOutputs {
  /** [B, Q, H, W] per-query instance probabilities. */
  instances: tf.Tensor4D;
  /** [B, Q] objectness (confidence) per query. */
  scores: tf.Tensor2D;
}

/** Mask and objectness logits -> InstanceOutputs (probabilities). [B,Q,H,W], [B,Q]. */
export function instanceProbabilities(maskLogits: tf.Tensor4D, objectnessLogits: tf.Tensor2D): InstanceOutputs {
  return tf.tidy(() => {
    const [b, q] = objectnessLogits.shape;
    const scores = tf.sigmoid(objectnessLogits) as tf.Tensor2D;
    const instances = tf.sigmoid(maskLogits).mul(scores.reshape([b, q, 1, 1])) as tf.Tensor4D;
    return { instances, scores };
  });
}

/** Per-pixel forgery probability: the most confident query covering the pixel. [B,Q,H,W] -> [B,H,W]. */
export function foregroundProbability(outputs: Pick<InstanceOutputs, 'instances'>): tf.Tensor3D {
  return tf.tidy(() => outputs.instances.max(1) as tf.Tensor3D);
}

/** Merges the instances into one foreground mask: 1 where foregroundProbability > threshold. [B,H,W] float 0/1. */
export function instanceToForeground(outputs: Pick<InstanceOutputs, 'instances'>, threshold = 0.5): tf.Tensor3D {
  return tf.tidy(() => foregroundProbability(outputs).greater(threshold).toFloat() as tf.Tensor3D);
}

export interface InstanceSelection {
  /** Threshold on the query's score. */
  scoreThreshold: number;
  /** Threshold on the mask probability. */
  maskThreshold: number;
  /** Masks smaller than this many pixels are dropped. */
  minArea: number;
}

export const DEFAULT_INSTANCE_SELECTION: InstanceSelection = { scoreThreshold: 0.5, maskThreshold: 0.5, minArea: 16 };

/**
 * Instance masks of ONE image (batch index `index`): queries whose objectness passes, binarised,
 * small ones dropped, sorted by score. Returns masks (N,H,W) and their scores; N = 0 means authentic.
 */
export function selectInstances(
  outputs: InstanceOutputs,
  index: number,
  sel: InstanceSelection = DEFAULT_INSTANCE_SELECTION,
): { masks: Masks; scores: number[] } {
  const [, q, h, w] = outputs.instances.shape;
  const [scores, bits] = tf.tidy(() => {
    const s = outputs.scores.slice([index, 0], [1, q]).dataSync();
    const m = outputs.instances.slice([index, 0, 0, 0], [1, q, h, w]).greater(sel.maskThreshold).dataSync();
    return [Float32Array.from(s), Uint8Array.from(m)];
  });
  const kept: Array<{ score: number; q: number }> = [];
  for (let i = 0; i < q; i++) {
    if (scores[i] < sel.scoreThreshold) continue;
    let area = 0;
    for (let p = i * h * w; p < (i + 1) * h * w; p++) area += bits[p];
    if (area >= sel.minArea) kept.push({ score: scores[i], q: i });
  }
  kept.sort((a, b) => b.score - a.score);
  const data = new Uint8Array(kept.length * h * w);
  kept.forEach((k, j) => data.set(bits.subarray(k.q * h * w, (k.q + 1) * h * w), j * h * w));
  return { masks: { data, count: kept.length, height: h, width: w }, scores: kept.map((k) => k.score) };
}
