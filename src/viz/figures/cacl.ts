import type { PlotlyFigure } from '../display';
import type { PixelScoreHistogram } from '../../lib/metrics/pixel';

/** One training step's loss terms (models/deeplab: DeeplabTerms) and the weighted total. */
export interface TermStep {
  step: number;
  loss: number;
  seg: number;
  contour: number;
  contrast: number;
}

/** CaCL-Net's training curves: the total loss and each term (segmentation, contour BCE, contrastive) per step. */
export function lossTermsFigure(steps: readonly TermStep[], title = 'loss terms'): PlotlyFigure {
  const x = steps.map((s) => s.step);
  const line = (name: string, y: number[], extra: Record<string, unknown> = {}) => ({ type: 'scatter', mode: 'lines', name, x, y, ...extra });
  return {
    data: [
      line('total (weighted)', steps.map((s) => s.loss), { line: { width: 2 } }),
      line('segmentation (ce/focal)', steps.map((s) => s.seg)),
      line('contour BCE', steps.map((s) => s.contour)),
      line('contour contrastive', steps.map((s) => s.contrast), { yaxis: 'y2', line: { dash: 'dot' } }),
    ],
    layout: {
      title: { text: title },
      xaxis: { title: { text: 'optimizer step' } },
      yaxis: { title: { text: 'loss' } },
      yaxis2: { title: { text: 'contrastive' }, overlaying: 'y', side: 'right' },
      legend: { orientation: 'h', y: -0.2 },
      height: 360,
    },
  };
}

/** The pixel ROC curve of pooled score histograms: one point per threshold k/bins, from the highest down. */
export function rocFigure(curves: ReadonlyArray<{ name: string; histogram: PixelScoreHistogram }>, title = 'pixel ROC'): PlotlyFigure {
  const data: unknown[] = curves.map(({ name, histogram: h }) => {
    const totalPos = h.pos.reduce((a, b) => a + b, 0);
    const totalNeg = h.neg.reduce((a, b) => a + b, 0);
    const fpr = [0];
    const tpr = [0];
    let tp = 0;
    let fp = 0;
    for (let k = h.bins - 1; k >= 0; k--) {
      tp += h.pos[k];
      fp += h.neg[k];
      if (h.pos[k] || h.neg[k]) {
        fpr.push(totalNeg ? fp / totalNeg : 0);
        tpr.push(totalPos ? tp / totalPos : 0);
      }
    }
    return { type: 'scatter', mode: 'lines', name: `${name} (AUC ${h.rocAuc().toFixed(3)})`, x: fpr, y: tpr };
  });
  data.push({ type: 'scatter', mode: 'lines', name: 'chance', x: [0, 1], y: [0, 1], line: { dash: 'dash', color: 'grey' } });
  return {
    data,
    layout: {
      title: { text: title },
      xaxis: { title: { text: 'false positive rate' }, range: [0, 1] },
      yaxis: { title: { text: 'true positive rate' }, range: [0, 1] },
      height: 380,
      width: 460,
    },
  };
}
