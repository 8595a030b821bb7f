import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import type { Rng } from '../util/random';

/**
 * Contour-aware contrastive loss, after CaCL-Net's idea (contour-aware contrastive learning for
 * image manipulation localisation): the pixels that decide a localisation are those at the
 * manipulation contour, so their embeddings are contrasted across it — pixels on the forged side
 * of the contour pulled together, away from pixels on the authentic side, and vice versa.
 *
 * The exact formulation chosen here (the paper's own sampling and weighting are not reproduced):
 * per image, the inner band I (forged side) and outer band O (authentic side) of losses/contour.ts;
 * up to `maxPerSide` pixels drawn from each without replacement by the seeded `rng` (the bound keeps
 * the similarity matrix at most (2 maxPerSide)^2); the embeddings z (L2-normalised here) of the
 * sampled set S = I' u O' enter the supervised contrastive loss (Khosla et al., 2020) with
 * temperature tau, positives = same side:
 *
 *   L_i = -1/|P(i)| sum_{p in P(i)} log( exp(z_i.z_p / tau) / sum_{a in S, a != i} exp(z_i.z_a / tau) )
 *
 * averaged over the anchors of each image, then over the images that have both sides (at least two pixels on each,
 * so every anchor has a positive). No such image (no contour: authentic, empty or all-forged
 * masks) gives exactly 0 with zero gradients.
 *
 * embeddings [B,H,W,D] (any scale; normalised inside), inner/outer [B,H,W,1] 0/1 (targets).
 */
export interface ContourContrastiveOptions {
  maxPerSide: number;
  temperature: number;
  rng: Rng;
}

/** Sampled flat pixel indices (into B*H*W) of each image's two sides, and the side of each. */
export interface ContourSamples {
  index: Int32Array;
  /** 1 forged side, 0 authentic side. */
  side: Float32Array;
  /** Sample count of each contributing image (the blocks of `index`, in order). */
  groups: number[];
}

/** Up to `n` of `items` without replacement (partial Fisher-Yates), in drawn order. */
function draw(items: number[], n: number, rng: Rng): number[] {
  const a = items.slice();
  const k = Math.min(n, a.length);
  for (let i = 0; i < k; i++) {
    const j = rng.int(i, a.length - 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, k);
}

export function sampleContourPixels(inner: tf.Tensor4D, outer: tf.Tensor4D, maxPerSide: number, rng: Rng): ContourSamples {
  const [b, h, w] = inner.shape;
  const hw = h * w;
  const ins = inner.dataSync();
  const outs = outer.dataSync();
  const index: number[] = [];
  const side: number[] = [];
  const groups: number[] = [];
  for (let i = 0; i < b; i++) {
    const inPix: number[] = [];
    const outPix: number[] = [];
    for (let p = i * hw; p < (i + 1) * hw; p++) {
      if (ins[p] > 0.5) inPix.push(p);
      else if (outs[p] > 0.5) outPix.push(p);
    }
    if (inPix.length < 2 || outPix.length < 2) continue;
    const a = draw(inPix, maxPerSide, rng);
    const o = draw(outPix, maxPerSide, rng);
    index.push(...a, ...o);
    side.push(...a.map(() => 1), ...o.map(() => 0));
    groups.push(a.length + o.length);
  }
  return { index: Int32Array.from(index), side: Float32Array.from(side), groups };
}

/** The supervised contrastive loss of one group: z [n,D] normalised, side [n]. Mean over anchors. */
function supCon(z: tf.Tensor2D, side: tf.Tensor1D, tau: number): tf.Scalar {
  return tf.tidy(() => {
    const n = z.shape[0];
    const logits = tf.matMul(z, z, false, true).div(tau); // [n,n]
    const notSelf = tf.scalar(1).sub(tf.eye(n));
    const same = tf.equal(side.expandDims(1), side.expandDims(0)).toFloat().mul(notSelf);
    // log-softmax over a != i: the diagonal is masked with a large negative before logSumExp
    const masked = logits.add(tf.eye(n).mul(-1e9));
    const logProb = logits.sub(tf.logSumExp(masked, 1, true));
    const perAnchor = logProb.mul(same).sum(1).div(same.sum(1));
    return perAnchor.mean().neg() as tf.Scalar;
  });
}

export function contourContrastiveLoss(
  embeddings: tf.Tensor4D,
  inner: tf.Tensor4D,
  outer: tf.Tensor4D,
  opts: ContourContrastiveOptions,
): tf.Scalar {
  if (!Number.isInteger(opts.maxPerSide) || opts.maxPerSide < 2) throw new ConfigError(`contrastive maxPerSide must be an integer >= 2, got ${opts.maxPerSide}`);
  if (!(opts.temperature > 0)) throw new ConfigError(`contrastive temperature must be > 0, got ${opts.temperature}`);
  const s = sampleContourPixels(inner, outer, opts.maxPerSide, opts.rng);
  return tf.tidy(() => {
    // multiplying by 0 keeps the loss connected to the embeddings (zero gradients) when nothing is sampled
    if (s.groups.length === 0) return embeddings.sum().mul(0) as tf.Scalar;
    const d = embeddings.shape[3];
    const flat = embeddings.reshape([-1, d]);
    const picked = tf.gather(flat, tf.tensor1d(s.index, 'int32'));
    // eps keeps the normalisation's gradient finite at a zero embedding
    const z = picked.div(picked.square().sum(1, true).add(1e-12).sqrt()) as tf.Tensor2D;
    const sides = tf.tensor1d(s.side);
    let start = 0;
    const losses = s.groups.map((n) => {
      const l = supCon(z.slice([start, 0], [n, d]), sides.slice(start, n), opts.temperature);
      start += n;
      return l;
    });
    return tf.addN(losses).div(losses.length) as tf.Scalar;
  });
}
