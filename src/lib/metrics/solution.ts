import * as fs from 'fs';
import { MetricError } from '../errors';
import type { Masks } from '../data/types';
import type { TruthEntry } from './evaluate';
import { parseCsv, requireColumns } from './csv';
import { AUTHENTIC, decodeAnnotation, splitAnnotation, parseRuns } from './rle';

/**
 * Truth from a Kaggle-style solution CSV `case_id,annotation,shape`: shape is JSON `[H, W]`;
 * authentic rows may carry `authentic` (or nothing) as shape. Annotations are checked for syntax
 * here and decoded against the shape when an image is scored.
 */
export function readSolutionCsv(file: string): TruthEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new MetricError(`cannot read solution: ${(err as Error).message}`, file);
  }
  const { header, rows, lines } = parseCsv(text, file);
  requireColumns(header, ['case_id', 'annotation', 'shape'], file);
  const seen = new Set<string>();
  return rows.map((row, k) => {
    const where = `${file}: line ${lines[k]}`;
    const caseId = row.case_id.trim();
    const annotation = row.annotation.trim();
    if (!caseId) throw new MetricError('empty case_id', where);
    if (seen.has(caseId)) throw new MetricError(`duplicate case_id '${caseId}'`, where);
    seen.add(caseId);
    if (!annotation) throw new MetricError(`empty annotation for case_id '${caseId}'`, where);
    const shape = parseShape(row.shape.trim(), annotation === AUTHENTIC, where);
    splitAnnotation(annotation).forEach((part, i) => parseRuns(part, `${where} (instance ${i + 1})`));
    const masks = (): Masks =>
      shape ? decodeAnnotation(annotation, shape[0], shape[1], where) : { data: new Uint8Array(0), count: 0, height: 0, width: 0 };
    return { caseId, shape, masks, source: file };
  });
}

function parseShape(text: string, authentic: boolean, where: string): [number, number] | null {
  if (authentic && (text === '' || text === AUTHENTIC)) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isInteger(x) && x > 0)) {
    throw new MetricError(`shape must be a JSON [H, W] of positive integers, got '${text}'`, where);
  }
  return [v[0] as number, v[1] as number];
}
