import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, DatasetError } from '../errors';
import { Rng } from '../util/random';
import type { Sample } from './types';

export interface SplitOptions {
  /** Fraction of each stratum that goes to validation, in [0, 1). */
  valFraction: number;
  seed?: number | string;
  /** Sample id -> family (from the synthetic manifest); when given, strata are label x family. */
  families?: ReadonlyMap<string, string>;
}

export interface TrainValSplit {
  train: Sample[];
  val: Sample[];
  /** Stratum key ('forged' or 'forged/gel') -> [train count, val count]. */
  strata: Record<string, [number, number]>;
}

/**
 * Stratified train/val split: within every stratum (label, and family when known) the samples
 * are sorted by id, shuffled with the seed and the first round(n * valFraction) go to validation,
 * so the split does not depend on the order the scan returned them in. A stratum with two or more
 * samples gives at least one to each side when valFraction > 0.
 */
export function stratifiedSplit(samples: readonly Sample[], opts: SplitOptions): TrainValSplit {
  const { valFraction } = opts;
  if (!(valFraction >= 0 && valFraction < 1)) {
    throw new ConfigError(`valFraction must be in [0, 1), got ${valFraction}`);
  }
  const ids = new Set<string>();
  for (const s of samples) {
    if (ids.has(s.id)) throw new ConfigError(`sample id '${s.id}' appears twice; ids must be unique to split`, s.imagePath);
    ids.add(s.id);
  }
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const family = opts.families?.get(s.id);
    const key = family ? `${s.label}/${family}` : s.label;
    const g = groups.get(key);
    if (g) g.push(s);
    else groups.set(key, [s]);
  }
  const train: Sample[] = [];
  const val: Sample[] = [];
  const strata: Record<string, [number, number]> = {};
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key)!.slice().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    new Rng(`split:${String(opts.seed ?? 0)}:${key}`).shuffle(group);
    let nVal = Math.round(group.length * valFraction);
    if (valFraction > 0 && group.length >= 2) nVal = Math.min(group.length - 1, Math.max(1, nVal));
    val.push(...group.slice(0, nVal));
    train.push(...group.slice(nVal));
    strata[key] = [group.length - nVal, nVal];
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
