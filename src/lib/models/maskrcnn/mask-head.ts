import * as tf from '@tensorflow/tfjs';
import type { Masks } from '../../data/types';
import type { ParamStore } from '../params';
import { bceWithLogits } from '../../losses/bce';
import { flattenRois } from './box-head';
import { kaimingFanOut, makeHeadConv, makeUpConv } from './layers';
import { roiAlign } from './roi-align';

/**
 * The mask branch of torchvision's RoIHeads: RoIAlign 14x14 (sampling 2), MaskRCNNHeads (four 3x3
 * conv + ReLU, `mask_head.N.0`), MaskRCNNPredictor (2x2 stride-2 ConvTranspose + ReLU, 1x1 conv to
 * one logit map per class); loss: BCE of each positive's own-class 28x28 logits against its matched
 * ground-truth mask cut out by RoIAlign (28x28, adaptive sampling, scale 1); inference: sigmoid of the
 * detected class, pasted into the image (torchvision `paste_masks_in_image`).
 */
export interface MaskHeadConfig {
  channels: number;
  layers: readonly number[];
  numClasses: number;
}

const POOL = 14;
export const MASK_SIZE = 28;

export class MaskHead {
  private readonly convs: Array<(x: tf.Tensor4D) => tf.Tensor4D>;
  private readonly up: (x: tf.Tensor4D) => tf.Tensor4D;
  private readonly logits: (x: tf.Tensor4D) => tf.Tensor4D;

  constructor(store: ParamStore, readonly cfg: MaskHeadConfig) {
    let cin = cfg.channels;
    this.convs = cfg.layers.map((cout, i) => {
      const conv = makeHeadConv(store, `roi_heads/mask_head/${i}/0`, cin, cout, 3, kaimingFanOut(3, cout));
      cin = cout;
      return conv;
    });
    this.up = makeUpConv(store, 'roi_heads/mask_predictor/conv5_mask', cin, cin);
    this.logits = makeHeadConv(store, 'roi_heads/mask_predictor/mask_fcn_logits', cin, cfg.numClasses, 1, kaimingFanOut(1, cfg.numClasses));
  }

  /** features [B,h,w,C], boxes per image -> mask logits [R, 28, 28, numClasses]. */
  forward(features: tf.Tensor4D, boxes: Float32Array[], scale: number): tf.Tensor4D {
    const { rois, batch } = flattenRois(boxes);
    // no RoIs: no work (the native backend rejects a bias add on an empty batch)
    if (!batch.length) return tf.zeros([0, MASK_SIZE, MASK_SIZE, this.cfg.numClasses]);
    return tf.tidy(() => {
      let x = roiAlign(features, rois, batch, { outputSize: POOL, spatialScale: scale, samplingRatio: 2 });
      for (const conv of this.convs) x = tf.relu(conv(x));
      return this.logits(tf.relu(this.up(x)));
    });
  }

  /**
   * Mask loss (torchvision `maskrcnn_loss`): logits [R,28,28,K] of the positive proposals (per image
   * `boxes`), their labels, the index of the matched ground truth in each image's `gtMasks`.
   */
  loss(logits: tf.Tensor4D, boxes: Float32Array[], labels: Int32Array, matched: Int32Array[], gtMasks: Masks[]): tf.Scalar {
    if (labels.length === 0) return tf.tidy(() => logits.sum().mul(0) as tf.Scalar);
    return tf.tidy(() => {
      const parts: tf.Tensor4D[] = [];
      boxes.forEach((b, i) => {
        if (!b.length) return;
        const m = gtMasks[i];
        const t = tf.tensor4d(Float32Array.from(m.data), [m.count, m.height, m.width, 1]);
        parts.push(roiAlign(t, b, matched[i], { outputSize: MASK_SIZE, spatialScale: 1, samplingRatio: -1 }));
      });
      const targets = tf.concat(parts, 0); // [R,28,28,1]
      const k = this.cfg.numClasses;
      const own = tf.oneHot(tf.tensor1d(labels, 'int32'), k).reshape([labels.length, 1, 1, k]);
      const chosen = logits.mul(own).sum(3, true); // each proposal's own-class logits
      return bceWithLogits(chosen, targets);
    });
  }
}

/** torch F.interpolate(bilinear, align_corners=False) of one src (sh x sw) to dh x dw. */
function resizeBilinear(src: Float32Array, sh: number, sw: number, dh: number, dw: number): Float32Array {
  const out = new Float32Array(dh * dw);
  const axis = (d: number, s: number, n: number) => {
    const v = Math.max(((d + 0.5) * s) / n - 0.5, 0);
    const lo = Math.floor(v);
    return { lo, hi: Math.min(lo + 1, s - 1), l: v - lo };
  };
  for (let y = 0; y < dh; y++) {
    const ay = axis(y, sh, dh);
    for (let x = 0; x < dw; x++) {
      const ax = axis(x, sw, dw);
      const top = src[ay.lo * sw + ax.lo] * (1 - ax.l) + src[ay.lo * sw + ax.hi] * ax.l;
      const bottom = src[ay.hi * sw + ax.lo] * (1 - ax.l) + src[ay.hi * sw + ax.hi] * ax.l;
      out[y * dw + x] = top * (1 - ay.l) + bottom * ay.l;
    }
  }
  return out;
}

/**
 * Mask probabilities (R x m x m) pasted into height x width images at their boxes (torchvision
 * `paste_masks_in_image`: the mask padded by one cell and its box grown to match, integer boxes,
 * bilinear resize to the box, cropped to the image). Returns R x height x width.
 */
export function pasteMasks(probs: Float32Array, m: number, boxes: Float32Array, height: number, width: number): Float32Array {
  const r = boxes.length / 4;
  const out = new Float32Array(r * height * width);
  const p = m + 2;
  const scale = p / m;
  for (let i = 0; i < r; i++) {
    const padded = new Float32Array(p * p);
    for (let y = 0; y < m; y++) padded.set(probs.subarray((i * m + y) * m, (i * m + y + 1) * m), (y + 1) * p + 1);
    const [x1, y1, x2, y2] = boxes.subarray(i * 4, i * 4 + 4);
    const wHalf = (x2 - x1) * 0.5 * scale;
    const hHalf = (y2 - y1) * 0.5 * scale;
    const cx = (x2 + x1) * 0.5;
    const cy = (y2 + y1) * 0.5;
    const b = [cx - wHalf, cy - hHalf, cx + wHalf, cy + hHalf].map((v) => Math.trunc(Math.fround(v)));
    const w = Math.max(b[2] - b[0] + 1, 1);
    const h = Math.max(b[3] - b[1] + 1, 1);
    const resized = resizeBilinear(padded, p, p, h, w);
    const xs = Math.max(b[0], 0);
    const xe = Math.min(b[2] + 1, width);
    const ys = Math.max(b[1], 0);
    const ye = Math.min(b[3] + 1, height);
    for (let y = ys; y < ye; y++) {
      for (let x = xs; x < xe; x++) out[(i * height + y) * width + x] = resized[(y - b[1]) * w + (x - b[0])];
    }
  }
  return out;
}
