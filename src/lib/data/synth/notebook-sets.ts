import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { generateDataset } from './writer';

/**
 * The synthetic sets the training notebooks (03-07) and the model zoo (09) share by default: one
 * training set, one tuning set (thresholds are chosen there) and one validation set (reported, never
 * tuned on), each drawn once into the temp folder and reused. Sharing them makes the models comparable
 * and lets the evidence cache (evidence/disk-cache.ts) compute each figure's evidence once for all of
 * them. A notebook that trains on fewer images takes the first ones of the training set.
 */
export type NotebookSetRole = 'train' | 'tune' | 'val';

export const NOTEBOOK_SETS: Readonly<Record<NotebookSetRole, { seed: number; n: number }>> = {
  train: { seed: 1, n: 400 },
  tune: { seed: 5, n: 80 },
  val: { seed: 2, n: 160 },
};

/** Figure sizes of the notebook sets: long side 128-512 px, what a 2-core CPU trains on in minutes. */
export const NOTEBOOK_SET_SIZES = { min: 128, max: 512 };

/** Bump when the generator's output changes, so a stale set in the temp folder is not reused. */
const NOTEBOOK_SETS_VERSION = 4;

/** The folder of a notebook set (generated on first use); `n` overrides the role's size (quick runs). */
export async function notebookSet(role: NotebookSetRole, n: number = NOTEBOOK_SETS[role].n): Promise<string> {
  const { seed } = NOTEBOOK_SETS[role];
  const dir = path.join(os.tmpdir(), `sifd-nb-${role}-seed${seed}-n${n}-v${NOTEBOOK_SETS_VERSION}`);
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) await generateDataset({ out: dir, n, seed, sizes: NOTEBOOK_SET_SIZES, testFraction: 0.1 });
  return dir;
}

/**
 * The first `n` figures of a set in figure order (by file stem, twins together), not in scan order:
 * the scan lists authentic images before forged ones, so its first `n` would hold no forged figure.
 */
export function firstFigures<T extends { imagePath: string; label: string }>(samples: readonly T[], n: number): T[] {
  const stem = (s: T) => path.basename(s.imagePath, path.extname(s.imagePath));
  const ordered = [...samples].sort((a, b) => stem(a).localeCompare(stem(b), 'en', { numeric: true }) || a.label.localeCompare(b.label));
  return ordered.slice(0, Math.max(0, n));
}
