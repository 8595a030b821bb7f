import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/random';
import type { ParamStore } from '../params';
import { bigEnough, clipBoxes, decodeBoxes, encodeBoxes, nms, pickBoxes } from './boxes';
import { makeLinear } from './layers';
import { crossEntropy, smoothL1Sum, takeRows } from './losses';
import { BELOW_LOW, BETWEEN, matchBoxes, sampleBalanced } from './matcher';
import { roiAlign } from './roi-align';

/**
 * The box branch of torchvision's RoIHeads: RoIAlign 7x7 (sampling 2), TwoMLPHead (fc6, fc7 + ReLU),
 * FastRCNNPredictor (cls_score, bbox_pred); proposal matching at IoU 0.5 with 512 sampled per image,
 * a quarter positive; cross-entropy + smooth-L1 (beta 1/9, class-specific deltas, weights 10,10,5,5);
 * at inference softmax, per-class decode, score > 0.05, per-class NMS 0.5, 100 detections.
 */
export interface BoxHeadConfig {
  channels: number;
  representation: number;
  numClasses: number;
  fgIoU: number;
  bgIoU: number;
  batchPerImage: number;
  positiveFraction: number;
  scoreThreshold: number;
  nmsThreshold: number;
  detectionsPerImage: number;
}

export const BOX_WEIGHTS = [10, 10, 5, 5] as const;
const POOL = 7;

/** Proposals sampled for training, with what they are matched to (torchvision `select_training_samples`). */
export interface BoxTargets {
  /** Per image: the sampled proposals (N_i x 4). */
  proposals: Float32Array[];
  /** Per sampled proposal, all images in order: class label (0 background). */
  labels: Int32Array;
  /** Per sampled proposal: regression target (4 values). */
  regression: Float32Array;
  /** Per sampled proposal: the ground-truth index it matched (0 for background). */
  matched: Int32Array;
}

export interface Detections {
  boxes: Float32Array;
  scores: number[];
  labels: number[];
}

export class BoxHead {
  private readonly fc6: (x: tf.Tensor2D) => tf.Tensor2D;
  private readonly fc7: (x: tf.Tensor2D) => tf.Tensor2D;
  private readonly cls: (x: tf.Tensor2D) => tf.Tensor2D;
  private readonly bbox: (x: tf.Tensor2D) => tf.Tensor2D;

  constructor(store: ParamStore, readonly cfg: BoxHeadConfig) {
    const flat = cfg.channels * POOL * POOL;
    this.fc6 = makeLinear(store, 'roi_heads/box_head/fc6', flat, cfg.representation);
    this.fc7 = makeLinear(store, 'roi_heads/box_head/fc7', cfg.representation, cfg.representation);
    this.cls = makeLinear(store, 'roi_heads/box_predictor/cls_score', cfg.representation, cfg.numClasses);
    this.bbox = makeLinear(store, 'roi_heads/box_predictor/bbox_pred', cfg.representation, cfg.numClasses * 4);
  }

  /** RoI features [R,7,7,C] flattened (h, w, c order) -> TwoMLPHead output [R, representation]. */
  represent(pooled: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => tf.relu(this.fc7(tf.relu(this.fc6(pooled.reshape([pooled.shape[0], -1]) as tf.Tensor2D)))));
  }

  /** features [B,h,w,C], proposals per image -> class logits [R,K] and deltas [R,K*4], R = all proposals in order. */
  forward(features: tf.Tensor4D, proposals: Float32Array[], scale: number): { logits: tf.Tensor2D; deltas: tf.Tensor2D; represented: tf.Tensor2D } {
    const { rois, batch } = flattenRois(proposals);
    if (!batch.length) {
      const k = this.cfg.numClasses;
      return { logits: tf.zeros([0, k]), deltas: tf.zeros([0, 4 * k]), represented: tf.zeros([0, this.cfg.representation]) };
    }
    return tf.tidy(() => {
      const pooled = roiAlign(features, rois, batch, { outputSize: POOL, spatialScale: scale, samplingRatio: 2 });
      const represented = this.represent(pooled);
      return { logits: this.cls(represented), deltas: this.bbox(represented), represented };
    });
  }

  /** Add the ground truth to the proposals, match, sample (torchvision `select_training_samples`). */
  sample(proposals: Float32Array[], gt: Float32Array[], gtLabels: Int32Array[], rng: Rng): BoxTargets {
    const out: Float32Array[] = [];
    const labels: number[] = [];
    const regression: number[] = [];
    const matchedAll: number[] = [];
    proposals.forEach((p, i) => {
      const all = new Float32Array(p.length + gt[i].length);
      all.set(p);
      all.set(gt[i], p.length);
      const matches = matchBoxes(gt[i], all, { high: this.cfg.fgIoU, low: this.cfg.bgIoU, allowLowQuality: false });
      const clamped = Array.from(matches, (m) => Math.max(m, 0));
      const lab = Array.from(matches, (m, k) => (m === BELOW_LOW ? 0 : m === BETWEEN ? -1 : gt[i].length ? gtLabels[i][clamped[k]] : 0));
      const s = sampleBalanced(lab, this.cfg.batchPerImage, this.cfg.positiveFraction, rng).all;
      const picked = pickBoxes(all, s);
      // an image without ground truth regresses towards a zero box, as torchvision's placeholder (unused: no positives)
      const targetBoxes = gt[i].length ? pickBoxes(gt[i], s.map((k) => clamped[k])) : new Float32Array(s.length * 4);
      out.push(picked);
      for (const k of s) labels.push(lab[k]), matchedAll.push(clamped[k]);
      regression.push(...encodeBoxes(targetBoxes, picked, BOX_WEIGHTS));
    });
    return { proposals: out, labels: Int32Array.from(labels), regression: Float32Array.from(regression), matched: Int32Array.from(matchedAll) };
  }

  /** Classifier cross-entropy and box smooth-L1 over the sampled proposals (torchvision `fastrcnn_loss`). */
  loss(logits: tf.Tensor2D, deltas: tf.Tensor2D, t: BoxTargets): { classifier: tf.Scalar; box: tf.Scalar } {
    return tf.tidy(() => {
      const classifier = crossEntropy(logits, t.labels);
      const k = this.cfg.numClasses;
      const pos = [...t.labels.keys()].filter((i) => t.labels[i] > 0);
      if (!pos.length) return { classifier, box: deltas.sum().mul(0) as tf.Scalar };
      // the deltas of each positive's own class: row i, columns label*4 .. label*4+3
      const flat = deltas.reshape([-1, 4]);
      const rows = pos.map((i) => i * k + t.labels[i]);
      const target = tf.tensor2d(pos.flatMap((i) => Array.from(t.regression.subarray(i * 4, i * 4 + 4))), [pos.length, 4]);
      const box = smoothL1Sum(takeRows(flat, rows), target, 1 / 9).div(t.labels.length) as tf.Scalar;
      return { classifier, box };
    });
  }

  /** Per image detections from the logits and deltas of its proposals (torchvision `postprocess_detections`). */
  detect(logits: Float32Array, deltas: Float32Array, proposals: Float32Array[], height: number, width: number): Detections[] {
    const k = this.cfg.numClasses;
    let offset = 0;
    return proposals.map((p) => {
      const n = p.length / 4;
      const lg = logits.subarray(offset * k, (offset + n) * k);
      const boxes = clipBoxes(decodeBoxes(deltas.subarray(offset * k * 4, (offset + n) * k * 4), p, BOX_WEIGHTS), height, width);
      offset += n;
      const flatBoxes = new Float32Array(n * (k - 1) * 4);
      const scores: number[] = [];
      const labels: number[] = [];
      for (let i = 0; i < n; i++) {
        const probs = softmax(lg.subarray(i * k, (i + 1) * k));
        for (let c = 1; c < k; c++) {
          flatBoxes.set(boxes.subarray((i * k + c) * 4, (i * k + c + 1) * 4), scores.length * 4);
          scores.push(probs[c]);
          labels.push(c);
        }
      }
      const candidates = bigEnough(flatBoxes, [...scores.keys()].filter((j) => scores[j] > this.cfg.scoreThreshold), 1e-2);
      const kept = nms(flatBoxes, scores, candidates, this.cfg.nmsThreshold, labels).slice(0, this.cfg.detectionsPerImage);
      return { boxes: pickBoxes(flatBoxes, kept), scores: kept.map((j) => scores[j]), labels: kept.map((j) => labels[j]) };
    });
  }
}

function softmax(x: Float32Array): number[] {
  const m = Math.max(...x);
  const e = Array.from(x, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Per-image box lists -> one list and the image index of each box. */
export function flattenRois(boxes: Float32Array[]): { rois: Float32Array; batch: Int32Array } {
  const total = boxes.reduce((s, b) => s + b.length / 4, 0);
  const rois = new Float32Array(total * 4);
  const batch = new Int32Array(total);
  let o = 0;
  boxes.forEach((b, i) => {
    rois.set(b, o * 4);
    batch.fill(i, o, o + b.length / 4);
    o += b.length / 4;
  });
  return { rois, batch };
}
