import * as tf from '@tensorflow/tfjs';
import type { Masks } from '../../data/types';
import { pixelSupConLoss } from '../../losses/supcon';
import { sampleTokens, tokenLabels } from '../../losses/token-labels';
import { interInstanceSeparationLoss } from '../../losses/separation';
import { uniformityLoss } from '../../losses/uniformity';
import type { Rng } from '../../util/random';

/** Weights and settings of the three metric-learning terms. */
export interface MetricLossConfig {
  supconWeight: number;
  uniformityWeight: number;
  separationWeight: number;
  temperature: number;
  /** Hinge margin on the cosine of two class means (InterInstanceSeparationLoss). */
  margin: number;
  /** Tokens sampled per image (bounds the n x n similarity matrices). */
  maxTokens: number;
}

export interface MetricLoss {
  total: tf.Scalar;
  /** The unweighted terms, each a mean over the batch's images. */
  terms: { supcon: tf.Scalar; uniformity: tf.Scalar; separation: tf.Scalar };
}

/**
 * The weighted sum of PixelSupConLoss, UniformityLoss and InterInstanceSeparationLoss over a batch:
 * per image, token labels from its event masks by area vote, a bounded seeded sample of tokens, the
 * three terms on that sample; each term is the mean over the images. emb [B,h,w,D] L2-normalised.
 */
export function metricLoss(emb: tf.Tensor4D, events: Masks[], cfg: MetricLossConfig, rng: Rng): MetricLoss {
  const [b, h, w, d] = emb.shape;
  return tf.tidy(() => {
    const sums = { supcon: tf.scalar(0), uniformity: tf.scalar(0), separation: tf.scalar(0) };
    for (let i = 0; i < b; i++) {
      const labels = tokenLabels(events[i], h, w);
      const idx = sampleTokens(labels, cfg.maxTokens, rng);
      const z = tf.gather(emb.slice([i, 0, 0, 0], [1, h, w, d]).reshape([h * w, d]), tf.tensor1d(idx, 'int32')) as tf.Tensor2D;
      const picked = Int32Array.from(idx, (t) => labels[t]);
      sums.supcon = sums.supcon.add(pixelSupConLoss(z, picked, cfg.temperature));
      sums.uniformity = sums.uniformity.add(uniformityLoss(z, picked));
      sums.separation = sums.separation.add(interInstanceSeparationLoss(z, picked, cfg.margin));
    }
    const terms = {
      supcon: sums.supcon.div(b) as tf.Scalar,
      uniformity: sums.uniformity.div(b) as tf.Scalar,
      separation: sums.separation.div(b) as tf.Scalar,
    };
    const total = terms.supcon
      .mul(cfg.supconWeight)
      .add(terms.uniformity.mul(cfg.uniformityWeight))
      .add(terms.separation.mul(cfg.separationWeight)) as tf.Scalar;
    return { total, terms } as unknown as tf.TensorContainer;
  }) as unknown as MetricLoss;
}
