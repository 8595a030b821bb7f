/** Shared pieces of the screening tests: a small synthetic corpus with a corrupt file and a duplicate, a cheap detector, result reads. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { generateDataset } from '../../src/lib/data/synth/index';
import type { DetectorSpec } from '../../src/lib/screen/detector';
import { ResultStore } from '../../src/lib/screen/store';

/**
 * The classical detector with small parameters (about 70 ms per 128-160 px image instead of ~1 s): the tests
 * exercise the screening machinery, and the real detector goes through the same path.
 */
export const CHEAP: DetectorSpec = { kind: 'classical', params: { maxKeypoints: 150, minSide: 128, maxSide: 160 } };
export const CHEAP_ARGS = ['--detector', 'classical', '--param', 'maxKeypoints=150', '--param', 'minSide=128', '--param', 'maxSide=160'];

export interface TestCorpus {
  root: string;
  /** Image files in the corpus, including the corrupt one and the duplicate. */
  files: number;
  /** Distinct contents. */
  unique: number;
  corrupt: string;
  duplicate: { original: string; copy: string };
}

/** `n` synthetic figures (128-160 px) in the synth layout, plus corrupt/broken.png and dup/copy.png (bytes of an existing image). */
export async function makeCorpus(n: number, seed: number | string = 26): Promise<TestCorpus> {
  const root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-screen-')), 'corpus');
  await generateDataset({ out: root, n, seed, sizes: { min: 128, max: 160 }, testFraction: 0.2 });
  const original = path.join(root, 'train_images', 'forged', fs.readdirSync(path.join(root, 'train_images', 'forged')).sort()[0]);
  const copy = path.join(root, 'dup', 'copy.png');
  fs.mkdirSync(path.dirname(copy));
  fs.copyFileSync(original, copy);
  const corrupt = path.join(root, 'corrupt', 'broken.png');
  fs.mkdirSync(path.dirname(corrupt));
  // a PNG signature and then garbage: the walk takes it, the decoder refuses it
  fs.writeFileSync(corrupt, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('not really a png')]));
  return { root, files: n + 2, unique: n + 1, corrupt, duplicate: { original, copy } };
}

/** Every result row, sorted by key, as comparable plain objects (no timings, workers or attempts). */
export function resultsOf(db: string): Array<Record<string, unknown>> {
  const store = ResultStore.open(db, { readonly: true });
  try {
    return store.results().map((r) => ({ key: r.key, status: r.status, verdict: r.verdict, score: r.score, annotation: r.annotation, scores: r.scores, error: r.error && r.error.replace(/^.*?: /, '') }));
  } finally {
    store.close();
  }
}

export function rowCount(db: string): number {
  if (!fs.existsSync(db)) return 0;
  try {
    const store = ResultStore.open(db, { readonly: true });
    try {
      return store.results().length;
    } finally {
      store.close();
    }
  } catch {
    return 0;
  }
}
