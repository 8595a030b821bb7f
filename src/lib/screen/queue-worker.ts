/**
 * `sifd worker`: a BullMQ worker on any machine that can reach the Redis and read the images at the paths the
 * coordinator names. Jobs run in sandboxed processors (sandbox.cjs: child processes BullMQ forks and reuses), so a
 * detector that crashes or is killed takes one job with it, which BullMQ retries with exponential backoff; a job
 * whose worker vanished (lock lapsed) is moved back by the stalled-job check of any live worker.
 */
import { Worker } from 'bullmq';
import * as path from 'path';
import { detectorId, type DetectorSpec } from './detector';
import { checkQueueName, connectRedis, DEFAULT_QUEUE } from './redis';
import type { ScreenJob, ScreenResult } from './types';

export interface QueueWorkerOptions {
  redis: string;
  name?: string;
  /** Sandboxed processes, i.e. jobs at once (default 1). */
  concurrency?: number;
  /** How long a job's lock lasts without renewal; a worker killed mid-job holds it this long (default 30 s). */
  lockMs?: number;
  /** How often stalled jobs are looked for (default lockMs). */
  stalledMs?: number;
  /** Stalls before a job is failed (default 2). */
  maxStalls?: number;
}

export interface QueueWorkerHandle {
  detector: string;
  worker: Worker<ScreenJob, ScreenResult>;
  /** Finish the jobs in hand, then stop. */
  close(): Promise<void>;
}

/** Env names through which the sandboxed processor learns its detector. */
export const SANDBOX_SPEC_ENV = 'SIFD_SCREEN_SPEC';
export const SANDBOX_ID_ENV = 'SIFD_SCREEN_DETECTOR';

export async function startQueueWorker(spec: DetectorSpec, opts: QueueWorkerOptions): Promise<QueueWorkerHandle> {
  const detector = detectorId(spec);
  const connection = await connectRedis(opts.redis);
  const lockDuration = opts.lockMs ?? 30_000;
  const env = { ...process.env, [SANDBOX_SPEC_ENV]: JSON.stringify(spec), [SANDBOX_ID_ENV]: detector, SIFD_WASM_THREADS: '1' };
  const worker = new Worker<ScreenJob, ScreenResult>(checkQueueName(opts.name ?? DEFAULT_QUEUE), path.join(__dirname, 'sandbox.cjs'), {
    connection,
    concurrency: opts.concurrency ?? 1,
    useWorkerThreads: false,
    lockDuration,
    stalledInterval: opts.stalledMs ?? lockDuration,
    maxStalledCount: opts.maxStalls ?? 2,
    workerForkOptions: { env },
  });
  worker.on('error', (err) => console.error(`sifd worker: ${err.message}`));
  return {
    detector,
    worker,
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}
