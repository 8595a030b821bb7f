/**
 * `sifd worker`: a BullMQ worker on any machine that can reach the Redis and read the images at the paths the
 * coordinator names. Each job runs in a detector child process (detector-process.ts, the same as the local pool's),
 * started and warmed up before the worker takes its first job and reused, so a detector that crashes or is killed
 * takes one attempt of one job with it, which BullMQ retries with exponential backoff, and the next job gets a
 * fresh process. A job whose whole worker vanished (its lock lapsed) is moved back by the stalled-job check of
 * any live worker.
 *
 * Not BullMQ's own sandboxed processors: in BullMQ 6.7 a sandboxed child that dies while it is starting (loading
 * tsx and the detector takes seconds) leaves its job active forever: the pool waits for the child's 'close' event,
 * but its 'exit' handler has already removed every listener, and the live worker keeps renewing the job's lock,
 * so the stalled-job check never takes it back.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { detectorId, type DetectorSpec, specPerProcess } from './detector';
import { DetectorProcess, ProcessDied } from './detector-process';
import { checkQueueName, connectRedis, DEFAULT_QUEUE } from './redis';
import type { ScreenJob, ScreenResult } from './types';

export interface QueueWorkerOptions {
  redis: string;
  name?: string;
  /** Detector processes, i.e. jobs at once (default 1). */
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

/** Start `n` detector processes; if one cannot start, stop the others and throw its error. */
async function startProcesses(spec: DetectorSpec, n: number): Promise<DetectorProcess[]> {
  const started = await Promise.allSettled(Array.from({ length: n }, () => DetectorProcess.start(spec)));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  if (failed) {
    for (const p of ok) p.stop();
    throw failed.reason;
  }
  return ok;
}

export async function startQueueWorker(spec: DetectorSpec, opts: QueueWorkerOptions): Promise<QueueWorkerHandle> {
  const detector = detectorId(spec);
  const name = checkQueueName(opts.name ?? DEFAULT_QUEUE);
  const concurrency = opts.concurrency ?? 1;
  // the detectors are built before the first job is taken: no job waits (holding its lock) for a warm-up
  const perProcess = specPerProcess(spec, concurrency);
  const idle = await startProcesses(perProcess, concurrency);
  let connection;
  try {
    connection = await connectRedis(opts.redis);
  } catch (err) {
    for (const p of idle) p.stop();
    throw err;
  }
  const processor = async (job: Job<ScreenJob, ScreenResult>): Promise<ScreenResult> => {
    if (job.data.detector !== detector) {
      throw new UnrecoverableError(`this worker runs detector ${detector} but the job was queued for ${job.data.detector}: start workers with the coordinator's detector options`);
    }
    let proc = idle.pop();
    while (proc && !proc.alive) proc = idle.pop(); // died while idle: costs no attempt
    try {
      proc ??= await DetectorProcess.start(perProcess); // replaces one that died; dying while starting fails this attempt
      const result = await proc.run(job.data, job.attemptsMade + 1);
      idle.push(proc);
      return result;
    } catch (err) {
      if (err instanceof ProcessDied) throw new Error(`${job.data.path}: the detector process ${err.message.replace(/^detector process /, '')}`);
      throw err;
    }
  };
  const lockDuration = opts.lockMs ?? 30_000;
  const worker = new Worker<ScreenJob, ScreenResult>(name, processor, {
    connection,
    concurrency,
    lockDuration,
    stalledInterval: opts.stalledMs ?? lockDuration,
    maxStalledCount: opts.maxStalls ?? 2,
  });
  worker.on('error', (err) => console.error(`sifd worker: ${err.message}`));
  const conn = connection;
  return {
    detector,
    worker,
    async close() {
      await worker.close();
      for (const p of idle) p.stop();
      conn.disconnect();
    },
  };
}
