import { ConfigError } from '../errors';
import { connectedComponents } from './components';
import { readMasks } from './npy';
import type { ScanResult } from './scan';
import { maskChannel, type Problem, type Sample } from './types';

/** Colour mode from the channel count, as the competition's statistics name them. */
export type ImageMode = 'grey' | 'grey+alpha' | 'RGB' | 'RGBA' | 'other';

export function imageMode(channels: number): ImageMode {
  return channels === 1 ? 'grey' : channels === 2 ? 'grey+alpha' : channels === 3 ? 'RGB' : channels === 4 ? 'RGBA' : 'other';
}

/** One row per image: the EDA table (snake_case, as the CLI's JSON and the DataFrame columns). */
export interface EdaRow {
  id: string;
  /** File stem, the twin key: an authentic and a forged image of one figure share it (the id when the scan gives no stem). */
  stem: string;
  split: string;
  label: string;
  width: number;
  height: number;
  megapixels: number;
  channels: number;
  mode: ImageMode;
  bit_depth: number;
  format: string;
  bytes: number;
  /** Copy-move events = mask channels (each: a source and its copies); 0 for authentic and unlabelled images. */
  n_events: number;
  /** Forged pixels (union of the events) / image pixels; null when mask data was not read. */
  forged_area_fraction: number | null;
  /** Forged pixels per event; null when mask data was not read. */
  event_areas: number[] | null;
  /** 8-connected parts of each event (a source and two copies apart: 3); null when mask data was not read. */
  parts_per_event: number[] | null;
}

export const EDA_COLUMNS: Array<keyof EdaRow> = [
  'id', 'stem', 'split', 'label', 'width', 'height', 'megapixels', 'channels', 'mode', 'bit_depth', 'format', 'bytes',
  'n_events', 'forged_area_fraction', 'event_areas', 'parts_per_event',
];

export interface EdaRowOptions {
  /**
   * Count the connected parts of every event (reads each mask file again, one at a time). Default:
   * true when the scan read mask data (verify 'masks' or 'full'); parts stay null otherwise.
   */
  parts?: boolean;
}

/** EDA rows from a scan run at verify 'header' or deeper (areas and parts need 'masks'). */
export function edaRows(result: ScanResult, opts: EdaRowOptions = {}): EdaRow[] {
  return result.samples.map((s) => {
    const d = result.details.get(s.imagePath);
    if (!d) throw new ConfigError(`no header details for ${s.imagePath}: scan with verify 'header' or deeper`);
    const { image, mask } = d;
    const pixels = image.width * image.height;
    const maskRead = mask?.areas !== undefined;
    return {
      id: s.id,
      stem: (s as Sample & { stem?: string }).stem ?? s.id,
      split: s.split,
      label: s.label,
      width: image.width,
      height: image.height,
      megapixels: pixels / 1e6,
      channels: image.channels,
      mode: imageMode(image.channels),
      bit_depth: image.bitDepth,
      format: image.format,
      bytes: image.bytes,
      n_events: mask?.count ?? 0,
      forged_area_fraction: mask ? (mask.unionArea === undefined ? null : mask.unionArea / pixels) : 0,
      event_areas: mask ? mask.areas ?? null : [],
      parts_per_event: !mask ? [] : maskRead && opts.parts !== false && s.maskPath ? partsPerEvent(s.maskPath, image.height, image.width) : null,
    };
  });
}

/** 8-connected parts of each mask channel of one .npy file (the only mask held in memory). */
export function partsPerEvent(maskPath: string, height: number, width: number): number[] {
  const masks = readMasks(maskPath, { height, width });
  const parts: number[] = [];
  for (let c = 0; c < masks.count; c++) parts.push(connectedComponents(maskChannel(masks, c), masks.height, masks.width).count);
  return parts;
}

// danfojs loads tfjs: required on first use only, so the CLI's JSON path stays light.
type Danfo = typeof import('danfojs-node');
let danfo: Danfo | undefined;
function dfd(): Danfo {
  if (!danfo) danfo = require('danfojs-node') as Danfo;
  return danfo;
}

const LIST_COLUMNS = new Set<keyof EdaRow>(['event_areas', 'parts_per_event']);

/**
 * The EDA table as a danfojs DataFrame, one row per image. `event_areas` and `parts_per_event`
 * become strings ("120;45", "" when not read) because DataFrame cells hold scalars; a missing
 * number is NaN.
 */
export function edaFrame(rows: readonly EdaRow[]): InstanceType<Danfo['DataFrame']> {
  const columns: Record<string, Array<string | number>> = {};
  for (const c of EDA_COLUMNS) columns[c] = [];
  for (const r of rows) {
    for (const c of EDA_COLUMNS) {
      const v = r[c];
      columns[c].push(Array.isArray(v) ? v.join(';') : v === null ? (LIST_COLUMNS.has(c) ? '' : NaN) : (v as string | number));
    }
  }
  return new (dfd().DataFrame)(columns);
}

/** describe() of the numeric columns (count, mean, std, min, median, max ...), as a DataFrame. */
export function describeEda(rows: readonly EdaRow[]): InstanceType<Danfo['DataFrame']> {
  const numeric = ['width', 'height', 'megapixels', 'channels', 'bit_depth', 'bytes', 'n_events', 'forged_area_fraction'];
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
