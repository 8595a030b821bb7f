import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../params';
import { makeBatchNorm, makeConv, type Layer } from '../backbones/layers';
import { seededDropout } from './dropout';

/**
 * The DeepLabV3+ decoder (Chen et al., ECCV 2018) as pytorch-deeplab-xception's `Decoder`, which
 * CaCL-Net builds on, NHWC: the low-level features (C2, stride 4) reduced by a 1x1 conv to 48
 * channels (BN, ReLU), the ASPP output upsampled bilinearly (align_corners, as theirs) to C2's size
 * and concatenated, then two 3x3 convs (BN, ReLU, dropout 0.5 / 0.1 when training). Returns the
 * stride-4 features; the heads (classifier, contour, embedding) are 1x1 convs on them (model.ts).
 * Names follow their state dict: `conv1`, `bn1`, `last_conv/{0,1,4,5}`.
 */
export interface DecoderConfig {
  lowLevelChannels: number;
  asppChannels: number;
  /** Channels of the reduced low-level features (48). */
  reduced: number;
  /** Channels of the two 3x3 convs (256). */
  channels: number;
  /** Whether to apply the decoder's dropouts when training. */
  dropout: boolean;
}

const BN = { eps: 1e-5, momentum: 0.1 };

export type DecoderLayer = (aspp: tf.Tensor4D, lowLevel: tf.Tensor4D, training: boolean) => tf.Tensor4D;

export function makeDecoder(p: ParamStore, prefix: string, cfg: DecoderConfig, seed: number): DecoderLayer {
  const reduce = makeConv(p, `${prefix}/conv1`, { cin: cfg.lowLevelChannels, cout: cfg.reduced, kernel: 1 });
  const reduceBn = makeBatchNorm(p, `${prefix}/bn1`, cfg.reduced, BN.eps, BN.momentum);
  const conv1 = makeConv(p, `${prefix}/last_conv/0`, { cin: cfg.asppChannels + cfg.reduced, cout: cfg.channels, kernel: 3 });
  const bn1 = makeBatchNorm(p, `${prefix}/last_conv/1`, cfg.channels, BN.eps, BN.momentum);
  const conv2 = makeConv(p, `${prefix}/last_conv/4`, { cin: cfg.channels, cout: cfg.channels, kernel: 3 });
  const bn2 = makeBatchNorm(p, `${prefix}/last_conv/5`, cfg.channels, BN.eps, BN.momentum);
  const drop1 = seededDropout(cfg.dropout ? 0.5 : 0, seed);
  const drop2 = seededDropout(cfg.dropout ? 0.1 : 0, seed + 0x9e3779b9);
  const block: Layer = (x, training) =>
    tf.tidy(() => {
      let y = tf.relu(bn1(conv1(x), training));
      if (training) y = drop1(y);
      y = tf.relu(bn2(conv2(y), training));
      return training ? drop2(y) : y;
    });
  return (aspp, lowLevel, training) =>
    tf.tidy(() => {
      const low = tf.relu(reduceBn(reduce(lowLevel), training));
      const up = tf.image.resizeBilinear(aspp, [low.shape[1], low.shape[2]], true);
      return block(tf.concat([up, low], 3), training);
    });
}
