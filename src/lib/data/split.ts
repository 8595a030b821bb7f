import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, DatasetError } from '../errors';
import { Rng } from '../util/random';
import { stemOf, type Sample } from './types';

export interface SplitOptions {
  /** Fraction of each stratum that goes to validation, in [0, 1). */
  valFraction: number;
  seed?: number | string;
  /** Stem (or sample id) -> family (from the synthetic manifest); when given, strata are labels x family. */
  families?: ReadonlyMap<string, string>;
}

export interface TrainValSplit {
  train: Sample[];
  val: Sample[];
  /** Stratum key ('forged', 'authentic+forged' for twins, or with the family: 'forged/gel') -> [train images, val images]. */
  strata: Record<string, [number, number]>;
}

/**
 * Stratified train/val split by stem: a stem's images (an authentic/forged twin pair) always go
 * to the same side, so no twin leaks across. Within every stratum (the stem's labels, e.g.
 * 'authentic+forged' for twins, and the family when known) the stems are sorted, shuffled with
 * the seed and the first round(n * valFraction) go to validation, so the split does not depend on
 * the order the scan returned them in. A stratum with two or more stems gives at least one to
 * each side when valFraction > 0.
 */
export function stratifiedSplit(samples: readonly Sample[], opts: SplitOptions): TrainValSplit {
  const { valFraction } = opts;
  if (!(valFraction >= 0 && valFraction < 1)) {
    throw new ConfigError(`valFraction must be in [0, 1), got ${valFraction}`);
  }
  const ids = new Set<string>();
  const byStem = new Map<string, Sample[]>();
  for (const s of samples) {
    if (ids.has(s.id)) throw new ConfigError(`sample id '${s.id}' appears twice; ids must be unique to split`, s.imagePath);
    ids.add(s.id);
    const unit = byStem.get(stemOf(s));
    if (unit) unit.push(s);
    else byStem.set(stemOf(s), [s]);
  }
  const groups = new Map<string, string[]>();
  for (const [stem, unit] of byStem) {
    const labels = [...new Set(unit.map((s) => s.label))].sort().join('+');
    const family = opts.families?.get(stem) ?? unit.map((s) => opts.families?.get(s.id)).find(Boolean);
    const key = family ? `${labels}/${family}` : labels;
    const g = groups.get(key);
    if (g) g.push(stem);
    else groups.set(key, [stem]);
  }
  const train: Sample[] = [];
  const val: Sample[] = [];
  const strata: Record<string, [number, number]> = {};
  for (const key of [...groups.keys()].sort()) {
    const stems = groups.get(key)!.slice().sort();
    new Rng(`split:${String(opts.seed ?? 0)}:${key}`).shuffle(stems);
    let nVal = Math.round(stems.length * valFraction);
    if (valFraction > 0 && stems.length >= 2) nVal = Math.min(stems.length - 1, Math.max(1, nVal));
    const toVal = stems.slice(0, nVal).flatMap((stem) => byStem.get(stem)!);
    const toTrain = stems.slice(nVal).flatMap((stem) => byStem.get(stem)!);
    val.push(...toVal);
    train.push(...toTrain);
    strata[key] = [toTrain.length, toVal.length];
  }
  return { train, val, strata };
}

/**
 * Sample id -> figure family from a synthetic dataset's manifest.json, or undefined when the
 * folder has no manifest (Kaggle data carries no family).
 */
export function readFamilies(datasetRoot: string): Map<string, string> | undefined {
  const file = path.join(datasetRoot, 'manifest.json');
  if (!fs.existsSync(file)) return undefined;
  let manifest: { images?: { id?: unknown; family?: unknown }[] };
  try {
    manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DatasetError(`cannot parse manifest: ${(err as Error).message}`, file);
  }
  if (!Array.isArray(manifest.images)) throw new DatasetError("manifest has no 'images' list", file);
  const out = new Map<string, string>();
  for (const e of manifest.images) {
    if (typeof e.id === 'string' && typeof e.family === 'string') out.set(e.id, e.family);
  }
  return out;
}
