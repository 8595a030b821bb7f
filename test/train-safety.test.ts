/**
 * Issue 20, item 8 for training runs: leftovers of a killed run are cleaned, history.jsonl matches
 * the newest checkpoint, a corrupt newest checkpoint is kept aside (never deleted) and the one
 * before is used, and a resume checks --data and --epochs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { sifdInProcess as sifd } from './helpers/cli';
import { initBackend } from '../src/lib/backend';
import { generateDataset } from '../src/lib/data/synth/index';
import { readHistory } from '../src/lib/train/history';
import { loadCheckpoint } from '../src/lib/train/checkpoint';

let root: string;
let data: string;
let other: string;

const train = (run: string, ...extra: string[]) =>
  sifd('train', '--data', data, '--out', run, '--size', '32', '--batch', '4', '--seed', '1', '--val-fraction', '0', ...extra);

before(async () => {
  await initBackend(); // the best backend: native TensorFlow where built, else wasm
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-train-safety-'));
  data = path.join(root, 'data');
  other = path.join(root, 'other');
  await generateDataset({ out: data, n: 8, seed: 3, sizes: { min: 48, max: 64 }, testFraction: 0 });
  await generateDataset({ out: other, n: 8, seed: 4, sizes: { min: 48, max: 64 }, testFraction: 0 });
});

after(() => fs.rmSync(root, { recursive: true, force: true }));

test('a kill between checkpoint and history, temp leftovers, and a corrupt newest checkpoint: the resume repairs all three', async () => {
  const run = path.join(root, 'runs', 'a');
  const first = await train(run, '--epochs', '2');
  assert.equal(first.code, 0, first.err);
  // the state a kill -9 can leave: history.jsonl one epoch behind, a half-written checkpoint temp folder
  fs.writeFileSync(path.join(run, 'history.jsonl'), fs.readFileSync(path.join(run, 'history.jsonl'), 'utf8').split('\n')[0] + '\n');
  const leftover = path.join(run, `.epoch_3.tmp-${2 ** 22 + 1}-abc123`);
  fs.mkdirSync(leftover);
  fs.writeFileSync(path.join(leftover, 'weights.bin'), '');
  // and a corrupt newest checkpoint
  const weights = path.join(run, 'epoch_2', 'weights.bin');
  const bytes = fs.readFileSync(weights);
  bytes[7] ^= 0xff;
  fs.writeFileSync(weights, bytes);

  const resumed = await train(run, '--epochs', '2', '--resume');
  assert.equal(resumed.code, 0, resumed.err);
  assert.match(resumed.err, /epoch_2 is unusable .*kept as .*epoch_2\.corrupt-/);
  const aside = fs.readdirSync(run).filter((n) => n.startsWith('epoch_2.corrupt-'));
  assert.equal(aside.length, 1, 'the corrupt checkpoint is kept, renamed aside');
  assert.deepEqual(fs.readFileSync(path.join(run, aside[0], 'weights.bin')), bytes, 'with its files as they were');
  assert.equal(JSON.parse(resumed.out.trim().split('\n').pop()!).resumed_from, path.join(run, 'epoch_1'));
  assert.ok(!fs.existsSync(leftover), 'temp leftovers of the killed run are gone');
  const newest = loadCheckpoint(path.join(run, 'epoch_2'));
  assert.deepEqual(readHistory(path.join(run, 'history.jsonl')), newest.meta.history, 'history.jsonl equals the newest checkpoint');
  assert.equal(newest.meta.history.length, 2);

  // a resume with nothing left to train still brings a trailing history.jsonl in line
  fs.writeFileSync(path.join(run, 'history.jsonl'), '');
  const noop = await train(run, '--epochs', '2', '--resume');
  assert.equal(noop.code, 0, noop.err);
  assert.equal(readHistory(path.join(run, 'history.jsonl')).length, 2);
});

test('a resume refuses another --data and an --epochs below the epochs done, before training', async () => {
  const run = path.join(root, 'runs', 'b');
  assert.equal((await train(run, '--epochs', '2')).code, 0);
  const otherData = await sifd('train', '--data', other, '--out', run, '--size', '32', '--epochs', '3', '--resume');
  assert.equal(otherData.code, 1);
  assert.match(otherData.err, /the run was trained on .*data, not .*other/);
  const fewer = await train(run, '--epochs', '1', '--resume');
  assert.equal(fewer.code, 1);
  assert.match(fewer.err, /already finished 2 epochs; --epochs 1 is below that/);
  // without --data the run's own dataset is used
  const more = await sifd('train', '--out', run, '--size', '32', '--epochs', '3', '--resume');
  assert.equal(more.code, 0, more.err);
  assert.equal(JSON.parse(more.out.trim().split('\n').pop()!).epochs, 3);
  assert.deepEqual(fs.readdirSync(run).filter((n) => /^epoch_\d+$/.test(n)).sort(), ['epoch_1', 'epoch_2', 'epoch_3']);
});
