import type { Command } from '../command';
import { flag, optStr, str, UsageError } from '../command';
import { readSubmission } from '../../lib/infer/submission';
import { evaluateSubmission, evaluationSummary, SCORE_BREAKDOWN_KEYS, truthForSubmission, type Evaluation } from '../../lib/metrics/evaluate';
import type { Split } from '../../lib/data/types';
import { readSolutionCsv, truthFromDataset } from '../../lib/metrics/solution';
import { breakdownText } from '../../viz/score-breakdown';

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

export const evaluate: Command = {
  name: 'evaluate',
  usage: `usage: sifd evaluate (--data DIR [--split S] | --solution S.csv) --pred submission.csv [--json]

Scores a submission (case_id,annotation) with the Kaggle oF1 and pixel metrics.
The truth is either a dataset folder (its masks; authentic images have none) or a solution CSV
case_id,annotation,shape (shape = JSON [H, W]). Every truth image needs a row and the
submission may not name images the truth lacks.

options:
  --data DIR          dataset root (Kaggle layout or data/sample); truth = its labelled images
  --split S           with --data: score only this split (train, supplemental, test); default:
                      the splits the submission's case_ids fall in
  --solution FILE     solution CSV case_id,annotation,shape instead of --data
  --pred FILE         the submission CSV to score (required)
  --json              print one JSON object (snake_case keys: of1, pixel_f1, dice_pos, dice_all,
                      iou_pos, iou_all, image_f1, n_images, n_forged, ... and the breakdown:
                      of1_merged, of1_forged, of1_authentic, n_authentic_clean,
                      authentic_false_alarm_rate, forged_detected_share,
                      mean_pred_instances_forged, mean_true_instances_detected, ...) instead of a table
Metrics undefined for the data (e.g. dice_pos with no forged image) print as n/a, or null in JSON.`,
  options: {
    data: { type: 'string' },
    split: { type: 'string' },
    solution: { type: 'string' },
    pred: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(args) {
    const data = optStr(args, 'data');
    const solution = optStr(args, 'solution');
    if ((data === undefined) === (solution === undefined)) throw new UsageError('give exactly one of --data DIR or --solution S.csv');
    const predFile = str(args, 'pred');
    const split = optStr(args, 'split');
    if (split !== undefined && !SPLITS.includes(split as Split)) throw new UsageError(`--split must be one of ${SPLITS.join(', ')}, got '${split}'`);
    if (split !== undefined && data === undefined) throw new UsageError('--split goes with --data');
    const submission = readSubmission(predFile);
    const truth =
      solution !== undefined
        ? readSolutionCsv(solution)
        : truthForSubmission(await truthFromDataset(data as string, split ? [split as Split] : undefined), submission);
    const result = evaluateSubmission(truth, submission, predFile);
    console.log(flag(args, 'json') ? JSON.stringify(evaluationSummary(result)) : formatEvaluation(result));
    return 0;
  },
};
