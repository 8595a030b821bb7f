/**
 * The dataset statistics the competition's data is described by (events per image, forged-area
 * fraction, sizes, colour modes, parts per event, twins), and one table setting them beside the
 * real competition's numbers (`COMPETITION_REFERENCE`).
 */
import { COMPETITION_REFERENCE as REF } from './competition-reference';
import type { EdaRow, ImageMode } from './eda';

/** Linear-interpolation quantiles (numpy's default), over the values present. */
export interface Quantiles {
  n: number;
  min: number;
  p10: number;
  p25: number;
  median: number;
  p75: number;
  p90: number;
  max: number;
}

/** Snake_case, as `sifd eda --json` writes it. Counts; shares are in the comparison. */
export interface EdaSummary {
  images: number;
  forged: number;
  authentic: number;
  unlabelled: number;
  /** Forged images per event count (mask channels), keys "1".."5" always, others when present. */
  event_counts: Record<string, number>;
  /** Forged-area fraction over forged images whose masks were read; null when none were. */
  area_fraction: Quantiles | null;
  /** Over every image. */
  width: Quantiles | null;
  height: Quantiles | null;
  megapixels: Quantiles | null;
  /** Images per label and colour mode: { forged: { RGB: 12, RGBA: 3, grey: 1 }, ... }. */
  modes: Record<string, Partial<Record<ImageMode, number>>>;
  /** Events per number of 8-connected parts: { "1": 4, "2": 30, ... }; empty when masks were not read. */
  parts_per_event: Record<string, number>;
  /** Stems (within a split) with both labels, with a forged image only, with an authentic image only. */
  /** Over the training split (the competition's twin numbers are of its training images; test images come single). */
  twins: { pairs: number; forged_only: number; authentic_only: number; forged: number; authentic: number };
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

export function quantiles(values: readonly number[]): Quantiles | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    min: s[0],
    p10: quantile(s, 0.1),
    p25: quantile(s, 0.25),
    median: quantile(s, 0.5),
    p75: quantile(s, 0.75),
    p90: quantile(s, 0.9),
    max: s[s.length - 1],
  };
}

function bump(counts: Record<string, number>, key: string | number): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

export function edaSummary(rows: readonly EdaRow[]): EdaSummary {
  const forged = rows.filter((r) => r.label === 'forged');
  const eventCounts: Record<string, number> = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
  for (const r of forged) bump(eventCounts, r.n_events);
  const modes: EdaSummary['modes'] = {};
  for (const r of rows) {
    const m = (modes[r.label] ??= {});
    m[r.mode] = (m[r.mode] ?? 0) + 1;
  }
  const parts: Record<string, number> = {};
  for (const r of forged) for (const p of r.parts_per_event ?? []) bump(parts, p);
  return {
    images: rows.length,
    forged: forged.length,
    authentic: rows.filter((r) => r.label === 'authentic').length,
    unlabelled: rows.filter((r) => r.label !== 'forged' && r.label !== 'authentic').length,
    event_counts: eventCounts,
    area_fraction: quantiles(forged.flatMap((r) => (r.forged_area_fraction === null ? [] : [r.forged_area_fraction]))),
    width: quantiles(rows.map((r) => r.width)),
    height: quantiles(rows.map((r) => r.height)),
    megapixels: quantiles(rows.map((r) => r.megapixels)),
    modes,
    parts_per_event: parts,
    twins: twinCounts(rows.filter((r) => r.split === 'train')),
  };
}

/** Twins share a stem within a split: one authentic and one forged image of the same figure. */
export function twinCounts(rows: readonly EdaRow[]): EdaSummary['twins'] {
  const byStem = new Map<string, { authentic: boolean; forged: boolean }>();
  for (const r of rows) {
    if (r.label !== 'authentic' && r.label !== 'forged') continue;
    const key = `${r.split}\u0000${r.stem}`;
    const e = byStem.get(key) ?? { authentic: false, forged: false };
    e[r.label] = true;
    byStem.set(key, e);
  }
  const out = { pairs: 0, forged_only: 0, authentic_only: 0, forged: 0, authentic: 0 };
  for (const r of rows) if (r.label === 'forged' || r.label === 'authentic') out[r.label]++;
  for (const e of byStem.values()) {
    if (e.authentic && e.forged) out.pairs++;
    else if (e.forged) out.forged_only++;
    else out.authentic_only++;
  }
  return out;
}

/** One line of the comparison: this set's value beside the competition's (null where it has none). */
export interface ComparisonRow {
  statistic: string;
  this_set: number | null;
  competition: number | null;
}

const share = (n: number, of: number): number | null => (of > 0 ? n / of : null);
const finite = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : v);

/**
 * Every statistic of the summary beside the real competition's: shares for counts (a small set is
 * compared by proportions), the same quantiles for areas and sizes.
 */
export function edaComparison(s: EdaSummary): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  const add = (statistic: string, thisSet: number | null | undefined, competition: number | null | undefined) =>
    rows.push({ statistic, this_set: finite(thisSet ?? undefined), competition: finite(competition ?? undefined) });

  const events = Object.keys(s.event_counts).map(Number).sort((a, b) => a - b);
  for (const n of events) add(`forged images with ${n} event${n === 1 ? '' : 's'} (share)`, share(s.event_counts[n], s.forged), share(REF.eventCounts[n] ?? 0, REF.forgedImages));

  for (const k of ['p10', 'p25', 'median', 'p75', 'p90', 'max'] as const) add(`forged-area fraction ${k}`, s.area_fraction?.[k], REF.areaFraction[k]);

  for (const dim of ['width', 'height'] as const) {
    for (const k of ['min', 'median', 'max'] as const) add(`${dim} ${k} (px)`, s[dim]?.[k], REF[dim][k]);
  }
  for (const k of ['p10', 'median', 'p90', 'max'] as const) add(`megapixels ${k}`, s.megapixels?.[k], REF.megapixels[k]);

  for (const label of ['forged', 'authentic']) {
    const counts = s.modes[label] ?? {};
    const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
    const ref = REF.modes[label];
    const refTotal = Object.values(ref).reduce((a, b) => a + b, 0);
    const modes = new Set<string>(['RGB', 'RGBA', 'grey', ...Object.keys(counts)]);
    for (const m of modes) add(`${label} ${m} (share)`, share(counts[m as ImageMode] ?? 0, total), share(ref[m] ?? 0, refTotal));
  }

  const partCounts = Object.entries(s.parts_per_event).map(([k, v]) => [Number(k), v] as const);
  const events_ = partCounts.reduce((a, [, v]) => a + v, 0);
  const partsIn = (lo: number, hi: number) => partCounts.filter(([k]) => k >= lo && k <= hi).reduce((a, [, v]) => a + v, 0);
  const { min, max } = REF.partsPerEvent;
  add('events with 1 part (share)', share(partsIn(1, 1), events_), null);
  add(`events with ${min}-${max} parts, the real masks' range (share)`, share(partsIn(min, max), events_), null);
  add(`events with more than ${max} parts (share)`, share(partsIn(max + 1, Infinity), events_), null);

  add('train: forged images with an authentic twin (share)', share(s.twins.pairs, s.twins.forged), share(REF.twins.pairs, REF.forgedImages));
  add('train: forged images without a twin (share)', share(s.twins.forged_only, s.twins.forged), share(REF.twins.forgedOnly, REF.forgedImages));
  add('train: authentic images without a twin (share)', share(s.twins.authentic_only, s.twins.authentic), share(REF.twins.authenticOnly, REF.authenticImages));
  return rows;
}
