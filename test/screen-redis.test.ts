/**
 * Issue 26, distributed screening on a loopback Redis that the test starts and stops itself (skipped when
 * redis-server is not installed; .ci/run installs it): 3 `sifd worker` processes give exactly the single-process
 * results; a worker's detector process killed with -9 mid-job, its replacement killed while it starts, and a whole
 * worker killed with -9 mid-job still give one result per image within a bounded time, and a rerun changes nothing;
 * the coordinator killed with -9 mid-run, then a rerun, lose nothing; a job no worker can run is recorded as failed
 * with BullMQ's reason.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { hashFile, resultKey, walkFolder } from '../src/lib/screen/corpus';
import { detectorId } from '../src/lib/screen/detector';
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

/** `n` images of the corpus (from the `from`-th, in walk order) copied flat into a folder of their own. */
function subset(name: string, from: number, n: number): { root: string; keys: Set<string> } {
  const root = fs.mkdtempSync(path.join(work, `${name}-`));
  const keys = new Set<string>();
  for (const f of walkFolder(corpus.root).files.filter((f) => f.path !== corpus.corrupt && f.path !== corpus.duplicate.copy).slice(from, from + n)) {
    fs.copyFileSync(f.path, path.join(root, path.basename(f.path)));
    keys.add(resultKey(hashFile(f.path), detectorId(CHEAP)));
  }
  assert.equal(keys.size, n);
  return { root, keys };
}

/** The node processes a process has forked (a `sifd worker`'s detector processes). */
function childrenOf(pid: number): number[] {
  return spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
}

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

async function waitFor(what: string, ms: number, ok: () => boolean, pollMs = 100): Promise<void> {
  for (const t0 = Date.now(); !ok(); await new Promise((r) => setTimeout(r, pollMs))) assert.ok(Date.now() - t0 < ms, `${what} within ${ms / 1000} s`);
}

/** SIGTERM (finish the jobs in hand), then SIGKILL after 20 s: a worker stuck on a job must not hang the suite. */
async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  await Promise.all(
    workers.map((w) => {
      if (w.exitCode !== null || w.signalCode !== null) return Promise.resolve();
      const exited = new Promise((r) => w.once('exit', r));
      w.kill('SIGTERM');
      const force = setTimeout(() => w.kill('SIGKILL'), 20_000);
      return exited.finally(() => clearTimeout(force));
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

test('BullMQ: a detector process killed mid-job, its replacement killed while starting, a worker killed mid-job: done within 60 s of the kills, one result per image; a rerun changes nothing', { skip, timeout: 300_000 }, async () => {
  const part = subset('kill-children', 0, 30);
  const db = path.join(work, 'kill-children.sqlite');
  const workers = [0, 1].map(() => startWorker('children'));
  const stop = new AbortController();
  try {
    const run = screenCorpus({ images: part.root, detector: CHEAP, db, queue: { redis: redis.url, name: 'children', batch: 20 }, progress: false, signal: stop.signal });
    let finished = false;
    void run.then(() => (finished = true), () => (finished = true));
    await waitFor('the first results', 120_000, () => finished || rowCount(db) >= 6);
    assert.ok(!finished && rowCount(db) < part.keys.size, 'the kills come mid-run');
    // worker 0's detector process is busy (concurrency 1, results flowing): kill it mid-job
    const [first] = childrenOf(workers[0].pid ?? 0);
    assert.ok(first, "worker 0's detector process");
    process.kill(first, 'SIGKILL');
    // the worker starts a replacement for its next job: kill that one while it starts (loading tsx and the detector
    // takes seconds; BullMQ 6.7's own sandbox hung the job forever in this case)
    let second = 0;
    await waitFor('a replacement detector process', 30_000, () => (second = childrenOf(workers[0].pid ?? 0).find((p) => p !== first) ?? 0) > 0, 20);
    process.kill(second, 'SIGKILL');
    // and worker 1 as a whole, mid-job: its lock lapses (2 s) and a live worker's stalled check takes the job back
    const orphan = childrenOf(workers[1].pid ?? 0);
    workers[1].kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor('the run to finish', 60_000, () => finished, 200);
    await run;
    assert.ok(Date.now() - killedAt < 60_000);
    await waitFor("the killed worker's detector process to leave", 30_000, () => !orphan.some(alive));
    assert.equal(rowCount(db), part.keys.size, 'exactly one result per distinct image');
    const byKey = new Map(reference.map((r) => [r.key, r]));
    assert.deepEqual(resultsOf(db), [...part.keys].sort().map((k) => byKey.get(k)));
    const before = ResultStore.open(db, { readonly: true });
    const rows = before.results();
    before.close();
    assert.ok(rows.some((r) => r.attempts >= 2), 'the jobs of the killed detector processes were retried by BullMQ');
    const again = await screenCorpus({ images: part.root, detector: CHEAP, db, queue: { redis: redis.url, name: 'children' }, progress: false });
    assert.equal(again.screened, 0);
    assert.equal(again.alreadyDone, part.keys.size);
    const after = ResultStore.open(db, { readonly: true });
    assert.deepEqual(after.results(), rows, 'a rerun changes nothing');
    after.close();
  } finally {
    stop.abort();
    await stopWorkers(workers);
  }
});

test('BullMQ: kill -9 of a worker mid-job and of the coordinator mid-run, then a rerun: one result per image, none lost', { skip, timeout: 300_000 }, async () => {
  const part = subset('kill-coordinator', 30, 40);
  const db = path.join(work, 'killed.sqlite');
  const workers = [0, 1].map(() => startWorker('killed'));
  try {
    const coordinator = spawn(process.execPath, [repoPath('bin', 'sifd.js'), 'screen', '--images', part.root, ...CHEAP_ARGS, '--db', db, '--redis', redis.url, '--queue', 'killed'], { stdio: 'ignore' });
    const exited = new Promise((r) => coordinator.once('exit', r));
    await waitFor('the coordinator to store results while it runs', 120_000, () => {
      assert.equal(coordinator.exitCode, null, 'the coordinator is still running');
      return rowCount(db) >= 10;
    });
    // a worker with concurrency 1 that has delivered results is busy with its next job
    workers[0].kill('SIGKILL');
    coordinator.kill('SIGKILL');
    await exited;
    const partial = rowCount(db);
    assert.ok(partial < part.keys.size, `killed mid-run (${partial} of ${part.keys.size} stored)`);
    const s = await screenCorpus({ images: part.root, detector: CHEAP, db, queue: { redis: redis.url, name: 'killed', batch: 50 }, progress: false });
    assert.equal(s.alreadyDone, partial, 'the rerun continues where the killed run stopped');
    assert.equal(s.alreadyDone + s.screened, part.keys.size);
    assert.equal(rowCount(db), part.keys.size, 'exactly one result per distinct image');
    const byKey = new Map(reference.map((r) => [r.key, r]));
    assert.deepEqual(resultsOf(db), [...part.keys].sort().map((k) => byKey.get(k)));
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
