import { ConfigError } from '../errors';
import type { ScanResult } from './scan';
import type { Problem } from './types';

/** One row per image: the EDA table (snake_case, as the CLI's JSON and the DataFrame columns). */
export interface EdaRow {
  id: string;
  split: string;
  label: string;
  width: number;
  height: number;
  channels: number;
  bit_depth: number;
  format: string;
  bytes: number;
  /** 0 for authentic and unlabelled images. */
  n_instances: number;
  /** Forged pixels (union of instances) / image pixels; null when mask data was not read. */
  forged_area_fraction: number | null;
  /** Forged pixels per instance; null when mask data was not read. */
  instance_areas: number[] | null;
}

export const EDA_COLUMNS: Array<keyof EdaRow> = [
  'id', 'split', 'label', 'width', 'height', 'channels', 'bit_depth', 'format', 'bytes',
  'n_instances', 'forged_area_fraction', 'instance_areas',
];

/** EDA rows from a scan run at verify 'header' or deeper (areas need 'masks'). */
export function edaRows(result: ScanResult): EdaRow[] {
  return result.samples.map((s) => {
    const d = result.details.get(s.imagePath);
    if (!d) throw new ConfigError(`no header details for ${s.imagePath}: scan with verify 'header' or deeper`);
    const { image, mask } = d;
    const pixels = image.width * image.height;
    const areas = mask ? mask.areas ?? null : [];
    return {
      id: s.id,
      split: s.split,
      label: s.label,
      width: image.width,
      height: image.height,
      channels: image.channels,
      bit_depth: image.bitDepth,
      format: image.format,
      bytes: image.bytes,
      n_instances: mask?.count ?? 0,
      forged_area_fraction: mask ? (mask.unionArea === undefined ? null : mask.unionArea / pixels) : 0,
      instance_areas: areas,
    };
  });
}

// danfojs loads tfjs: required on first use only, so the CLI's JSON path stays light.
type Danfo = typeof import('danfojs-node');
let danfo: Danfo | undefined;
function dfd(): Danfo {
  if (!danfo) danfo = require('danfojs-node') as Danfo;
  return danfo;
}

/**
 * The EDA table as a danfojs DataFrame, one row per image. `instance_areas` becomes a string
 * ("120;45") because DataFrame cells hold scalars; a missing value is NaN.
 */
export function edaFrame(rows: readonly EdaRow[]): InstanceType<Danfo['DataFrame']> {
  const columns: Record<string, Array<string | number>> = {};
  for (const c of EDA_COLUMNS) columns[c] = [];
  for (const r of rows) {
    for (const c of EDA_COLUMNS) {
      const v = r[c];
      columns[c].push(c === 'instance_areas' ? (v === null ? '' : (v as number[]).join(';')) : v === null ? NaN : (v as string | number));
    }
  }
  return new (dfd().DataFrame)(columns);
}

/** describe() of the numeric columns (count, mean, std, min, median, max ...), as a DataFrame. */
export function describeEda(rows: readonly EdaRow[]): InstanceType<Danfo['DataFrame']> {
  const numeric = ['width', 'height', 'channels', 'bit_depth', 'bytes', 'n_instances', 'forged_area_fraction'];
  return edaFrame(rows).loc({ columns: numeric }).describe();
}

/** Images per split and label, as records. */
export function labelCounts(rows: readonly EdaRow[]): Array<{ split: string; label: string; images: number; share: number }> {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(`${r.split}\u0000${r.label}`, (counts.get(`${r.split}\u0000${r.label}`) ?? 0) + 1);
  return [...counts].map(([key, images]) => {
    const [split, label] = key.split('\u0000');
    return { split, label, images, share: images / rows.length };
  });
}

/** The most common image sizes (a Kaggle-style size table): width, height, images, share. */
export function topImageSizes(rows: readonly EdaRow[], top = 10): Array<{ width: number; height: number; images: number; share: number }> {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(`${r.width}x${r.height}`, (counts.get(`${r.width}x${r.height}`) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0], 'en', { numeric: true }))
    .slice(0, top)
    .map(([key, images]) => {
      const [width, height] = key.split('x').map(Number);
      return { width, height, images, share: images / rows.length };
    });
}

/** Problems per kind with one example file each. */
export function problemCounts(problems: readonly Problem[]): Array<{ kind: string; count: number; example: string }> {
  const byKind = new Map<string, { count: number; example: string }>();
  for (const p of problems) {
    const e = byKind.get(p.kind);
    if (e) e.count++;
    else byKind.set(p.kind, { count: 1, example: `${p.file}: ${p.reason}` });
  }
  return [...byKind].map(([kind, e]) => ({ kind, ...e })).sort((a, b) => b.count - a.count);
}
