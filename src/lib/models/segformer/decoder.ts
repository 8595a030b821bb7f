import * as tf from '@tensorflow/tfjs';
import { makeLayerNorm, makeLinear } from './ops';
import type { ParamStore } from './params';

/**
 * SegFormer's all-MLP decoder: each stage's features are projected to `dim` channels by a linear
 * layer, upsampled to 1/4 resolution, concatenated (deepest first, as in SegFormer) with the
 * optional correlation channels, and fused by a linear + norm + ReLU.
 * LayerNorm replaces SegFormer's BatchNorm: it has no running statistics to checkpoint and
 * behaves the same at batch size 1 or 2.
 */
export interface DecoderConfig {
  stageChannels: number[];
  dim: number;
  /** Channels of the correlation map (0: no correlation branch). */
  correlationChannels: number;
  /** Width the correlation channels are lifted to before the fusion. */
  correlationDim: number;
}

export function makeAllMlpDecoder(p: ParamStore, prefix: string, cfg: DecoderConfig) {
  const projs = cfg.stageChannels.map((c, i) => makeLinear(p, `${prefix}/linear_c${i + 1}`, c, cfg.dim));
  const corr = cfg.correlationChannels > 0 ? makeLinear(p, `${prefix}/linear_corr`, cfg.correlationChannels, cfg.correlationDim) : null;
  const fuseIn = cfg.dim * cfg.stageChannels.length + (corr ? cfg.correlationDim : 0);
  const fuse = makeLinear(p, `${prefix}/fuse`, fuseIn, cfg.dim, false);
  const fuseNorm = makeLayerNorm(p, `${prefix}/fuse_norm`, cfg.dim, 1e-5);
  /** features: [B,H/4,W/4,C1] .. [B,H/32,W/32,C4]; correlation [B,h,w,k] -> pixel features [B,H/4,W/4,dim]. */
  return (features: tf.Tensor4D[], correlation?: tf.Tensor4D): tf.Tensor4D =>
    tf.tidy(() => {
      const [, h4, w4] = features[0].shape;
      const up = (t: tf.Tensor4D) => (t.shape[1] === h4 && t.shape[2] === w4 ? t : tf.image.resizeBilinear(t, [h4, w4]));
      const parts = features.map((f, i) => up(projs[i](f) as tf.Tensor4D)).reverse();
      if (corr && correlation) parts.push(up(tf.relu(corr(correlation)) as tf.Tensor4D));
      const fused = fuse(tf.concat(parts, -1)); // [B,H/4,W/4,dim]
      return tf.relu(fuseNorm(fused)) as tf.Tensor4D;
    });
}
