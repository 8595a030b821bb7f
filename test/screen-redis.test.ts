/**
 * Issue 26, distributed screening on a loopback Redis that the test starts and stops itself (skipped when
 * redis-server is not installed; .ci/run installs it): 3 `sifd worker` processes give exactly the single-process
 * results; a worker killed with -9 mid-job and the coordinator killed with -9 mid-run, then a rerun, still give one
 * result per image and lose none; a job no worker can run is recorded as failed with BullMQ's reason.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { redisServerPath, startLocalRedis, type LocalRedis } from '../src/lib/screen/local-redis';
import { screenCorpus } from '../src/lib/screen/screen';
import { ResultStore } from '../src/lib/screen/store';
import { repoPath } from '../src/lib/util/paths';
import { CHEAP, CHEAP_ARGS, makeCorpus, resultsOf, rowCount, type TestCorpus } from './helpers/screen';

const skip = redisServerPath() ? false : 'redis-server is not installed (CI installs Debian redis-server; apt-get install redis-server)';

let redis: LocalRedis;
let corpus: TestCorpus;
let work: string;
let reference: Array<Record<string, unknown>>;

before(async () => {
  if (skip) return;
  redis = await startLocalRedis();
  corpus = await makeCorpus(200, 'redis');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-screen-redis-'));
  const db = path.join(work, 'reference.sqlite');
  await screenCorpus({ images: corpus.root, detector: CHEAP, db, workers: 1, progress: false });
  reference = resultsOf(db);
});
after(async () => {
  if (skip) return;
  await redis?.stop();
  if (corpus) fs.rmSync(path.dirname(corpus.root), { recursive: true, force: true });
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** A `sifd worker` process on `queue` (2 s locks, so a killed worker's job comes back quickly). */
function startWorker(queue: string, detectorArgs = CHEAP_ARGS): ChildProcess {
  return spawn(process.execPath, [repoPath('bin', 'sifd.js'), 'worker', '--redis', redis.url, '--queue', queue, ...detectorArgs, '--lock-seconds', '2'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  await Promise.all(
    workers.map((w) => {
      if (w.exitCode !== null || w.signalCode !== null) return Promise.resolve();
      const exited = new Promise((r) => w.once('exit', r));
      w.kill('SIGTERM');
      return exited;
    }),
  );
}

test('BullMQ: 3 worker processes == the single-process results, one row per distinct image', { skip, timeout: 600_000 }, async () => {
  const workers = [0, 1, 2].map(() => startWorker('three'));
  try {
    const db = path.join(work, 'three.sqlite');
    const s = await screenCorpus({ images: corpus.root, detector: CHEAP, db, queue: { redis: redis.url, name: 'three', batch: 50 }, progress: false });
    assert.equal(s.screened, corpus.unique);
    assert.deepEqual(resultsOf(db), reference);
    const store = ResultStore.open(db, { readonly: true });
    try {
      assert.match(store.rows('failed')[0].error ?? '', /broken\.png: cannot decode image/);
      const dup = store.rows().filter((r) => r.path === corpus.duplicate.original || r.path === corpus.duplicate.copy);
      assert.equal(dup.length, 2);
      assert.equal(new Set(store.results().map((r) => r.worker)).size >= 2, true, 'more than one worker process computed results');
    } finally {
      store.close();
    }
  } finally {
    await stopWorkers(workers);
  }
});

test('BullMQ: kill -9 of a worker mid-job and of the coordinator mid-run, then a rerun: one result per image, none lost', { skip, timeout: 600_000 }, async () => {
  const db = path.join(work, 'killed.sqlite');
  const workers = [0, 1, 2].map(() => startWorker('killed'));
  try {
    const coordinator = spawn(process.execPath, [repoPath('bin', 'sifd.js'), 'screen', '--images', corpus.root, ...CHEAP_ARGS, '--db', db, '--redis', redis.url, '--queue', 'killed'], { stdio: 'ignore' });
    const exited = new Promise((r) => coordinator.once('exit', r));
    for (let waited = 0; rowCount(db) < 30; waited += 200) {
      assert.ok(waited < 300_000 && coordinator.exitCode === null, 'the coordinator stores results while it runs');
      await new Promise((r) => setTimeout(r, 200));
    }
    // a worker with concurrency 1 that has delivered results is busy with its next job
    workers[0].kill('SIGKILL');
    coordinator.kill('SIGKILL');
    await exited;
    const partial = rowCount(db);
    assert.ok(partial < corpus.unique, `killed mid-run (${partial} of ${corpus.unique} stored)`);
    const s = await screenCorpus({ images: corpus.root, detector: CHEAP, db, queue: { redis: redis.url, name: 'killed', batch: 50 }, progress: false });
    assert.equal(s.alreadyDone + s.screened + s.duplicates >= corpus.unique, true);
    assert.equal(rowCount(db), corpus.unique, 'exactly one result per distinct image');
    assert.deepEqual(resultsOf(db), reference);
  } finally {
    await stopWorkers(workers);
  }
});

test('BullMQ: jobs no worker may run (another detector) are recorded as failed with the reason, never block the queue', { skip, timeout: 300_000 }, async () => {
  const small = fs.mkdtempSync(path.join(work, 'small-'));
  for (const f of fs.readdirSync(path.join(corpus.root, 'test_images')).slice(0, 3)) fs.copyFileSync(path.join(corpus.root, 'test_images', f), path.join(small, f));
  const other = ['--detector', 'classical', '--param', 'maxKeypoints=151', '--param', 'minSide=128', '--param', 'maxSide=160'];
  const workers = [startWorker('mismatch', other)];
  try {
    const db = path.join(work, 'mismatch.sqlite');
    const s = await screenCorpus({ images: small, detector: CHEAP, db, queue: { redis: redis.url, name: 'mismatch' }, progress: false });
    assert.equal(s.failed, 3);
    const store = ResultStore.open(db, { readonly: true });
    try {
      for (const r of store.rows('failed')) assert.match(r.error ?? '', /this worker runs detector classical-\w+ but the job was queued for classical-\w+/);
    } finally {
      store.close();
    }
  } finally {
    await stopWorkers(workers);
  }
});
