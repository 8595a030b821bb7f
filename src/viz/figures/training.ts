import type { PlotlyFigure } from '../display';
import type { EpochRecord } from '../../lib/train/history';

/** One optimizer step's loss, for the fine-grained curve. */
export interface StepLoss {
  step: number;
  loss: number;
}

/**
 * Loss curves against optimizer steps: per-step training loss (thin), per-epoch mean training
 * and validation loss (markers), and validation metrics (e.g. valDice) on a right-hand axis.
 */
export function trainingCurvesFigure(history: readonly EpochRecord[], steps: readonly StepLoss[] = [], title = 'training'): PlotlyFigure {
  const data: unknown[] = [];
  if (steps.length) {
    data.push({
      type: 'scatter',
      mode: 'lines',
      name: 'train loss (step)',
      x: steps.map((s) => s.step),
      y: steps.map((s) => s.loss),
      line: { width: 1, color: 'rgba(31,119,180,0.35)' },
    });
  }
  const epochX = history.map((r) => r.step);
  const epochText = history.map((r) => `epoch ${r.epoch}, lr ${r.lr.toExponential(2)}`);
  data.push({ type: 'scatter', mode: 'lines+markers', name: 'train loss', x: epochX, y: history.map((r) => r.trainLoss), text: epochText, line: { color: '#1f77b4' } });
  if (history.some((r) => r.valLoss !== undefined)) {
    data.push({ type: 'scatter', mode: 'lines+markers', name: 'val loss', x: epochX, y: history.map((r) => r.valLoss ?? null), text: epochText, line: { color: '#ff7f0e' } });
  }
  const metricNames = [...new Set(history.flatMap((r) => Object.keys(r.metrics ?? {})))];
  for (const name of metricNames) {
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      name,
      x: epochX,
      y: history.map((r) => r.metrics?.[name] ?? null),
      yaxis: 'y2',
      line: { dash: 'dot' },
    });
  }
  const layout: Record<string, unknown> = {
    title: { text: title },
    xaxis: { title: { text: 'optimizer step' } },
    yaxis: { title: { text: 'loss' } },
    legend: { orientation: 'h', y: -0.2 },
    margin: { t: 40, r: 60 },
    height: 360,
  };
  if (metricNames.length) layout.yaxis2 = { title: { text: 'metric' }, overlaying: 'y', side: 'right', range: [0, 1] };
  return { data, layout };
}

/** Learning rate per epoch (to check a schedule at a glance). */
export function learningRateFigure(history: readonly EpochRecord[]): PlotlyFigure {
  return {
    data: [{ type: 'scatter', mode: 'lines+markers', name: 'lr', x: history.map((r) => r.epoch), y: history.map((r) => r.lr) }],
    layout: { title: { text: 'learning rate' }, xaxis: { title: { text: 'epoch' } }, yaxis: { title: { text: 'lr' }, type: 'log' }, height: 300 },
  };
}

/** Train and validation loss per epoch (the Mask R-CNN seed's curves), epochs on the x axis. */
export function epochLossFigure(history: readonly EpochRecord[], title = 'loss per epoch'): PlotlyFigure {
  const x = history.map((r) => r.epoch);
  const data: unknown[] = [{ type: 'scatter', mode: 'lines+markers', name: 'train loss', x, y: history.map((r) => r.trainLoss) }];
  if (history.some((r) => r.valLoss !== undefined)) data.push({ type: 'scatter', mode: 'lines+markers', name: 'validation loss', x, y: history.map((r) => r.valLoss ?? null) });
  return { data, layout: { title: { text: title }, xaxis: { title: { text: 'epoch' }, dtick: 1 }, yaxis: { title: { text: 'loss' } }, height: 340 } };
}
