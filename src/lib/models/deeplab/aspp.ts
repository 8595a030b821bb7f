import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../params';
import { makeBatchNorm, makeConv, makeConvBnAct, type Layer } from '../backbones/layers';
import { seededDropout } from './dropout';

/**
 * Atrous Spatial Pyramid Pooling (Chen et al., DeepLabV3), as torchvision's
 * `models.segmentation.deeplabv3.ASPP` builds it, NHWC: five parallel branches on the backbone's
 * last features — a 1x1 conv, three 3x3 atrous convs at `rates`, and image pooling (global mean,
 * 1x1 conv, broadcast back) — each conv + BatchNorm + ReLU; concatenated and projected by a 1x1
 * conv + BN + ReLU (+ dropout when training). Parameters are named as torchvision's state dict
 * (`convs/0/0/w`, `convs/1/1/gamma`, `convs/4/1/w` for the pooling conv, `project/0/w`), so its
 * weights import through weights/maps/common.ts `torchvisionEntries`.
 */
export interface AsppConfig {
  cin: number;
  /** Output channels of every branch and of the projection (256 in the papers). */
  channels: number;
  /** Atrous rates of the three 3x3 branches: [6, 12, 18] at output stride 16, [12, 24, 36] at 8. */
  rates: [number, number, number];
  /** Dropout after the projection while training (torchvision 0.5; 0 turns it off). */
  dropout: number;
}

const BN = { eps: 1e-5, momentum: 0.1 };

/** The ASPP rates DeepLabV3+ pairs with an output stride. */
export function asppRates(outputStride: 8 | 16): [number, number, number] {
  return outputStride === 8 ? [12, 24, 36] : [6, 12, 18];
}

export function makeAspp(p: ParamStore, prefix: string, cfg: AsppConfig, seed: number): Layer {
  const drop = seededDropout(cfg.dropout, seed);
  const { cin, channels: c } = cfg;
  const branches: Layer[] = [makeConvBnAct(p, `${prefix}/convs/0`, { cin, cout: c, kernel: 1 }, 'relu', BN)];
  cfg.rates.forEach((rate, i) => {
    branches.push(makeConvBnAct(p, `${prefix}/convs/${i + 1}`, { cin, cout: c, kernel: 3, dilation: rate }, 'relu', BN));
  });
  // torchvision's ASPPPooling is a Sequential (AdaptiveAvgPool2d, Conv, BN, ReLU): the conv is its item 1, BN item 2
  const poolConv = makeConv(p, `${prefix}/convs/4/1`, { cin, cout: c, kernel: 1 });
  const poolBn = makeBatchNorm(p, `${prefix}/convs/4/2`, c, BN.eps, BN.momentum);
  const project = makeConvBnAct(p, `${prefix}/project`, { cin: 5 * c, cout: c, kernel: 1 }, 'relu', BN);
  return (x, training) =>
    tf.tidy(() => {
      const [b, h, w] = x.shape;
      const pooled = tf.relu(poolBn(poolConv(tf.mean(x, [1, 2], true) as tf.Tensor4D), training)); // [B,1,1,C]
      // bilinear upsampling of a 1x1 map is a broadcast
      const outs = [...branches.map((f) => f(x, training)), tf.broadcastTo(pooled, [b, h, w, c]) as tf.Tensor4D];
      const y = project(tf.concat(outs, 3), training);
      return training ? drop(y) : y;
    });
}
