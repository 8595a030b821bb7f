/**
 * What moves between the parts of a screening run: a job (one image to screen, keyed by its content and the
 * detector) and its result (what the store keeps). Plain JSON, so the same objects travel over a child
 * process's IPC channel and through a BullMQ queue.
 */

/** One image to screen. */
export interface ScreenJob {
  /** sha256(content sha256 + detector id), hex: the result's identity (see corpus.ts resultKey). */
  key: string;
  /** sha256 of the file's bytes, hex. */
  sha256: string;
  /** The detector id the result must come from (detector.ts detectorId). */
  detector: string;
  /** Where a worker reads the bytes (absolute path; remote workers need the same path: a shared filesystem). */
  path: string;
}

export type ScreenStatus = 'done' | 'failed';
export type Verdict = 'forged' | 'authentic';

/** One image's result: one row per key in the store, whoever computed it and however often. */
export interface ScreenResult {
  key: string;
  sha256: string;
  detector: string;
  status: ScreenStatus;
  /** 'forged' when at least one event survived post-processing; null when failed. */
  verdict: Verdict | null;
  /** Highest event score (0 when authentic); null when failed. */
  score: number | null;
  /** The events as the submission writes them: Kaggle RLE, ';'-joined, or 'authentic' (metrics/rle.ts). */
  annotation: string | null;
  /** One score per event, in annotation order. */
  scores: number[];
  width: number | null;
  height: number | null;
  /** Milliseconds spent reading/hashing+decoding and detecting. */
  msRead: number;
  msDetect: number;
  /** Why the image failed (names the file), null when done. */
  error: string | null;
  /** Deliveries it took (1 unless a worker died or a job was retried). */
  attempts: number;
  /** host:pid of the process that computed it. */
  worker: string;
}
