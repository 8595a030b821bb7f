import * as fs from 'fs';
import * as os from 'os';
import type { Command } from '../command';
import { flag, num, optNum, optStr, str, UsageError } from '../command';
import { DETECTOR_OPTIONS, DETECTOR_USAGE, detectorSpecFromArgs } from '../detector-args';
import { checkInputDir } from '../../lib/util/checkpath';
import { ConfigError } from '../../lib/errors';
import { checkQueueName, checkRedisUrl, DEFAULT_QUEUE } from '../../lib/screen/redis';
import { screenCorpus } from '../../lib/screen/screen';

export const screen: Command = {
  name: 'screen',
  usage: `usage: sifd screen (--images DIR | --list FILE) (--detector classical [--param K=V]... | --run runs/R)
                   --db results.sqlite [--workers N | --redis URL [--queue NAME]] [--retry-failed]

Screens a corpus: every PNG/JPEG/TIFF/WebP under DIR (recursively) or named in FILE (one path a line,
relative to the list's folder). Each image is keyed by sha256(its bytes) and the detector's id; keys
already in the result store are skipped, the same bytes at several paths are screened once (the
result is reported for every path). Results (verdict, score, events as Kaggle RLE, timings, errors)
are upserted into the SQLite store as they arrive: Ctrl-C or a crash loses only the images in
flight, and the same command continues. PDFs are listed as not screened (no figure extraction).

With --redis the jobs go to a BullMQ queue and 'sifd worker' processes (on any machines that reach
the Redis and see the images at the same paths) screen them; results come back through the queue.

options:
  --images DIR          the folder to screen (recursively)
  --list FILE           or: a list of image paths
${DETECTOR_USAGE}
  --db FILE             the SQLite result store (created when absent; required)
  --workers N           local worker processes (default: one per core, ${os.availableParallelism()} here)
  --redis URL           distribute over BullMQ workers on this Redis (redis://host:port)
  --queue NAME          BullMQ queue name (default ${DEFAULT_QUEUE}; one coordinator per queue)
  --attempts N          deliveries of one image before it is recorded failed (default 3)
  --retry-failed        screen again the images whose stored result is 'failed'
  --json                print the summary as JSON`,
  options: {
    images: { type: 'string' },
    list: { type: 'string' },
    ...DETECTOR_OPTIONS,
    db: { type: 'string' },
    workers: { type: 'string' },
    redis: { type: 'string' },
    queue: { type: 'string' },
    attempts: { type: 'string' },
    'retry-failed': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(args) {
    const images = optStr(args, 'images');
    const list = optStr(args, 'list');
    if ((images === undefined) === (list === undefined)) throw new UsageError('give exactly one of --images DIR or --list FILE');
    if (images !== undefined) checkInputDir(images, '--images');
    if (list !== undefined && !fs.existsSync(list)) throw new ConfigError('--list does not exist', list);
    const detector = detectorSpecFromArgs(args);
    const db = str(args, 'db');
    const redis = optStr(args, 'redis');
    const workers = optNum(args, 'workers', { integer: true, min: 1 });
    if (redis !== undefined && workers !== undefined) throw new UsageError('--workers is for local screening; with --redis start \'sifd worker\' processes');
    const queueName = optStr(args, 'queue');
    if (queueName !== undefined && redis === undefined) throw new UsageError('--queue goes with --redis');
    const queue = redis === undefined ? undefined : { redis: checkRedisUrl(redis), name: checkQueueName(queueName ?? DEFAULT_QUEUE) };
    const maxAttempts = num(args, 'attempts', 3, { integer: true, min: 1 });
    const ac = new AbortController();
    // Ctrl-C: stop handing out jobs; what finished is already stored. A second Ctrl-C exits at once.
    const onSigint = () => {
      if (ac.signal.aborted) process.exit(130);
      console.error('\nsifd screen: stopping after the images in flight (Ctrl-C again to quit now); rerun to continue');
      ac.abort();
    };
    process.on('SIGINT', onSigint);
    try {
      const s = await screenCorpus({ images, list, detector, db, workers, queue, maxAttempts, retryFailed: flag(args, 'retry-failed'), signal: ac.signal });
      if (flag(args, 'json')) console.log(JSON.stringify(s));
      else {
        console.log(
          `${s.detector}: ${s.files} image files, ${s.unique} distinct; ${s.alreadyDone} already in ${db}; screened ${s.screened} ` +
            `(${s.done} done, ${s.failed} failed) in ${s.seconds.toFixed(1)} s (${s.imagesPerSecond.toFixed(2)} images/s)` +
            (s.skipped.length ? `; ${s.skipped.length} file(s) not screened (see the report)` : ''),
        );
      }
      return ac.signal.aborted ? 130 : 0;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
