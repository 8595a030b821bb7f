import * as fs from 'fs';
import { MetricError } from '../errors';
import type { Masks, Split } from '../data/types';
import { scan } from '../data/scan';
import { imageInfo } from '../data/image-io';
import { readMasks } from '../data/npy';
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

/**
 * Truth from a dataset folder (Kaggle layout or the synthetic sample): every labelled image,
 * forged ones with their .npy masks, authentic ones empty at their header size. `splits` limits
 * it (e.g. ['test']); unlabelled images without masks are not truth and are skipped. Scan
 * problems (a corrupt file, a mask without its image) go to `warn`: such files are not truth, and
 * a submission row for one fails later as a case_id the truth lacks.
 */
export async function truthFromDataset(
  root: string,
  splits?: readonly Split[],
  warn: (msg: string) => void = (m) => console.warn(m),
): Promise<TruthEntry[]> {
  const { samples, problems, details } = await scan(root);
  for (const p of problems) warn(`warning: ${p.file}: ${p.kind}: ${p.reason}`);
  const out: TruthEntry[] = [];
  const seen = new Map<string, string>();
  for (const s of samples) {
    if (splits && !splits.includes(s.split)) continue;
    if (s.label === 'unknown' && !s.maskPath) continue;
    const previous = seen.get(s.id);
    if (previous) throw new MetricError(`case_id '${s.id}' names two images: ${previous} and ${s.imagePath}`, root);
    seen.set(s.id, s.imagePath);
    const info = details.get(s.imagePath)?.image ?? (await imageInfo(s.imagePath));
    const shape: [number, number] = [info.height, info.width];
    const maskPath = s.maskPath;
    const masks = (): Masks =>
      maskPath ? readMasks(maskPath, { height: info.height, width: info.width }) : { data: new Uint8Array(0), count: 0, height: info.height, width: info.width };
    out.push({ caseId: s.id, shape, masks, source: maskPath ?? s.imagePath, split: s.split });
  }
  if (out.length === 0) throw new MetricError(`no labelled images${splits ? ` in split(s) ${splits.join(', ')}` : ''}`, root);
  return out;
}
