/**
 * The result store: an embedded SQLite file (better-sqlite3 12; 13 needs Node 22). One row per result key
 * (PRIMARY KEY), written by idempotent upserts: a result that is already 'done' is never rewritten, so a job
 * delivered twice (a stalled BullMQ job, a worker killed after it answered) still leaves exactly one row. Each
 * upsert commits on its own (WAL), so a crash loses only the images in flight.
 */
import Database from 'better-sqlite3';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError, ScreenError } from '../errors';
import type { CorpusFile, CorpusProblem } from './corpus';
import type { ScreenResult } from './types';

const SCHEMA_VERSION = '1';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
  key TEXT PRIMARY KEY, sha256 TEXT NOT NULL, detector TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
  verdict TEXT, score REAL, annotation TEXT, scores TEXT NOT NULL, width INTEGER, height INTEGER,
  ms_read REAL NOT NULL, ms_detect REAL NOT NULL, error TEXT, attempts INTEGER NOT NULL, worker TEXT NOT NULL,
  finished_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
  path TEXT NOT NULL, detector TEXT NOT NULL, folder TEXT NOT NULL, sha256 TEXT NOT NULL, key TEXT NOT NULL,
  PRIMARY KEY (path, detector));
CREATE INDEX IF NOT EXISTS files_key ON files (key);
CREATE TABLE IF NOT EXISTS skipped (path TEXT PRIMARY KEY, reason TEXT NOT NULL);
`;

/** A stored result with the paths that have its bytes (several when the same image sits at several paths). */
export interface StoredRow extends ScreenResult {
  path: string;
  folder: string;
  finishedAt: string;
}

export interface FolderCounts {
  folder: string;
  images: number;
  forged: number;
  authentic: number;
  failed: number;
  pending: number;
}

interface ResultRecord {
  key: string; sha256: string; detector: string; status: string; verdict: string | null; score: number | null;
  annotation: string | null; scores: string; width: number | null; height: number | null; ms_read: number;
  ms_detect: number; error: string | null; attempts: number; worker: string; finished_at: string;
}

function fromRecord(r: ResultRecord): ScreenResult & { finishedAt: string } {
  return {
    key: r.key, sha256: r.sha256, detector: r.detector, status: r.status as ScreenResult['status'],
    verdict: r.verdict as ScreenResult['verdict'], score: r.score, annotation: r.annotation, scores: JSON.parse(r.scores) as number[],
    width: r.width, height: r.height, msRead: r.ms_read, msDetect: r.ms_detect, error: r.error, attempts: r.attempts,
    worker: r.worker, finishedAt: r.finished_at,
  };
}

export class ResultStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly upsertStmt: Database.Statement;
  private readonly hasStmt: Database.Statement;

  private constructor(file: string, db: Database.Database) {
    this.file = file;
    this.db = db;
    // A 'done' row is final; a 'failed' one may be replaced by a later attempt (--retry-failed).
    this.upsertStmt = db.prepare(`
      INSERT INTO results VALUES (@key, @sha256, @detector, @status, @verdict, @score, @annotation, @scores, @width, @height,
        @msRead, @msDetect, @error, @attempts, @worker, @finishedAt)
      ON CONFLICT (key) DO UPDATE SET status = excluded.status, verdict = excluded.verdict, score = excluded.score,
        annotation = excluded.annotation, scores = excluded.scores, width = excluded.width, height = excluded.height,
        ms_read = excluded.ms_read, ms_detect = excluded.ms_detect, error = excluded.error,
        attempts = excluded.attempts, worker = excluded.worker, finished_at = excluded.finished_at
      WHERE results.status <> 'done'`);
    this.hasStmt = db.prepare('SELECT status FROM results WHERE key = ?');
  }

  /** Open (creating when absent) a store. `postgres://` URLs are refused: only SQLite is implemented. */
  static open(file: string, opts: { readonly?: boolean } = {}): ResultStore {
    if (/^postgres(ql)?:\/\//i.test(file)) throw new ConfigError('a Postgres result store is not implemented; give a SQLite file path', file);
    if (opts.readonly && !fs.existsSync(file)) throw new ScreenError('result store not found', file);
    if (!opts.readonly) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
      db.pragma('busy_timeout = 10000');
      if (!opts.readonly) {
        db.pragma('journal_mode = WAL');
        // WAL + NORMAL: a committed row survives a killed process (not necessarily a power cut).
        db.pragma('synchronous = NORMAL');
        db.exec(SCHEMA);
        const v = db.prepare('SELECT v FROM meta WHERE k = ?').get('schema') as { v: string } | undefined;
        if (!v) db.prepare('INSERT INTO meta VALUES (?, ?)').run('schema', SCHEMA_VERSION);
        else if (v.v !== SCHEMA_VERSION) throw new ScreenError(`result store schema ${v.v}, this sifd writes ${SCHEMA_VERSION}`, file);
      }
    } catch (err) {
      if (err instanceof ScreenError) throw err;
      throw new ScreenError(`cannot open the result store: ${(err as Error).message}`, file);
    }
    return new ResultStore(file, db);
  }

  /** 'done', 'failed' or undefined (no result yet) for a key. */
  statusOf(key: string): ScreenResult['status'] | undefined {
    return (this.hasStmt.get(key) as { status: ScreenResult['status'] } | undefined)?.status;
  }

  /** Insert or keep a result; true when the row was written (false: a 'done' result was already there). */
  upsert(r: ScreenResult): boolean {
    const info = this.upsertStmt.run({
      ...r, scores: JSON.stringify(r.scores), finishedAt: new Date().toISOString(),
    });
    return info.changes > 0;
  }

  /** Record which path has which key (a path whose bytes changed gets its new key) and the files not screened. */
  recordFiles(files: ReadonlyArray<CorpusFile & { sha256: string; key: string; detector: string }>, skipped: readonly CorpusProblem[]): void {
    const put = this.db.prepare(`INSERT INTO files VALUES (@path, @detector, @folder, @sha256, @key)
      ON CONFLICT (path, detector) DO UPDATE SET folder = excluded.folder, sha256 = excluded.sha256, key = excluded.key`);
    const skip = this.db.prepare('INSERT INTO skipped VALUES (@path, @reason) ON CONFLICT (path) DO UPDATE SET reason = excluded.reason');
    this.db.transaction(() => {
      for (const f of files) put.run(f);
      for (const s of skipped) skip.run(s);
    })();
  }

  /** Every result (one per key). */
  results(): Array<ScreenResult & { finishedAt: string }> {
    return (this.db.prepare('SELECT * FROM results ORDER BY key').all() as ResultRecord[]).map(fromRecord);
  }

  /** One row per (path, detector) with its result; pending paths (no result yet) are left out. */
  rows(where: 'all' | 'forged' | 'failed' = 'all'): StoredRow[] {
    const cond = where === 'forged' ? "WHERE r.verdict = 'forged'" : where === 'failed' ? "WHERE r.status = 'failed'" : '';
    const recs = this.db
      .prepare(`SELECT r.*, f.path AS path, f.folder AS folder FROM files f JOIN results r ON r.key = f.key ${cond}
        ORDER BY r.score DESC, f.path`)
      .all() as Array<ResultRecord & { path: string; folder: string }>;
    return recs.map((r) => ({ ...fromRecord(r), path: r.path, folder: r.folder }));
  }

  /** Images per folder: forged, authentic, failed and still pending. */
  folderCounts(): FolderCounts[] {
    return this.db
      .prepare(`SELECT f.folder AS folder, COUNT(*) AS images,
          COALESCE(SUM(r.verdict = 'forged'), 0) AS forged, COALESCE(SUM(r.verdict = 'authentic'), 0) AS authentic,
          COALESCE(SUM(r.status = 'failed'), 0) AS failed, COALESCE(SUM(r.key IS NULL), 0) AS pending
        FROM files f LEFT JOIN results r ON r.key = f.key GROUP BY f.folder ORDER BY f.folder`)
      .all() as FolderCounts[];
  }

  /** Files found but not screened (PDFs, unlistable folders). */
  skipped(): CorpusProblem[] {
    return this.db.prepare('SELECT path, reason FROM skipped ORDER BY path').all() as CorpusProblem[];
  }

  close(): void {
    this.db.close();
  }
}

/** host:pid, naming the process that computed a result. */
export function workerName(): string {
  return `${os.hostname()}:${process.pid}`;
}
