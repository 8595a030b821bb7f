/**
 * Issue 26, local screening: ~200 synthetic images screened by 3 worker processes give exactly the single-process
 * results, one row per distinct image; a worker killed mid-job and a coordinator killed mid-run lose nothing and
 * duplicate nothing after a rerun; a corrupt image is a failed result with its reason; the same bytes at two paths
 * are screened once and reported for both.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { hashFile, readList, resultKey, walkFolder } from '../src/lib/screen/corpus';
import { detectorId, specPerProcess } from '../src/lib/screen/detector';
import { writeRunPredictOptions } from '../src/lib/infer/predict-options';
import { ScreenProgress } from '../src/lib/screen/progress';
import { screenCorpus } from '../src/lib/screen/screen';
import { ResultStore } from '../src/lib/screen/store';
import type { ScreenResult } from '../src/lib/screen/types';
import { repoPath } from '../src/lib/util/paths';
import { sifdInProcess } from './helpers/cli';
import { CHEAP, CHEAP_ARGS, makeCorpus, resultsOf, rowCount, type TestCorpus } from './helpers/screen';

let corpus: TestCorpus;
let work: string;
let reference: Array<Record<string, unknown>>;

before(async () => {
  corpus = await makeCorpus(200);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-screen-db-'));
});
after(() => {
  fs.rmSync(path.dirname(corpus.root), { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

function result(over: Partial<ScreenResult>): ScreenResult {
  return {
    key: 'k', sha256: 's', detector: 'd', status: 'done', verdict: 'authentic', score: 0, annotation: 'authentic', scores: [],
    width: 8, height: 8, msRead: 1, msDetect: 1, error: null, attempts: 1, worker: 'w', ...over,
  };
}

test('corpus: recursive walk, PDFs listed as not screened, a list file, content keys per detector', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-walk-'));
  fs.mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'a', 'x.png'), 'same');
  fs.writeFileSync(path.join(dir, 'a', 'b', 'y.JPG'), 'same');
  fs.writeFileSync(path.join(dir, 'paper.pdf'), '%PDF');
  fs.writeFileSync(path.join(dir, 'notes.txt'), '');
  const c = walkFolder(dir);
  assert.deepEqual(c.files.map((f) => [path.relative(dir, f.path), f.folder]), [[path.join('a', 'b', 'y.JPG'), path.join('a', 'b')], [path.join('a', 'x.png'), 'a']]);
  assert.equal(c.problems.length, 1);
  assert.match(c.problems[0].reason, /PDF: figure extraction from PDFs is not supported/);
  const [h1, h2] = c.files.map((f) => hashFile(f.path));
  assert.equal(h1, h2);
  assert.notEqual(resultKey(h1, 'classical-a'), resultKey(h1, 'classical-b'));
  assert.match(resultKey(h1, 'x'), /^[0-9a-f]{64}$/);
  fs.writeFileSync(path.join(dir, 'list.txt'), '# corpus\na/x.png\n\npaper.pdf\nnotes.txt\n');
  const l = readList(path.join(dir, 'list.txt'));
  assert.deepEqual(l.files.map((f) => f.path), [path.join(dir, 'a', 'x.png')]);
  assert.deepEqual(l.problems.map((p) => path.basename(p.path)), ['paper.pdf', 'notes.txt']);
  // the detector id follows the parameters
  assert.equal(detectorId(CHEAP), detectorId({ kind: 'classical', params: { ...(CHEAP as { params: object }).params } }));
  assert.notEqual(detectorId(CHEAP), detectorId({ kind: 'classical' }));
  // ... but not how it runs: with or without its stage worker thread it computes the same results
  assert.equal(detectorId({ kind: 'classical', params: { stageWorker: false } }), detectorId({ kind: 'classical' }));
  assert.equal(detectorId({ kind: 'classical', params: { 'run.stageWorker': false } }), detectorId({ kind: 'classical' }));
  // several detector processes share the cores out: each runs single-threaded unless told otherwise
  assert.equal(specPerProcess(CHEAP, 1), CHEAP);
  assert.deepEqual(specPerProcess({ kind: 'classical', params: { maxSide: 256 } }, 2), { kind: 'classical', params: { maxSide: 256, stageWorker: false } });
  assert.deepEqual(specPerProcess({ kind: 'classical', params: { 'run.stageWorker': true } }, 2), { kind: 'classical', params: { 'run.stageWorker': true } });
  fs.rmSync(dir, { recursive: true });
});

test('store: one row per key; a done result is never rewritten, a failed one may be', () => {
  const db = path.join(work, 'unit.sqlite');
  const store = ResultStore.open(db);
  try {
    assert.equal(store.upsert(result({ status: 'failed', verdict: null, error: 'x: boom' })), true);
    assert.equal(store.statusOf('k'), 'failed');
    assert.equal(store.upsert(result({ score: 0.5 })), true);
    assert.equal(store.upsert(result({ score: 0.9, worker: 'other' })), false, 'a second delivery of a done key is absorbed');
    const rows = store.results();
    assert.equal(rows.length, 1);
    assert.equal(rows[0].score, 0.5);
    assert.equal(rows[0].worker, 'w');
  } finally {
    store.close();
  }
  assert.throws(() => ResultStore.open('postgres://db/x'), /Postgres result store is not implemented/);
});

test('progress: done / failed / in flight, rate and ETA; duplicates counted apart', () => {
  const lines: string[] = [];
  let t = 0;
  const p = new ScreenProgress(4, { stream: { write: (s: string) => lines.push(s), isTTY: false }, now: () => t, intervalMs: 0 });
  t = 1000;
  p.setInFlight(2);
  p.result(result({}), true);
  p.result(result({ status: 'failed' }), true);
  p.result(result({}), false);
  t = 4000; // a log (not a terminal) gets a line at most every 2 s
  p.finish(); // stopped early: the bar stays where it is
  p.result(result({}), true);
  p.result(result({}), true);
  p.finish();
  assert.deepEqual(p.counts, { total: 4, done: 3, failed: 1, inFlight: 2, duplicates: 1 });
  assert.ok(lines.some((l) => /\] 2\/4 \(50%\)/.test(l)), lines.join(''));
  assert.match(lines[lines.length - 1], /screen \[#+\.*\] 4\/4 .*it\/s.*ETA.*failed=1 in_flight=2/);
});

test('screen: 3 worker processes == 1 process, one row per distinct image; duplicate bytes once, for both paths; corrupt -> failed with its reason; a rerun screens nothing', { timeout: 600_000 }, async () => {
  const one = path.join(work, 'one.sqlite');
  const s1 = await screenCorpus({ images: corpus.root, detector: CHEAP, db: one, workers: 1, progress: false });
  assert.equal(s1.files, corpus.files);
  assert.equal(s1.unique, corpus.unique);
  assert.equal(s1.screened, corpus.unique);
  reference = resultsOf(one);
  assert.equal(reference.length, corpus.unique);
  assert.ok(reference.some((r) => r.verdict === 'forged') && reference.some((r) => r.verdict === 'authentic'), 'both verdicts occur');

  const three = path.join(work, 'three.sqlite');
  const s3 = await screenCorpus({ images: corpus.root, detector: CHEAP, db: three, workers: 3, progress: false });
  assert.equal(s3.screened, corpus.unique);
  assert.deepEqual(resultsOf(three), reference);

  const store = ResultStore.open(three, { readonly: true });
  try {
    const failed = store.rows('failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0].path, corpus.corrupt);
    assert.match(failed[0].error ?? '', /broken\.png: cannot decode image/);
    const dup = store.rows().filter((r) => r.path === corpus.duplicate.original || r.path === corpus.duplicate.copy);
    assert.equal(dup.length, 2, 'the result is reported for both paths');
    assert.equal(dup[0].key, dup[1].key, 'one result');
    const counts = Object.fromEntries(store.folderCounts().map((c) => [c.folder, c]));
    assert.equal(counts.dup.images, 1);
    assert.equal(counts.corrupt.failed, 1);
  } finally {
    store.close();
  }
  const again = await screenCorpus({ images: corpus.root, detector: CHEAP, db: three, workers: 3, progress: false });
  assert.equal(again.screened, 0);
  assert.equal(again.alreadyDone, corpus.unique);
});

test('kill -9 of a worker mid-job: its job is retried, exactly one result per image, none lost', { timeout: 600_000 }, async () => {
  assert.ok(reference, 'needs the single-process reference');
  const db = path.join(work, 'killed-worker.sqlite');
  let started = 0;
  const killed: number[] = [];
  const s = await screenCorpus({
    images: corpus.root, detector: CHEAP, db, workers: 3, progress: false,
    onJobStart: (pid) => {
      started += 1;
      if (started === 25 || started === 90) {
        process.kill(pid, 'SIGKILL');
        killed.push(pid);
      }
    },
  });
  assert.equal(killed.length, 2);
  assert.equal(s.screened, corpus.unique);
  assert.deepEqual(resultsOf(db), reference);
  const store = ResultStore.open(db, { readonly: true });
  try {
    assert.equal(store.results().filter((r) => r.attempts === 2).length, 2, 'the two killed jobs ran twice');
  } finally {
    store.close();
  }
});

test('kill -9 of the coordinator mid-run: its workers leave; a rerun gives exactly one result per image, none lost', { timeout: 600_000 }, async () => {
  assert.ok(reference, 'needs the single-process reference');
  const db = path.join(work, 'killed-coordinator.sqlite');
  const args = [repoPath('bin', 'sifd.js'), 'screen', '--images', corpus.root, ...CHEAP_ARGS, '--db', db, '--workers', '2'];
  const coordinator = spawn(process.execPath, args, { stdio: 'ignore' });
  const exited = new Promise((r) => coordinator.once('exit', r));
  for (let waited = 0; rowCount(db) < 40; waited += 200) {
    assert.ok(waited < 300_000 && coordinator.exitCode === null, 'the coordinator stores results while it runs');
    await new Promise((r) => setTimeout(r, 200));
  }
  const children = spawnSync('pgrep', ['-P', String(coordinator.pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
  assert.ok(children.length >= 2, `the coordinator's worker processes (${children.join(', ')})`);
  coordinator.kill('SIGKILL');
  await exited;
  // its workers notice the closed IPC channel and leave: no orphans keep computing
  const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
  for (let waited = 0; children.some(alive); waited += 200) {
    assert.ok(waited < 60_000, `worker processes ${children.filter(alive).join(', ')} outlived the killed coordinator`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const partial = rowCount(db);
  assert.ok(partial >= 40 && partial < corpus.unique, `killed mid-run (${partial} of ${corpus.unique} stored)`);
  const rerun = await sifdInProcess('screen', '--images', corpus.root, ...CHEAP_ARGS, '--db', db, '--workers', '2', '--json');
  assert.equal(rerun.code, 0, rerun.err);
  const summary = JSON.parse(rerun.out);
  assert.ok(summary.alreadyDone >= partial, 'the rerun continues where the killed run stopped');
  assert.equal(summary.alreadyDone + summary.screened, corpus.unique);
  assert.deepEqual(resultsOf(db), reference);
});

test('sifd screen: usage and input errors, before any work', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-screen-usage-'));
  const db = path.join(dir, 'r.sqlite');
  const none = await sifdInProcess('screen', '--detector', 'classical', '--db', db);
  assert.equal(none.code, 2);
  assert.match(none.err, /exactly one of --images DIR or --list FILE/);
  const bad = await sifdInProcess('screen', '--images', dir, '--detector', 'clasical', '--db', db);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown --detector 'clasical'/);
  const param = await sifdInProcess('screen', '--images', dir, '--detector', 'classical', '--param', 'detectr=orb', '--db', db);
  assert.equal(param.code, 1);
  assert.match(param.err, /unknown classical parameter 'detectr'; did you mean 'detector'/);
  const both = await sifdInProcess('screen', '--images', dir, '--detector', 'classical', '--db', db, '--workers', '2', '--redis', 'redis://127.0.0.1:1');
  assert.equal(both.code, 2);
  assert.match(both.err, /--workers is for local screening/);
  const url = await sifdInProcess('screen', '--images', dir, '--detector', 'classical', '--db', db, '--redis', 'localhost:6379');
  assert.equal(url.code, 1);
  assert.match(url.err, /--redis must be a redis:\/\/ or rediss:\/\/ URL/);
  const run = await sifdInProcess('screen', '--images', dir, '--run', path.join(dir, 'no-run'), '--db', db);
  assert.equal(run.code, 1);
  assert.match(run.err, /no-run: --run does not exist/);
  assert.ok(!fs.existsSync(db), 'no store is created on a usage error');
  fs.rmSync(dir, { recursive: true });
});

test('a trained run screens through the same path (--run), with the same one-row-per-image results from 1 or 2 workers', { timeout: 600_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-screen-run-'));
  const data = path.join(dir, 'ds');
  const run = path.join(dir, 'run');
  const sifd = (...argv: string[]) => spawnSync(process.execPath, [repoPath('bin', 'sifd.js'), ...argv], { encoding: 'utf8' });
  const s = sifd('synth', '--out', data, '--n', '8', '--seed', '5', '--test-fraction', '0.5', '--min-size', '96', '--max-size', '160');
  assert.equal(s.status, 0, s.stderr);
  const t = sifd('train', '--model', 'unet-tiny', '--data', data, '--epochs', '1', '--out', run, '--size', '64', '--batch', '2');
  assert.equal(t.status, 0, t.stderr);
  const images = path.join(data, 'test_images');
  const spec = { kind: 'run' as const, dir: run };
  const one = await screenCorpus({ images, detector: spec, db: path.join(dir, 'one.sqlite'), workers: 1, progress: false });
  assert.match(one.detector, /^run-[0-9a-f]{16}$/);
  assert.equal(one.done, fs.readdirSync(images).length);
  const two = await screenCorpus({ images, detector: spec, db: path.join(dir, 'two.sqlite'), workers: 2, progress: false });
  assert.equal(two.detector, one.detector);
  assert.deepEqual(resultsOf(path.join(dir, 'two.sqlite')), resultsOf(path.join(dir, 'one.sqlite')));
  // The run's own calibrated threshold (predict.json) is what screening predicts with, so it is part of the
  // detector's id: another threshold is another detector, an explicit one equal to it the same detector.
  writeRunPredictOptions(run, { minEventScore: 0.97 });
  assert.notEqual(detectorId(spec), one.detector);
  assert.equal(detectorId({ ...spec, minEventScore: 0.97 }), detectorId(spec));
  fs.rmSync(dir, { recursive: true });
});
