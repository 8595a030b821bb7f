import * as tf from '@tensorflow/tfjs';
import { bceWithLogits } from '../../losses/bce';
import type { Rng } from '../../util/random';
import type { ParamStore } from '../params';
import { anchorsPerCell, gridAnchors, type AnchorConfig } from './anchors';
import { bigEnough, clipBoxes, decodeBoxes, encodeBoxes, nms, pickBoxes } from './boxes';
import { makeHeadConv } from './layers';
import { smoothL1Sum } from './losses';
import { matchBoxes, sampleBalanced } from './matcher';

/**
 * torchvision's RegionProposalNetwork on one feature map: the RPNHead (3x3 conv + ReLU, 1x1
 * objectness and 1x1 box deltas), proposal filtering (top-n by objectness, decode, clip, drop tiny,
 * NMS, top-n again) and its losses (anchors matched at IoU 0.7 / 0.3 with low-quality matches,
 * 256 sampled per image half positive, BCE objectness, smooth-L1 beta 1/9 deltas).
 */
export interface RpnConfig {
  anchors: AnchorConfig;
  preNmsTopN: number;
  postNmsTopN: number;
  nmsThreshold: number;
  fgIoU: number;
  bgIoU: number;
  batchPerImage: number;
  positiveFraction: number;
}

const RPN_WEIGHTS = [1, 1, 1, 1] as const;
/** torchvision's RPN `min_size` and `score_thresh`. */
const MIN_SIZE = 1e-3;

export interface RpnOutput {
  /** [B, N] objectness logits, N = gridH * gridW * A in anchor order. */
  objectness: tf.Tensor2D;
  /** [B, N, 4] box deltas. */
  deltas: tf.Tensor3D;
  /** N x 4 anchors (the same for every image of the batch). */
  anchors: Float32Array;
}

export class Rpn {
  private readonly conv: (x: tf.Tensor4D) => tf.Tensor4D;
  private readonly cls: (x: tf.Tensor4D) => tf.Tensor4D;
  private readonly bbox: (x: tf.Tensor4D) => tf.Tensor4D;
  readonly a: number;

  constructor(store: ParamStore, channels: number, readonly cfg: RpnConfig) {
    this.a = anchorsPerCell(cfg.anchors);
    // torchvision RPNHead: normal(std=0.01) weights, zero biases; names as rpn.head.conv.0.0 / cls_logits / bbox_pred
    this.conv = makeHeadConv(store, 'rpn/head/conv/0/0', channels, channels, 3, 0.01);
    this.cls = makeHeadConv(store, 'rpn/head/cls_logits', channels, this.a, 1, 0.01);
    this.bbox = makeHeadConv(store, 'rpn/head/bbox_pred', channels, this.a * 4, 1, 0.01);
  }

  /** features [B,h,w,C] of a padded batch imageH x imageW -> objectness, deltas and anchors. */
  head(features: tf.Tensor4D, imageH: number, imageW: number): RpnOutput {
    const [b, h, w] = features.shape;
    const [objectness, deltas] = tf.tidy(() => {
      const t = tf.relu(this.conv(features));
      return [this.cls(t).reshape([b, h * w * this.a]) as tf.Tensor2D, this.bbox(t).reshape([b, h * w * this.a, 4]) as tf.Tensor3D];
    });
    return { objectness, deltas, anchors: gridAnchors(this.cfg.anchors, h, w, imageH, imageW) };
  }

  /** Proposals of image `i` (torchvision `filter_proposals`), at most postNmsTopN boxes, best first. */
  proposals(out: RpnOutput, logits: Float32Array, deltas: Float32Array, i: number, height: number, width: number): Float32Array {
    const n = out.anchors.length / 4;
    const own = logits.subarray(i * n, (i + 1) * n);
    const top = [...own.keys()].sort((x, y) => own[y] - own[x] || x - y).slice(0, Math.min(this.cfg.preNmsTopN, n));
    const boxes = clipBoxes(decodeBoxes(pickBoxes(deltas.subarray(i * n * 4, (i + 1) * n * 4), top), pickBoxes(out.anchors, top), RPN_WEIGHTS), height, width);
    const scores = top.map((k) => 1 / (1 + Math.exp(-own[k])));
    const kept = bigEnough(boxes, [...top.keys()], MIN_SIZE).filter((k) => scores[k] >= 0);
    return pickBoxes(boxes, nms(boxes, scores, kept, this.cfg.nmsThreshold).slice(0, this.cfg.postNmsTopN));
  }

  /** Objectness and box losses for ground-truth boxes per image (torchvision `RegionProposalNetwork.compute_loss`). */
  loss(out: RpnOutput, gt: Float32Array[], rng: Rng): { objectness: tf.Scalar; box: tf.Scalar } {
    const n = out.anchors.length / 4;
    const sampled: number[] = [];
    const positive: number[] = [];
    const labels: number[] = [];
    const targets: number[] = [];
    gt.forEach((g, i) => {
      const matches = matchBoxes(g, out.anchors, { high: this.cfg.fgIoU, low: this.cfg.bgIoU, allowLowQuality: true });
      const lab = Array.from(matches, (m) => (m >= 0 ? 1 : m === -1 ? 0 : -1));
      const s = sampleBalanced(lab, this.cfg.batchPerImage, this.cfg.positiveFraction, rng);
      for (const k of s.all) sampled.push(i * n + k), labels.push(lab[k]);
      if (!s.positive.length) return;
      const matched = pickBoxes(g, s.positive.map((k) => matches[k]));
      targets.push(...encodeBoxes(matched, pickBoxes(out.anchors, s.positive), RPN_WEIGHTS));
      for (const k of s.positive) positive.push(i * n + k);
    });
    return tf.tidy(() => {
      const flatLogits = out.objectness.reshape([-1]);
      const objectness = bceWithLogits(tf.gather(flatLogits, tf.tensor1d(sampled, 'int32')), tf.tensor1d(labels));
      const flatDeltas = out.deltas.reshape([-1, 4]);
      const box = positive.length
        ? (smoothL1Sum(tf.gather(flatDeltas, tf.tensor1d(positive, 'int32')), tf.tensor2d(targets, [positive.length, 4]), 1 / 9).div(sampled.length) as tf.Scalar)
        : (flatDeltas.sum().mul(0) as tf.Scalar);
      return { objectness, box };
    });
  }
}
