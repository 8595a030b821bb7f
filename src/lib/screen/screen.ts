/**
 * A screening run: walk the corpus, key every image (content sha256 + detector id), record which paths have which
 * key, skip the keys the store already holds, and screen the rest with local worker processes (pool.ts) or
 * BullMQ workers on Redis (queue.ts). Every result goes through the store's idempotent upsert, so a run killed at
 * any point and started again ends with exactly one result per image.
 */
import * as os from 'os';
import { ConfigError } from '../errors';
import { hashFile, readList, resultKey, walkFolder, type Corpus, type CorpusProblem } from './corpus';
import { detectorId, type DetectorSpec, specPerProcess } from './detector';
import { runLocalPool } from './pool';
import { ScreenProgress } from './progress';
import { runQueueCoordinator, type QueueOptions } from './queue';
import { ResultStore } from './store';
import type { ScreenJob, ScreenResult } from './types';

export interface ScreenOptions {
  /** A folder screened recursively, or a list file (one path a line): exactly one. */
  images?: string;
  list?: string;
  detector: DetectorSpec;
  /** The SQLite result store (created when absent). */
  db: string;
  /** Local worker processes (default: one per core). Ignored with `queue`. */
  workers?: number;
  /** Distribute over BullMQ workers instead of local processes. */
  queue?: QueueOptions;
  /** Screen again the images whose last result is 'failed' (default: keep it). */
  retryFailed?: boolean;
  /** Deliveries of one job before it is recorded failed (default 3). */
  maxAttempts?: number;
  /** Progress bar (default true). */
  progress?: boolean;
  signal?: AbortSignal;
  /** Local workers: a job was sent to process `pid`. */
  onJobStart?(pid: number, job: ScreenJob): void;
}

export interface ScreenSummary {
  detector: string;
  /** Image files found, and how many distinct contents (keys) they hold. */
  files: number;
  unique: number;
  /** Keys already in the store, not screened again. */
  alreadyDone: number;
  /** Keys screened by this run: done, failed, and duplicate deliveries absorbed. */
  screened: number;
  done: number;
  failed: number;
  duplicates: number;
  /** Files not screened (PDFs, unreadable files or folders). */
  skipped: CorpusProblem[];
  seconds: number;
  imagesPerSecond: number;
}

function corpusOf(opts: ScreenOptions): Corpus {
  if ((opts.images === undefined) === (opts.list === undefined)) throw new ConfigError('give exactly one of an image folder or a list file');
  return opts.images !== undefined ? walkFolder(opts.images) : readList(opts.list as string);
}

/** Screen a corpus into the store; resolves with what was done when every pending image has a result. */
export async function screenCorpus(opts: ScreenOptions): Promise<ScreenSummary> {
  const started = performance.now();
  const detector = detectorId(opts.detector); // bad parameters or run folders fail before the walk
  const corpus = corpusOf(opts);
  const store = ResultStore.open(opts.db);
  try {
    const skipped = [...corpus.problems];
    const keyed: Array<{ path: string; folder: string; sha256: string; key: string; detector: string }> = [];
    for (const f of corpus.files) {
      try {
        const sha256 = hashFile(f.path);
        keyed.push({ ...f, sha256, key: resultKey(sha256, detector), detector });
      } catch (err) {
        skipped.push({ path: f.path, reason: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      }
    }
    store.recordFiles(keyed, skipped);
    // One job per distinct content: duplicates at other paths share its result.
    const seen = new Set<string>();
    const pending: ScreenJob[] = [];
    let alreadyDone = 0;
    for (const f of keyed) {
      if (seen.has(f.key)) continue;
      seen.add(f.key);
      const status = store.statusOf(f.key);
      if (status === 'done' || (status === 'failed' && !opts.retryFailed)) alreadyDone += 1;
      else pending.push({ key: f.key, sha256: f.sha256, detector, path: f.path });
    }
    const prog = new ScreenProgress(pending.length, { show: opts.progress ?? true });
    const onResult = (r: ScreenResult) => prog.result(r, store.upsert(r));
    if (opts.queue) {
      await runQueueCoordinator(pending, { ...opts.queue, maxAttempts: opts.maxAttempts, onResult, onInFlight: (n) => prog.setInFlight(n), signal: opts.signal });
    } else {
      const workers = opts.workers ?? os.availableParallelism();
      await runLocalPool(specPerProcess(opts.detector, workers), pending, { workers, maxAttempts: opts.maxAttempts, onResult, onInFlight: (n) => prog.setInFlight(n), onJobStart: opts.onJobStart, signal: opts.signal });
    }
    prog.finish();
    const seconds = (performance.now() - started) / 1000;
    const { done, failed, duplicates } = prog.counts;
    return {
      detector, files: keyed.length, unique: seen.size, alreadyDone, screened: done + failed, done, failed, duplicates, skipped, seconds,
      imagesPerSecond: seconds > 0 ? (done + failed) / seconds : 0,
    };
  } finally {
    store.close();
  }
}
