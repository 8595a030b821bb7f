/**
 * The per-row breakdown that explains an oF1 (`ScoreBreakdown`), as one table: a measure a row,
 * one column per evaluation (a predictor beside the all-authentic baseline, say).
 */
import type { Evaluation } from '../lib/metrics/evaluate';
import { table as displayTable } from './display';
import { renderTable, tableText, type TableOptions } from './table';

/** One evaluation (column "value") or several by name (one column each). */
export type BreakdownInput = Evaluation | Readonly<Record<string, Evaluation>>;

const MEASURES: ReadonlyArray<[string, (e: Evaluation) => number]> = [
  ['authentic rows', (e) => e.n_authentic],
  ['forged rows', (e) => e.n_forged],
  ['oF1 (the score: mean over rows)', (e) => e.of1],
  ["oF1 had each image's instances been merged", (e) => e.of1_merged],
  ['mean oF1, forged rows', (e) => e.of1_forged],
  ['mean oF1, authentic rows', (e) => e.of1_authentic],
  ['authentic rows kept clean (exactly authentic)', (e) => e.n_authentic_clean],
  ['authentic rows kept clean, share', (e) => e.authentic_clean_share],
  ['authentic false-alarm rate', (e) => e.authentic_false_alarm_rate],
  ['forged rows with a prediction', (e) => e.n_forged_detected],
  ['forged rows with a prediction, share', (e) => e.forged_detected_share],
  ['instances per forged image: predicted', (e) => e.mean_pred_instances_forged],
  ['instances per forged image: true', (e) => e.mean_true_instances_forged],
  ['instances per detected forged image: predicted', (e) => e.mean_pred_instances_detected],
  ['instances per detected forged image: true', (e) => e.mean_true_instances_detected],
];

function isEvaluation(x: BreakdownInput): x is Evaluation {
  return typeof (x as Evaluation).of1 === 'number' && Array.isArray((x as Evaluation).per_image);
}

/** Records { measure, <name>: value, ... }; an undefined value (NaN) is null. */
export function breakdownRows(input: BreakdownInput): Array<Record<string, string | number | null>> {
  const named: Array<[string, Evaluation]> = isEvaluation(input) ? [['value', input]] : Object.entries(input);
  return MEASURES.map(([measure, get]) => {
    const row: Record<string, string | number | null> = { measure };
    for (const [name, e] of named) {
      const v = get(e);
      row[name] = Number.isFinite(v) ? v : null;
    }
    return row;
  });
}

export function breakdownHtml(input: BreakdownInput, opts: TableOptions = {}): string {
  return renderTable(breakdownRows(input), { caption: 'Score breakdown', ...opts });
}

export function breakdownText(input: BreakdownInput, opts: TableOptions = {}): string {
  return tableText(breakdownRows(input), opts);
}

/** Show the breakdown in a notebook (HTML with a text fallback): `showBreakdown({ classical: e, 'all authentic': base })`. */
export function showBreakdown(input: BreakdownInput, opts: TableOptions = {}): void {
  displayTable(breakdownRows(input), { caption: 'Score breakdown', ...opts });
}
