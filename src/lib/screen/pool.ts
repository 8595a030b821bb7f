/**
 * Local screening: N worker processes (local-worker.ts) on this machine, each holding one detector, fed one job at
 * a time. A worker that dies mid-job (killed, out of memory) is replaced and its job goes back in line; a job that
 * has killed `maxAttempts` workers is recorded as failed, so one poisonous image never stops the run.
 */
import { fork, type ChildProcess } from 'child_process';
import * as path from 'path';
import { ScreenError } from '../errors';
import type { DetectorSpec } from './detector';
import type { FromWorker, ToWorker } from './local-worker';
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

class WorkerDied extends Error {}

/** One worker process and the job it is running. */
class LocalWorker {
  private pending?: { resolve(r: ScreenResult): void; reject(e: Error): void };
  private exitReason?: string;

  private constructor(readonly proc: ChildProcess) {
    proc.on('message', (m: FromWorker) => {
      if (m.type === 'result' && this.pending) {
        const p = this.pending;
        this.pending = undefined;
        p.resolve(m.result);
      }
    });
    proc.on('exit', (code, signal) => {
      this.exitReason = signal ? `killed by ${signal}` : `exited with code ${code}`;
      this.pending?.reject(new WorkerDied(this.exitReason));
      this.pending = undefined;
    });
  }

  static start(spec: DetectorSpec): Promise<LocalWorker> {
    const proc = fork(path.join(__dirname, 'local-worker.ts'), [], {
      execArgv: ['--require', require.resolve('tsx/cjs')],
      // one core per worker: wasm threads inside a worker would compete with the other workers
      env: { ...process.env, SIFD_WASM_THREADS: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const w = new LocalWorker(proc);
    return new Promise((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (m.type === 'ready') resolve(w);
        else if (m.type === 'fatal') reject(new ScreenError(`worker could not start its detector: ${m.error}`));
        else return;
        proc.off('message', onMessage);
        proc.off('exit', onExit);
      };
      const onExit = () => reject(new ScreenError(`worker process ${w.exitReason ?? 'exited'} before it was ready`));
      proc.on('message', onMessage);
      proc.once('exit', onExit);
      w.send({ type: 'init', spec });
    });
  }

  private send(msg: ToWorker): void {
    this.proc.send(msg);
  }

  run(job: ScreenJob, attempts: number): Promise<ScreenResult> {
    if (this.exitReason) return Promise.reject(new WorkerDied(this.exitReason));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.send({ type: 'job', job, attempts });
    });
  }

  stop(): void {
    if (!this.exitReason) this.proc.disconnect();
  }
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
    let worker: LocalWorker | undefined;
    try {
      for (let job = next(); job; job = next()) {
        worker ??= await LocalWorker.start(spec);
        const n = (attempts.get(job.key) ?? 0) + 1;
        attempts.set(job.key, n);
        flying(+1);
        let result: ScreenResult | undefined;
        try {
          const pending = worker.run(job, n);
          opts.onJobStart?.(worker.proc.pid ?? 0, job);
          result = await pending;
        } catch (err) {
          if (!(err instanceof WorkerDied)) throw err;
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
