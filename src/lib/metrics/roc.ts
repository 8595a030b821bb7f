import { MetricError } from '../errors';

/**
 * ROC AUC = probability that a random positive scores above a random negative, ties counting
 * one half (the Mann-Whitney U statistic with mid-ranks, as scikit-learn's roc_auc_score).
 * NaN when one class is missing (AUC is undefined then).
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number {
  if (scores.length !== labels.length) throw new MetricError(`${scores.length} scores but ${labels.length} labels`);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let nPos = 0;
  let rankSumPos = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    const midRank = (i + j) / 2 + 1; // ranks are 1-based; a tie group shares its mean rank
    for (let k = i; k <= j; k++) {
      if (labels[order[k]]) {
        nPos++;
        rankSumPos += midRank;
      }
    }
    i = j + 1;
  }
  const nNeg = scores.length - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * AUC from score histograms (bin k holds scores in [k/B, (k+1)/B)); scores inside a bin count as
 * ties. Used at pixel level, where millions of scores make exact sorting wasteful.
 */
export function rocAucFromHistograms(pos: ArrayLike<number>, neg: ArrayLike<number>): number {
  let nPos = 0;
  let nNeg = 0;
  for (let k = 0; k < pos.length; k++) {
    nPos += pos[k];
    nNeg += neg[k];
  }
  if (nPos === 0 || nNeg === 0) return NaN;
  let negBelow = 0;
  let u = 0;
  for (let k = 0; k < pos.length; k++) {
    u += pos[k] * (negBelow + neg[k] / 2);
    negBelow += neg[k];
  }
  return u / (nPos * nNeg);
}

export interface RocCurve {
  /** Points from (0,0) to (1,1), one per distinct threshold. */
  fpr: number[];
  tpr: number[];
  /** Score threshold of each point (score >= threshold is positive); the first is +Infinity. */
  thresholds: number[];
}

/** ROC curve points for plotting (Plotly scatter of fpr vs tpr). */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): RocCurve {
  if (scores.length !== labels.length) throw new MetricError(`${scores.length} scores but ${labels.length} labels`);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let nPos = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]) nPos++;
  const nNeg = labels.length - nPos;
  const curve: RocCurve = { fpr: [0], tpr: [0], thresholds: [Infinity] };
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < order.length; i++) {
    if (labels[order[i]]) tp++;
    else fp++;
    if (i + 1 === order.length || scores[order[i + 1]] !== scores[order[i]]) {
      curve.fpr.push(nNeg ? fp / nNeg : 0);
      curve.tpr.push(nPos ? tp / nPos : 0);
      curve.thresholds.push(scores[order[i]]);
    }
  }
  return curve;
}
