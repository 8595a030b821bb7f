import * as fs from 'fs';
import * as path from 'path';
import { MetricError } from '../errors';
import { writeFileAtomic } from '../util/atomic';
import { csvField, parseCsv, requireColumns } from '../metrics/csv';
import { AUTHENTIC, parseRuns, splitAnnotation } from '../metrics/rle';

/** One submission row: `case_id` is the image file stem, `annotation` an RLE string or `authentic`. */
export interface SubmissionRow {
  caseId: string;
  annotation: string;
}

/** case_id of an image file: its name without folder and extension (`imgs/10017.png` -> `10017`). */
export function caseIdOf(imagePath: string): string {
  return path.basename(imagePath, path.extname(imagePath));
}

/** CSV text `case_id,annotation`, annotations quoted (they contain commas). Rejects duplicate ids. */
export function formatSubmission(rows: readonly SubmissionRow[]): string {
  const seen = new Set<string>();
  const lines = ['case_id,annotation'];
  for (const r of rows) {
    if (seen.has(r.caseId)) throw new MetricError(`duplicate case_id '${r.caseId}' in submission rows`);
    seen.add(r.caseId);
    lines.push(`${csvField(r.caseId)},${csvField(r.annotation)}`);
  }
  return lines.join('\n') + '\n';
}

/** Write a submission atomically: a crash mid-write never leaves a half-written file. */
export function writeSubmission(file: string, rows: readonly SubmissionRow[]): void {
  writeFileAtomic(file, formatSubmission(rows));
}

/**
 * Read and validate a submission: columns case_id and annotation, unique non-empty ids, every
 * annotation `authentic` or `;`-joined valid RLE lists (syntax, order, overlap; the image shape is
 * checked later, against the truth). Errors name the file and line.
 */
export function readSubmission(file: string): Map<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new MetricError(`cannot read submission: ${(err as Error).message}`, file);
  }
  const { header, rows, lines } = parseCsv(text, file);
  requireColumns(header, ['case_id', 'annotation'], file);
  const out = new Map<string, string>();
  rows.forEach((row, k) => {
    const where = `${file}: line ${lines[k]}`;
    const id = row.case_id.trim();
    const annotation = row.annotation.trim();
    if (!id) throw new MetricError('empty case_id', where);
    if (out.has(id)) throw new MetricError(`duplicate case_id '${id}'`, where);
    if (!annotation) throw new MetricError(`empty annotation for case_id '${id}' (write '${AUTHENTIC}' for none)`, where);
    splitAnnotation(annotation).forEach((part, i) => parseRuns(part, `${where} (case_id ${id}, instance ${i + 1})`));
    out.set(id, annotation);
  });
  return out;
}
