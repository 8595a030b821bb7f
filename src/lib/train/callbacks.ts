import { createHandle, inKernel, progress, type DisplayHandle, type Progress } from '../../viz/display-core';
import { trainingCurvesFigure, type StepLoss } from '../../viz/figures/training';
import type { EpochRecord } from './history';
import type { TrainerCallbacks } from './trainer';

export interface ProgressCallbackOptions {
  label?: string;
  /** In a notebook: redraw the live loss curve every this many steps (and at every epoch end). Default 10. */
  plotEvery?: number;
  /** Force the live plot on or off (default: on inside a kernel). */
  livePlot?: boolean;
  /** Where epoch summary lines go outside a kernel (default: stderr). */
  log?: (line: string) => void;
}

/**
 * The trainer's display: a progress bar per epoch with loss and lr (updates in place in a
 * notebook, prints lines in a terminal), a live Plotly loss curve in a notebook, and one summary
 * line per epoch.
 */
export function progressCallbacks(opts: ProgressCallbackOptions = {}): TrainerCallbacks & { steps: StepLoss[] } {
  const live = opts.livePlot ?? inKernel();
  const plotEvery = opts.plotEvery ?? 10;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const steps: StepLoss[] = [];
  let history: readonly EpochRecord[] = [];
  let bar: Progress | undefined;
  let plot: DisplayHandle | undefined;
  let total = 0;
  let epochs = 0;
  let running = 0;
  let count = 0;
  let checkpoint: string | undefined;

  const redraw = () => plot?.plot(trainingCurvesFigure(history, steps, opts.label ?? 'training'));

  return {
    steps,
    onTrainStart(info) {
      total = info.batchesPerEpoch ?? 0;
      epochs = info.epochs;
      if (live) plot = createHandle();
      if (info.resumedFrom) log(`resumed from ${info.resumedFrom} (epoch ${info.startEpoch} of ${info.epochs} done)`);
    },
    onEpochStart(info) {
      bar = progress(total, { label: `${opts.label ? `${opts.label} ` : ''}epoch ${info.epoch}/${info.epochs}` });
      running = 0;
      count = 0;
    },
    onBatchEnd(info) {
      steps.push({ step: info.step, loss: info.loss });
      running += info.loss;
      count += 1;
      bar?.update(info.batch, { loss: running / count, lr: info.lr });
      if (plot && info.step % plotEvery === 0) redraw();
    },
    onEpochEnd(record, all) {
      history = all;
      bar?.done({ loss: record.trainLoss, lr: record.lr });
      redraw();
      if (!live) log(formatEpoch(record, epochs) + (checkpoint ? ` -> ${checkpoint}` : ''));
      checkpoint = undefined;
    },
    onCheckpoint(dir) {
      checkpoint = dir;
    },
  };
}

/** `epoch 3/10 train_loss=0.4123 val_loss=0.3988 valDice=0.612 lr=1.0e-3 (12.3 s)` */
export function formatEpoch(r: EpochRecord, epochs: number): string {
  const parts = [`epoch ${r.epoch}/${epochs}`, `train_loss=${r.trainLoss.toFixed(4)}`];
  if (r.valLoss !== undefined) parts.push(`val_loss=${r.valLoss.toFixed(4)}`);
  for (const [k, v] of Object.entries(r.metrics ?? {})) parts.push(`${k}=${v.toFixed(3)}`);
  parts.push(`lr=${r.lr.toExponential(1)}`, `(${r.seconds.toFixed(1)} s)`);
  return parts.join(' ');
}
