import * as tf from '@tensorflow/tfjs';
import { TrainingError } from '../errors';
import { matmul } from '../models/segformer/matmul';

// linear-sum-assignment is ESM-only and ships no types node10 resolution can see; Node >= 20.19 requires it.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { linearSumAssignment } = require('linear-sum-assignment') as {
  linearSumAssignment: (cost: number[][], options: { maximaze: boolean }) => { rowAssignments: Float64Array };
};

/**
 * Hungarian-matched set loss for query-based instance prediction (DETR / Mask2Former):
 * each image's ground-truth instances are matched one-to-one to queries by minimum
 * dice + BCE (+ objectness) cost; matched queries learn their instance's mask (dice + BCE) and
 * objectness 1, unmatched queries learn objectness 0.
 */
export interface SetLossWeights {
  dice: number;
  bce: number;
  objectness: number;
  /** Weight of the objectness BCE of unmatched queries (DETR's eos_coef), relative to matched ones. */
  noObject: number;
}

export const DEFAULT_SET_LOSS_WEIGHTS: SetLossWeights = { dice: 1, bce: 1, objectness: 1, noObject: 0.5 };

/** Ground truth of a batch: instance masks padded to the batch's largest count. */
export interface InstanceTargets {
  /** [B, M, H, W] 0/1; rows past `counts[b]` are padding. M may be 0. */
  masks: tf.Tensor4D;
  /** Real instances per image. */
  counts: number[];
}

export interface SetLoss {
  loss: tf.Scalar;
  dice: tf.Scalar;
  bce: tf.Scalar;
  objectness: tf.Scalar;
  /** Per image, the matched [query, instance] pairs. */
  matches: Array<Array<[number, number]>>;
}

/**
 * Query -> instance assignment of minimum total cost; cost is Q x M. With more instances than
 * queries (an image with many copies) every query gets one instance and the rest go unmatched.
 */
export function matchQueries(cost: number[][]): Array<[number, number]> {
  const q = cost.length;
  const m = q ? cost[0].length : 0;
  if (m === 0) return [];
  const { rowAssignments } = linearSumAssignment(cost, { maximaze: false });
  const pairs: Array<[number, number]> = [];
  rowAssignments.forEach((col, row) => {
    if (col >= 0) pairs.push([row, col]);
  });
  return pairs;
}

/** Elementwise stable BCE with logits: max(x,0) - x*t + log(1 + exp(-|x|)). */
function bceWithLogits(x: tf.Tensor, t: tf.Tensor): tf.Tensor {
  return tf.relu(x).sub(x.mul(t)).add(tf.log1p(tf.exp(tf.abs(x).neg())));
}

/** Dice loss per row: pred probabilities and targets [K, P] -> [K]. */
function diceRows(prob: tf.Tensor2D, target: tf.Tensor2D): tf.Tensor1D {
  const inter = prob.mul(target).sum(1);
  return tf.scalar(1).sub(inter.mul(2).add(1).div(prob.sum(1).add(target.sum(1)).add(1))) as tf.Tensor1D;
}

/**
 * The per-image cost matrices [B][Q][M] (dice cost + mean BCE - objectness probability), computed
 * without gradient: the matching is a constant of the loss.
 */
function costMatrices(maskLogits: tf.Tensor4D, objectness: tf.Tensor2D, targets: InstanceTargets, w: SetLossWeights): number[][][] {
  const [b, q, h, wd] = maskLogits.shape;
  const m = targets.masks.shape[1];
  if (m === 0) return Array.from({ length: b }, () => []);
  const values = tf.tidy(() => {
    const x = maskLogits.reshape([b, q, h * wd]); // [B,Q,P]
    const t = targets.masks.reshape([b, m, h * wd]); // [B,M,P]
    const p = tf.sigmoid(x);
    const inter = matmul(p, t, false, true); // [B,Q,M]
    const dice = tf.scalar(1).sub(inter.mul(2).add(1).div(p.sum(2).expandDims(2).add(t.sum(2).expandDims(1)).add(1)));
    // mean BCE(x, t) over pixels = (sum softplus(x) - sum x*t) / P
    const softplus = tf.relu(x).add(tf.log1p(tf.exp(tf.abs(x).neg()))).sum(2).expandDims(2); // [B,Q,1]
    const bce = softplus.sub(matmul(x, t, false, true)).div(h * wd); // [B,Q,M]
    const obj = tf.sigmoid(objectness).expandDims(2); // [B,Q,1]
    return dice.mul(w.dice).add(bce.mul(w.bce)).sub(obj.mul(w.objectness)).arraySync() as number[][][];
  });
  return values.map((rows, i) => rows.map((r) => r.slice(0, targets.counts[i])));
}

/**
 * maskLogits [B,Q,H,W] and objectness [B,Q] against targets at the same H x W.
 * Dice and BCE are averaged over matched pairs; objectness BCE over all queries.
 */
export function hungarianSetLoss(
  maskLogits: tf.Tensor4D,
  objectness: tf.Tensor2D,
  targets: InstanceTargets,
  weights: SetLossWeights = DEFAULT_SET_LOSS_WEIGHTS,
): SetLoss {
  const [b, q, h, wd] = maskLogits.shape;
  const [tb, m, th, tw] = targets.masks.shape;
  if (tb !== b || th !== h || tw !== wd) {
    throw new TrainingError(`targets [${targets.masks.shape}] do not fit predictions [${maskLogits.shape}]`);
  }
  if (targets.counts.length !== b || targets.counts.some((c) => c < 0 || c > m)) {
    throw new TrainingError(`instance counts [${targets.counts}] do not fit ${b} images with at most ${m} instances`);
  }
  const costs = costMatrices(maskLogits, objectness, targets, weights);
  const matches = costs.map((c) => matchQueries(c));
  const pairs = matches.flatMap((ms, img) => ms.map(([qi, mi]) => ({ img, qi, mi })));
  const parts = tf.tidy(() => {
    const objTarget = new Float32Array(b * q);
    const objWeight = new Float32Array(b * q).fill(weights.noObject);
    for (const { img, qi } of pairs) {
      objTarget[img * q + qi] = 1;
      objWeight[img * q + qi] = 1;
    }
    const objLoss = bceWithLogits(objectness.reshape([b * q]), tf.tensor1d(objTarget))
      .mul(tf.tensor1d(objWeight))
      .sum()
      .div(objWeight.reduce((a, v) => a + v, 0)) as tf.Scalar;
    if (pairs.length === 0) return [objLoss, tf.scalar(0), tf.scalar(0)];
    const k = pairs.length;
    // Matched predictions through a one-hot selection matmul (differentiable without Gather's gradient).
    const select = new Float32Array(k * b * q);
    pairs.forEach(({ img, qi }, row) => (select[row * b * q + img * q + qi] = 1));
    const pred = matmul(tf.tensor2d(select, [k, b * q]), maskLogits.reshape([b * q, h * wd])); // [K,P]
    const tIdx = tf.tensor1d(pairs.map(({ img, mi }) => img * m + mi), 'int32');
    const target = tf.gather(targets.masks.reshape([b * m, h * wd]), tIdx) as tf.Tensor2D; // [K,P]
    const dice = diceRows(tf.sigmoid(pred) as tf.Tensor2D, target).mean() as tf.Scalar;
    const bce = bceWithLogits(pred, target).mean() as tf.Scalar;
    return [objLoss, dice, bce];
  });
  const [objLoss, dice, bce] = parts as [tf.Scalar, tf.Scalar, tf.Scalar];
  const loss = tf.tidy(() => dice.mul(weights.dice).add(bce.mul(weights.bce)).add(objLoss.mul(weights.objectness)) as tf.Scalar);
  return { loss, dice, bce, objectness: objLoss, matches };
}
