import type { Command } from '../command';
import { num, optStr, str } from '../command';
import { DETECTOR_OPTIONS, DETECTOR_USAGE, detectorSpecFromArgs } from '../detector-args';
import { checkQueueName, checkRedisUrl, DEFAULT_QUEUE } from '../../lib/screen/redis';
import { startQueueWorker } from '../../lib/screen/queue-worker';

export const worker: Command = {
  name: 'worker',
  usage: `usage: sifd worker --redis URL (--detector classical [--param K=V]... | --run runs/R) [--queue NAME]
                   [--concurrency N] [--lock-seconds S]

A BullMQ screening worker: takes jobs that 'sifd screen --redis URL' queued, screens each in a
detector child process (built before the first job, reused; one that dies costs that attempt
only) and hands the result back through the queue. Give the same detector
options as the coordinator (a job for another detector fails with a message saying so). The
images are read at the paths the coordinator names (a shared filesystem or the same layout on
every machine); each file's sha256 is checked against its key. Runs until Ctrl-C or SIGTERM,
which finishes the jobs in hand first.

options:
  --redis URL           the Redis the coordinator uses (required)
  --queue NAME          queue name (default ${DEFAULT_QUEUE})
${DETECTOR_USAGE}
  --concurrency N       detector processes, i.e. images at once (default 1: start one worker per core)
  --lock-seconds S      a job's lock; a worker killed mid-job delays its image this long (default 30)`,
  options: {
    redis: { type: 'string' },
    queue: { type: 'string' },
    ...DETECTOR_OPTIONS,
    concurrency: { type: 'string' },
    'lock-seconds': { type: 'string' },
  },
  async run(args) {
    const redis = checkRedisUrl(str(args, 'redis'));
    const name = checkQueueName(optStr(args, 'queue') ?? DEFAULT_QUEUE);
    const spec = detectorSpecFromArgs(args);
    const concurrency = num(args, 'concurrency', 1, { integer: true, min: 1 });
    const lockMs = num(args, 'lock-seconds', 30, { min: 0.5 }) * 1000;
    const handle = await startQueueWorker(spec, { redis, name, concurrency, lockMs });
    console.error(`sifd worker ${process.pid}: ${handle.detector} on ${name} (${concurrency} at once)`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        console.error(`sifd worker ${process.pid}: finishing the jobs in hand`);
        void handle.close().then(resolve, resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return 0;
  },
};
