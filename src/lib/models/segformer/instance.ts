import * as tf from '@tensorflow/tfjs';
import type { Masks } from '../../data/types';

/** Query outputs as every model returns them (ForwardOutput): probabilities, not logits. */
export interface InstanceOutputs {
  /** [B, Q, H, W] per-query mask probabilities. */
  instances: tf.Tensor4D;
  /** [B, Q] objectness (confidence) per query. */
  scores: tf.Tensor2D;
}

/**
 * Per-pixel forgery probability: the most confident query covering the pixel,
 * max_q score_q * mask_q. [B,Q,H,W] -> [B,H,W].
 */
export function foregroundProbability(outputs: InstanceOutputs): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, q] = outputs.scores.shape;
    return outputs.instances.mul(outputs.scores.reshape([b, q, 1, 1])).max(1) as tf.Tensor3D;
  });
}

/** Merges the instances into one foreground mask: 1 where foregroundProbability > threshold. [B,H,W] float 0/1. */
export function instanceToForeground(outputs: InstanceOutputs, threshold = 0.5): tf.Tensor3D {
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
