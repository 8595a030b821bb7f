/**
 * PR and ROC curves of one detector: image level from each image's highest event score (0 when it
 * reports none), pixel level from the pooled histogram of its probability maps (when it has any).
 */
import type { PixelScoreHistogram } from '../metrics/pixel';
import { rocAuc, rocCurve } from '../metrics/roc';

export interface Curve {
  /** ROC: false / true positive rate; PR: recall / precision. Points from the strictest threshold down. */
  x: number[];
  y: number[];
}

export interface CurvePair {
  roc: Curve;
  pr: Curve;
  auc: number;
  /** Average precision: the area under the PR step curve (sum of precision x recall gained). */
  ap: number;
}

/**
 * PR points and average precision from cumulative (true, false) positive counts at each threshold, from
 * the strictest down: the part the image and the pixel curves share.
 */
function precisionRecall(counts: ReadonlyArray<{ tp: number; fp: number }>, nPos: number): { pr: Curve; ap: number } {
  const pr: Curve = { x: [], y: [] };
  let ap = 0;
  let lastRecall = 0;
  for (const { tp, fp } of counts) {
    const recall = nPos ? tp / nPos : 0;
    const precision = tp / (tp + fp);
    pr.x.push(recall);
    pr.y.push(precision);
    ap += (recall - lastRecall) * precision;
    lastRecall = recall;
  }
  return { pr, ap: nPos ? ap : NaN };
}

/** Image-level curves from (score, label) pairs: the PR points are rocCurve's, counted back from its rates. */
export function imageCurves(scores: readonly number[], labels: readonly number[]): CurvePair {
  const roc = rocCurve(scores, labels);
  const nPos = labels.filter((l) => l).length;
  const nNeg = labels.length - nPos;
  // rocCurve's first point is the empty threshold (+Infinity); each rate is a count over nPos / nNeg
  const counts = roc.tpr.slice(1).map((t, i) => ({ tp: Math.round(t * nPos), fp: Math.round(roc.fpr[i + 1] * nNeg) }));
  const { pr, ap } = precisionRecall(counts, nPos);
  return { roc: { x: roc.fpr, y: roc.tpr }, pr, auc: rocAuc(scores, labels), ap };
}

/** Pixel-level curves from a pooled score histogram (one point per non-empty bin, from the top bin down). */
export function pixelCurves(h: PixelScoreHistogram): CurvePair {
  const totalPos = h.pos.reduce((a, b) => a + b, 0);
  const totalNeg = h.neg.reduce((a, b) => a + b, 0);
  const roc: Curve = { x: [0], y: [0] };
  const counts: Array<{ tp: number; fp: number }> = [];
  let tp = 0;
  let fp = 0;
  for (let k = h.bins - 1; k >= 0; k--) {
    if (!h.pos[k] && !h.neg[k]) continue;
    tp += h.pos[k];
    fp += h.neg[k];
    roc.x.push(totalNeg ? fp / totalNeg : 0);
    roc.y.push(totalPos ? tp / totalPos : 0);
    counts.push({ tp, fp });
  }
  const { pr, ap } = precisionRecall(counts, totalPos);
  return { roc, pr, auc: h.rocAuc(), ap };
}

/** A Plotly figure of one kind of curve for several detectors. */
export function curvesFigure(
  curves: ReadonlyArray<{ name: string; curve: CurvePair }>,
  kind: 'roc' | 'pr',
  title: string,
): { data: unknown[]; layout: Record<string, unknown> } {
  const data: unknown[] = curves.map(({ name, curve }) => ({
    type: 'scatter',
    mode: 'lines',
    line: { shape: kind === 'pr' ? 'hv' : 'linear' },
    name: `${name} (${kind === 'roc' ? `AUC ${fmt(curve.auc)}` : `AP ${fmt(curve.ap)}`})`,
    x: curve[kind].x,
    y: curve[kind].y,
  }));
  if (kind === 'roc') data.push({ type: 'scatter', mode: 'lines', name: 'chance', x: [0, 1], y: [0, 1], line: { dash: 'dash', color: 'grey' } });
  return {
    data,
    layout: {
      title: { text: title },
      xaxis: { title: { text: kind === 'roc' ? 'false positive rate' : 'recall' }, range: [0, 1] },
      yaxis: { title: { text: kind === 'roc' ? 'true positive rate' : 'precision' }, range: [0, 1.02] },
      height: 380,
      legend: { orientation: 'h', y: -0.25 },
    },
  };
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toFixed(3) : 'n/a';
}
