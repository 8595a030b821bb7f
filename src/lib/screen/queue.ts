/**
 * The coordinator side of distributed screening: BullMQ on Redis. Jobs are added in batches with the result key as
 * the job id, so adding a job that is already queued, running or finished is a no-op (a restarted coordinator
 * re-adds its whole plan safely). Results stay in Redis until the coordinator has upserted them into its store and
 * only then are removed, so a coordinator killed at any moment loses nothing: its successor collects them.
 * BullMQ delivers at least once (a worker whose lock lapses has its job run again); the store's upsert by key
 * makes the *results* exactly once.
 */
import { Queue, type Job } from 'bullmq';
import { diedResult } from './pool';
import { checkQueueName, connectRedis, DEFAULT_QUEUE } from './redis';
import type { ScreenJob, ScreenResult } from './types';

export interface QueueOptions {
  /** redis:// URL of the Redis BullMQ uses. */
  redis: string;
  /** Queue name (default 'sifd-screen'); one coordinator per queue. */
  name?: string;
  /** Jobs per addBulk (default 500). */
  batch?: number;
  /** Most jobs held in Redis at once, queued or finished but not yet collected (default 4 batches). */
  window?: number;
  /** First retry delay, doubled each attempt (default 1000 ms). */
  backoffMs?: number;
  /** Poll interval when nothing finished (default 200 ms). */
  pollMs?: number;
}

export interface CoordinatorOptions extends QueueOptions {
  maxAttempts?: number;
  onResult(r: ScreenResult): void;
  onInFlight?(n: number): void;
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The result a finished BullMQ job stands for (a job that failed every attempt: a failed result with its reason). */
function resultOf(job: Job<ScreenJob, ScreenResult>, state: 'completed' | 'failed'): ScreenResult | undefined {
  if (state === 'completed') return job.returnvalue ?? undefined;
  return diedResult(job.data, job.attemptsMade, `failed ${job.attemptsMade} time(s) in BullMQ workers: ${job.failedReason ?? 'no reason given'}`);
}

/** Enqueue `jobs` and store every result; resolves when each has one (or the signal stopped it). */
export async function runQueueCoordinator(jobs: readonly ScreenJob[], opts: CoordinatorOptions): Promise<void> {
  const name = checkQueueName(opts.name ?? DEFAULT_QUEUE);
  const batch = opts.batch ?? 500;
  const window = opts.window ?? batch * 4;
  const connection = await connectRedis(opts.redis);
  const queue = new Queue<ScreenJob, ScreenResult>(name, { connection });
  const jobOpts = {
    attempts: opts.maxAttempts ?? 3,
    backoff: { type: 'exponential', delay: opts.backoffMs ?? 1000 },
    removeOnComplete: false,
    removeOnFail: false,
  };
  const outstanding = new Set<string>();
  let next = 0;
  try {
    while (!opts.signal?.aborted) {
      while (next < jobs.length && outstanding.size < window) {
        const chunk = jobs.slice(next, next + Math.min(batch, window - outstanding.size));
        next += chunk.length;
        await queue.addBulk(chunk.map((j) => ({ name: 'screen', data: j, opts: { ...jobOpts, jobId: j.key } })));
        for (const j of chunk) outstanding.add(j.key);
      }
      let collected = 0;
      for (const state of ['completed', 'failed'] as const) {
        const finished = state === 'completed' ? await queue.getCompleted(0, batch - 1) : await queue.getFailed(0, batch - 1);
        for (const job of finished) {
          const r = resultOf(job, state);
          // store first, then remove: a kill in between leaves the job to be collected (and absorbed) again
          // (a job left by an earlier, killed coordinator on this queue is a result for this store too)
          if (r) opts.onResult(r);
          await job.remove();
          outstanding.delete(job.id ?? '');
          collected += 1;
        }
      }
      opts.onInFlight?.(await queue.getActiveCount());
      if (next >= jobs.length && outstanding.size === 0) break;
      if (collected === 0) await sleep(opts.pollMs ?? 200);
    }
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
