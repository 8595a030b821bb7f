import * as tf from '@tensorflow/tfjs';
import { matmul } from './matmul';
import { ModelError } from '../../errors';
import { makeLinear } from './ops';
import type { ParamStore } from './params';

/**
 * Intra-image correlation (BusterNet's similarity branch, Wu et al. 2018): copy-move needs
 * matching, not only appearance. Every location of a coarse feature map is compared (cosine)
 * with every other location; its own neighbourhood is excluded, since neighbours are always
 * similar; the top-k similarities, sorted, become k extra channels. A copied region lights up as
 * high top-1 similarity at both its source and its target.
 */
export interface CorrelationConfig {
  /** Channels of the feature map the block reads. */
  inChannels: number;
  /** Channels of the learned projection compared by cosine similarity. */
  projDim: number;
  /** Number of sorted similarities kept per location. */
  topK: number;
  /** Chebyshev radius (in cells) of the own neighbourhood that is excluded. */
  excludeRadius: number;
  /** Odd block size of the displacement aggregation (1: single cells). */
  window: number;
  /** Append each location's similarity mean and standard deviation. */
  stats: boolean;
  /** Average-pool the map until it has at most this many cells, so memory stays bounded (N^2 similarities). */
  maxCells: number;
}

/** Value added to excluded pairs so they never reach the top-k (cosine is >= -1). */
const EXCLUDED = -4;

/**
 * Top-k values along the last axis with a gradient (tfjs registers none for TopK): the gradient
 * of each kept value flows back to the position it came from, via ScatterNd.
 */
function topkValues(sim: tf.Tensor3D, k: number): tf.Tensor3D {
  const f = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const { values, indices } = tf.topk(x, k, true); // [B,N,k] each
    save([indices]);
    return {
      value: values,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [b, n, m] = x.shape as [number, number, number];
          const idx = saved[0]; // [B,N,k] int32
          const bIdx = tf.range(0, b, 1, 'int32').reshape([b, 1, 1]).tile([1, n, k]);
          const nIdx = tf.range(0, n, 1, 'int32').reshape([1, n, 1]).tile([b, 1, k]);
          const coords = tf.stack([bIdx, nIdx, idx], -1).reshape([b * n * k, 3]) as tf.Tensor2D;
          return tf.scatterND(coords, dy.reshape([b * n * k]), [b, n, m]);
        }),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(sim) as tf.Tensor3D;
}

const penaltyCache = new Map<string, Float32Array>();

/** [N, N] additive mask: EXCLUDED within the Chebyshev radius, 0 elsewhere (N = h*w). */
function neighbourhoodPenalty(h: number, w: number, radius: number): Float32Array {
  const key = `${h}x${w}r${radius}`;
  let p = penaltyCache.get(key);
  if (!p) {
    const n = h * w;
    p = new Float32Array(n * n);
    for (let i = 0; i < n; i++) {
      const yi = Math.floor(i / w);
      const xi = i % w;
      for (let y = Math.max(0, yi - radius); y <= Math.min(h - 1, yi + radius); y++) {
        for (let x = Math.max(0, xi - radius); x <= Math.min(w - 1, xi + radius); x++) p[i * n + y * w + x] = EXCLUDED;
      }
    }
    penaltyCache.set(key, p);
  }
  return p;
}

const validCache = new Map<string, Float32Array>();

/** [N, N] 1 for the pairs outside each other's neighbourhood, 0 inside (the complement of the penalty). */
function validPairs(h: number, w: number, radius: number): Float32Array {
  const key = `${h}x${w}r${radius}`;
  let v = validCache.get(key);
  if (!v) {
    v = neighbourhoodPenalty(h, w, radius).map((p) => (p === 0 ? 1 : 0));
    validCache.set(key, v);
  }
  return v;
}

/**
 * Each cell's descriptor concatenated with its neighbours' in a `window` x `window` block (zeros
 * past the border), scaled by 1/window so unit cells give a descriptor of norm <= 1.
 * The dot product of two such descriptors is the mean cosine similarity of the two blocks cell
 * by cell at the same displacement: similarity aggregated along a constant displacement, which is
 * what a translated copy keeps and a chance look-alike does not (the dense-field idea of
 * classical copy-move detection). [B,h,w,C] -> [B,h,w,window^2 C].
 */
function displacementBlocks(unit: tf.Tensor4D, window: number): tf.Tensor4D {
  if (window === 1) return unit;
  return tf.tidy(() => {
    const [b, h, w, c] = unit.shape;
    const r = Math.floor(window / 2);
    const padded = tf.pad(unit, [[0, 0], [r, r], [r, r], [0, 0]]);
    const taps: tf.Tensor4D[] = [];
    for (let dy = 0; dy < window; dy++) for (let dx = 0; dx < window; dx++) taps.push(tf.slice(padded, [0, dy, dx, 0], [b, h, w, c]));
    return tf.concat(taps, -1).mul(1 / window) as tf.Tensor4D;
  });
}

export interface SelfSimilarityOptions {
  topK: number;
  /** Chebyshev radius (in cells) of the own neighbourhood that is excluded. */
  excludeRadius: number;
  /** Odd block size of the displacement aggregation; 1 compares single cells. */
  window?: number;
  /** Append the mean and the standard deviation of each location's similarities (2 channels). */
  stats?: boolean;
}

/**
 * Sorted top-k cosine self-similarities of a feature map, neighbourhood excluded, optionally
 * aggregated over a block at constant displacement and followed by the mean and standard
 * deviation of all the location's similarities (BusterNet's percentile pooling in short: a
 * top-1 far above the mean is a match to one place, not a flat or repetitive background that
 * matches everywhere).
 * features [B,h,w,C] -> [B,h,w,k (+2)], values in [-1, 1].
 */
export function selfSimilarityTopK(features: tf.Tensor4D, topKOrOptions: number | SelfSimilarityOptions, excludeRadiusArg = 1): tf.Tensor4D {
  const o: SelfSimilarityOptions = typeof topKOrOptions === 'number' ? { topK: topKOrOptions, excludeRadius: excludeRadiusArg } : topKOrOptions;
  const { topK, excludeRadius } = o;
  const window = o.window ?? 1;
  if (!Number.isInteger(window) || window < 1 || window % 2 === 0) throw new ModelError(`correlation window must be an odd integer >= 1, got ${window}`);
  const [b, h, w, c] = features.shape;
  const n = h * w;
  const excluded = (2 * excludeRadius + 1) ** 2;
  if (n - excluded < topK) {
    throw new ModelError(`correlation map ${h}x${w} is too small for top-${topK} outside radius ${excludeRadius}; use a larger input`);
  }
  return tf.tidy(() => {
    const unit = features.div(features.square().sum(-1, true).add(1e-6).sqrt()) as tf.Tensor4D; // L2-normalised cells
    const blocks = displacementBlocks(unit, window);
    const flat = blocks.reshape([b, n, blocks.shape[3]]);
    const sim = matmul(flat, flat, false, true); // [B,N,N]
    const penalty = neighbourhoodPenalty(h, w, excludeRadius);
    const masked = sim.add(tf.tensor2d(penalty, [n, n])) as tf.Tensor3D;
    const top = topkValues(masked, topK);
    if (!o.stats) return top.reshape([b, h, w, topK]) as tf.Tensor4D;
    // Mean and std over the non-excluded pairs of each row.
    const valid = tf.tensor2d(validPairs(h, w, excludeRadius), [n, n]);
    const count = n - excluded; // interior rows; border rows exclude fewer, close enough for a feature
    const mean = sim.mul(valid).sum(-1, true).div(count);
    const std = sim.sub(mean).square().mul(valid).sum(-1, true).div(count).add(1e-6).sqrt();
    return tf.concat([top, mean, std], -1).reshape([b, h, w, topK + 2]) as tf.Tensor4D;
  });
}

/** Channels the correlation block outputs. */
export function correlationChannels(cfg: { topK: number; stats: boolean }): number {
  return cfg.topK + (cfg.stats ? 2 : 0);
}

/**
 * The correlation block: a learned projection (so matching features can be learned apart from
 * appearance features), pooled down to at most `maxCells` locations, then sorted
 * self-similarities: [B,h,w,inChannels] -> [B,h',w',topK (+2)].
 */
export function makeCorrelation(p: ParamStore, prefix: string, cfg: CorrelationConfig) {
  const proj = makeLinear(p, `${prefix}/proj`, cfg.inChannels, cfg.projDim);
  return (features: tf.Tensor4D): tf.Tensor4D =>
    tf.tidy(() => {
      let x = proj(features) as tf.Tensor4D;
      let factor = 1;
      while ((x.shape[1] / factor) * (x.shape[2] / factor) > cfg.maxCells && x.shape[1] % (factor * 2) === 0 && x.shape[2] % (factor * 2) === 0) factor *= 2;
      if (factor > 1) x = tf.avgPool(x, factor, factor, 'valid');
      return selfSimilarityTopK(x, { topK: cfg.topK, excludeRadius: cfg.excludeRadius, window: cfg.window, stats: cfg.stats });
    });
}
