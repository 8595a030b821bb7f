/**
 * The zoo's tables: one row per detector (the seeds' columns side by side), per figure family and
 * per copy transform (synthetic validation sets), and the absent models with their reasons.
 */
import type { ZooEntry, ZooResult } from './compare';

type Row = Record<string, string | number | null>;

const round = (v: number | null | undefined, digits = 4): number | null => (v === null || v === undefined || !Number.isFinite(v) ? null : Number(v.toFixed(digits)));

/** One row per scored detector: oF1 and its breakdown, seed 000's Dice/IoU, seed 004's pixel F1/AUC, image F1, cost. */
export function zooTable(result: ZooResult): Row[] {
  return result.entries
    .filter((e) => e.metrics)
    .map((e) => {
      const m = e.metrics!;
      return {
        model: e.name,
        oF1: round(m.oF1),
        authentic_clean: round(m.authentic_clean_share),
        forged_detected: round(m.forged_detected_share),
        of1_forged: round(m.of1_forged),
        dice_pos: round(m.dice_pos),
        dice_all: round(m.dice_all),
        iou_pos: round(m.iou_pos),
        iou_all: round(m.iou_all),
        pixel_f1: round(m.pixel_f1),
        pixel_auc: round(m.pixel_auc),
        image_f1: round(m.image_f1),
        parameters: e.parameters ?? null,
        train_min: round(e.trainMinutes, 2),
        ms_per_mp: round(m.ms_per_mp, 1),
      };
    });
}

/** The models asked for that could not be scored, with the reason. */
export function absentTable(result: ZooResult): Row[] {
  return result.entries.filter((e) => e.kind === 'absent').map((e) => ({ model: e.name, reason: e.reason ?? '' }));
}

/** Where each scored run came from and what it predicted with. */
export function runsTable(result: ZooResult): Row[] {
  return result.entries
    .filter((e) => e.kind === 'run' && e.metrics)
    .map((e) => ({ model: e.name, run: e.run ?? '', trained_here: e.trained ? 'yes' : 'no', predict_options: JSON.stringify(e.predictOptions ?? {}), from: e.predictOptionsSource ?? '' }));
}

function pivot(entries: readonly ZooEntry[], rowsOf: (e: ZooEntry) => Array<{ key: string; n: number; value: number }> | undefined, keyName: string, nName: string): Row[] {
  const table = new Map<string, Row>();
  for (const e of entries) {
    for (const r of rowsOf(e) ?? []) {
      const row = table.get(r.key) ?? { [keyName]: r.key, [nName]: r.n };
      row[e.name] = round(r.value, 3);
      table.set(r.key, row);
    }
  }
  return [...table.values()];
}

/** oF1 per (figure family, label), one column per detector (synthetic validation sets only; [] otherwise). */
export function familyTable(result: ZooResult): Row[] {
  return pivot(result.entries, (e) => e.detail?.byFamily?.map((g) => ({ key: g.group, n: g.n, value: g.of1 })), 'family / label', 'images');
}

/** Share of copies at least half covered per copy transform, one column per detector (synthetic sets only). */
export function transformTable(result: ZooResult): Row[] {
  return pivot(result.entries.filter((e) => e.kind !== 'baseline'), (e) => e.detail?.byTransform?.map((t) => ({ key: t.transform, n: t.copies, value: t.found })), 'transform', 'copies');
}

/** The result as JSON: every entry without its in-memory detail, curves kept. */
export function zooJson(result: ZooResult): string {
  const entries = result.entries.map(({ detail, ...e }) => ({
    ...e,
    ...(detail ? { curves: detail.curves, byFamily: detail.byFamily, byTransform: detail.byTransform } : {}),
  }));
  return JSON.stringify({ ...result, entries, table: zooTable(result) }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1) + '\n';
}
