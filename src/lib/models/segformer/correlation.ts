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

/**
 * Sorted top-k cosine self-similarities of a feature map, neighbourhood excluded.
 * features [B,h,w,C] -> [B,h,w,k], values in [-1, 1] (EXCLUDED-shifted values only if k >= N - neighbourhood).
 */
export function selfSimilarityTopK(features: tf.Tensor4D, topK: number, excludeRadius: number): tf.Tensor4D {
  const [b, h, w, c] = features.shape;
  const n = h * w;
  const excluded = (2 * excludeRadius + 1) ** 2;
  if (n - excluded < topK) {
    throw new ModelError(`correlation map ${h}x${w} is too small for top-${topK} outside radius ${excludeRadius}; use a larger input`);
  }
  return tf.tidy(() => {
    const flat = features.reshape([b, n, c]);
    const unit = flat.div(flat.square().sum(-1, true).add(1e-6).sqrt()); // [B,N,C], L2-normalised
    const sim = matmul(unit, unit, false, true); // [B,N,N] cosine
    const masked = sim.add(tf.tensor2d(neighbourhoodPenalty(h, w, excludeRadius), [n, n])) as tf.Tensor3D;
    return topkValues(masked, topK).reshape([b, h, w, topK]) as tf.Tensor4D;
  });
}

/**
 * The correlation block: a learned projection (so matching features can be learned apart from
 * appearance features), then sorted self-similarities: [B,h,w,inChannels] -> [B,h,w,topK].
 */
export function makeCorrelation(p: ParamStore, prefix: string, cfg: CorrelationConfig) {
  const proj = makeLinear(p, `${prefix}/proj`, cfg.inChannels, cfg.projDim);
  return (features: tf.Tensor4D): tf.Tensor4D =>
    tf.tidy(() => selfSimilarityTopK(proj(features) as tf.Tensor4D, cfg.topK, cfg.excludeRadius));
}
