/**
 * Local screening: N worker processes (detector-process.ts) on this machine, each holding one detector, fed one job at
 * a time. A worker that dies mid-job (killed, out of memory) is replaced and its job goes back in line; a job that
 * has killed `maxAttempts` workers is recorded as failed, so one poisonous image never stops the run.
 */
import type { DetectorSpec } from './detector';
import { DetectorProcess, ProcessDied } from './detector-process';
import { workerName } from './store';
import type { ScreenJob, ScreenResult } from './types';

export interface PoolOptions {
  workers: number;
  /** Deliveries of one job before it is recorded as failed (default 3). */
  maxAttempts?: number;
  /** Called once per job, in completion order; the caller stores it. */
  onResult(result: ScreenResult): void;
  /** A job was sent to the worker process `pid` (tests kill workers mid-job through it). */
  onJobStart?(pid: number, job: ScreenJob): void;
  /** Jobs being screened right now (progress). */
  onInFlight?(n: number): void;
  /** Stop handing out jobs (Ctrl-C); jobs in flight finish. */
  signal?: AbortSignal;
}

/** The failed result of a job that killed its workers. */
export function diedResult(job: ScreenJob, attempts: number, why: string): ScreenResult {
  return {
    key: job.key, sha256: job.sha256, detector: job.detector, status: 'failed', verdict: null, score: null, annotation: null,
    scores: [], width: null, height: null, msRead: 0, msDetect: 0, attempts, worker: workerName(),
    error: `${job.path}: ${why}`,
  };
}

/** Screen `jobs` with local worker processes; resolves when every job has a result (or the signal stopped it). */
export async function runLocalPool(spec: DetectorSpec, jobs: readonly ScreenJob[], opts: PoolOptions): Promise<void> {
  const line = jobs.slice().reverse();
  const attempts = new Map<string, number>();
  const maxAttempts = opts.maxAttempts ?? 3;
  let fatal: Error | undefined;
  let inFlight = 0;
  const flying = (d: number) => opts.onInFlight?.((inFlight += d));
  const next = () => (fatal || opts.signal?.aborted ? undefined : line.pop());
  const slot = async () => {
    let worker: DetectorProcess | undefined;
    try {
      for (let job = next(); job; job = next()) {
        worker ??= await DetectorProcess.start(spec);
        const n = (attempts.get(job.key) ?? 0) + 1;
        attempts.set(job.key, n);
        flying(+1);
        let result: ScreenResult | undefined;
        try {
          const pending = worker.run(job, n);
          opts.onJobStart?.(worker.pid, job);
          result = await pending;
        } catch (err) {
          if (!(err instanceof ProcessDied)) throw err;
          worker = undefined;
          if (n >= maxAttempts) result = diedResult(job, n, `the worker process died on it ${n} times (last: ${err.message})`);
          else line.unshift(job); // back in line, behind the rest
        } finally {
          flying(-1);
        }
        if (result) opts.onResult(result);
      }
    } catch (err) {
      fatal ??= err as Error;
    } finally {
      worker?.stop();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.workers, jobs.length)) }, slot));
  if (fatal) throw fatal;
}
