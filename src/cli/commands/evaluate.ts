import type { Command } from '../command';
import { flag, optStr, str, UsageError } from '../command';
import { readSubmission } from '../../lib/infer/submission';
import { evaluateSubmission, evaluationSummary, SCORE_BREAKDOWN_KEYS, truthForSubmission, type Evaluation } from '../../lib/metrics/evaluate';
import type { Split } from '../../lib/data/types';
import { readSolutionCsv, truthFromDataset } from '../../lib/metrics/solution';
import { breakdownText } from '../../viz/score-breakdown';
import { initBackend } from '../../lib/backend/index';
import { scan } from '../../lib/data/scan';
import { DatasetError } from '../../lib/errors';
import { validatePredictor } from '../../lib/eval/validate';
import { loadPredictorFromRun } from '../../lib/infer/run';
import { checkInputDir } from '../../lib/util/checkpath';

const SPLITS: readonly Split[] = ['train', 'supplemental', 'test'];

/** Human-readable summary: one metric a line, then the score breakdown as a table. */
export function formatEvaluation(e: Evaluation): string {
  const breakdown = new Set<string>(SCORE_BREAKDOWN_KEYS);
  const s = Object.entries(evaluationSummary(e)).filter(([k]) => !breakdown.has(k));
  const fmt = (v: number | null, k: string) => (v === null ? 'n/a' : k.startsWith('n_') ? String(v) : v.toFixed(4));
  const width = Math.max(...s.map(([k]) => k.length));
  const metrics = s.map(([k, v]) => `${k.padEnd(width)}  ${fmt(v, k)}`).join('\n');
  return `${metrics}\n\n${breakdownText(e, { caption: 'score breakdown (blank: no such rows)' })}`;
}

/** One line per image: CaCL-Net's per-image pixel F1 and AUC (n/a where undefined). */
export function perImageText(e: Evaluation): string {
  const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'n/a');
  const width = Math.max(7, ...e.per_image.map((r) => r.case_id.length));
  const rows = e.per_image.map((r) => `${r.case_id.padEnd(width)}  ${fmt(r.pixel_f1).padStart(9)}  ${fmt(r.pixel_auc).padStart(9)}`);
  return [`${'case_id'.padEnd(width)}  ${'pixel_f1'.padStart(9)}  ${'pixel_auc'.padStart(9)}`, ...rows].join('\n');
}

/** --run R --data DIR: the run's predictor over the labelled images, scored with probability maps (pixel AUC). */
async function evaluateRun(runDir: string, data: string, split: Split | undefined): Promise<Evaluation> {
  checkInputDir(runDir, '--run');
  checkInputDir(data, '--data');
  await initBackend();
  const predictor = await loadPredictorFromRun(runDir);
  try {
    const { samples } = await scan(data);
    const labelled = samples.filter((s) => s.label !== 'unknown' && (split === undefined || s.split === split));
    if (labelled.length === 0) throw new DatasetError(`no labelled images${split ? ` in split '${split}'` : ''}`, data);
    return (await validatePredictor(predictor, labelled)).evaluation;
  } finally {
    predictor.dispose();
  }
}

function print(e: Evaluation, args: Parameters<Command['run']>[0]): void {
  const perImage = flag(args, 'per-image');
  if (flag(args, 'json')) {
    const rows = e.per_image.map((r) => ({ case_id: r.case_id, pixel_f1: finiteOrNull(r.pixel_f1), pixel_auc: finiteOrNull(r.pixel_auc) }));
    console.log(JSON.stringify(perImage ? { ...evaluationSummary(e), per_image: rows } : evaluationSummary(e)));
  } else {
    console.log(perImage ? `${formatEvaluation(e)}\n\n${perImageText(e)}` : formatEvaluation(e));
  }
}

const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);

export const evaluate: Command = {
  name: 'evaluate',
  usage: `usage: sifd evaluate (--data DIR [--split S] | --solution S.csv) --pred submission.csv [--json] [--per-image]
       sifd evaluate --run runs/R --data DIR [--split S] [--json] [--per-image]

Scores a submission (case_id,annotation) with the Kaggle oF1 and pixel metrics, or runs a trained
model (--run, its latest complete checkpoint) over a dataset's labelled images and scores its
events and probability maps: then pixel AUC too (pooled, and per image as CaCL-Net reports it).
The truth is either a dataset folder (its masks; authentic images have none) or a solution CSV
case_id,annotation,shape (shape = JSON [H, W]). Every truth image needs a row and the
submission may not name images the truth lacks.

options:
  --data DIR          dataset root (Kaggle layout or data/sample); truth = its labelled images
  --split S           with --data: score only this split (train, supplemental, test); default:
                      the splits the submission's case_ids fall in
  --solution FILE     solution CSV case_id,annotation,shape instead of --data
  --pred FILE         the submission CSV to score
  --run DIR           a training run folder instead of --pred (needs --data)
  --per-image         also list each image's pixel F1 and pixel AUC (JSON: the per_image rows)
  --json              print one JSON object (snake_case keys: of1, pixel_f1, dice_pos, dice_all,
                      iou_pos, iou_all, image_f1, n_images, n_forged, ... and the breakdown:
                      of1_merged, of1_forged, of1_authentic, n_authentic_clean,
                      authentic_false_alarm_rate, forged_detected_share,
                      mean_pred_instances_forged, mean_true_instances_detected, ...;
                      pixel_f1_image_mean and, with --run, pixel_auc, pixel_auc_image_mean) instead of a table
Metrics undefined for the data (e.g. dice_pos with no forged image) print as n/a, or null in JSON.`,
  options: {
    data: { type: 'string' },
    split: { type: 'string' },
    solution: { type: 'string' },
    pred: { type: 'string' },
    run: { type: 'string' },
    'per-image': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(args) {
    const data = optStr(args, 'data');
    const solution = optStr(args, 'solution');
    if ((data === undefined) === (solution === undefined)) throw new UsageError('give exactly one of --data DIR or --solution S.csv');
    const split = optStr(args, 'split');
    if (split !== undefined && !SPLITS.includes(split as Split)) throw new UsageError(`--split must be one of ${SPLITS.join(', ')}, got '${split}'`);
    if (split !== undefined && data === undefined) throw new UsageError('--split goes with --data');
    const runDir = optStr(args, 'run');
    if (runDir !== undefined) {
      if (optStr(args, 'pred') !== undefined) throw new UsageError('give --run or --pred, not both');
      if (data === undefined) throw new UsageError('--run needs --data DIR (the truth)');
      print(await evaluateRun(runDir, data, split as Split | undefined), args);
      return 0;
    }
    const predFile = str(args, 'pred');
    const submission = readSubmission(predFile);
    const truth =
      solution !== undefined
        ? readSolutionCsv(solution)
        : truthForSubmission(await truthFromDataset(data as string, split ? [split as Split] : undefined), submission);
    print(evaluateSubmission(truth, submission, predFile), args);
    return 0;
  },
};
