/**
 * dinov2-metric through the project's pipeline: sifd train (loader, trainer, checkpoints) ->
 * sifd tune (decoder parameters into the run) -> sifd predict (which decodes with them) -> sifd evaluate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend/index';
import { generateDataset } from '../src/lib/data/synth/index';
import { candidateParams } from '../src/lib/eval/tune';
import { readDecodeParams, runDecoder, writeDecodeParams } from '../src/lib/infer/decode-params';
import { loadPredictorFromRun } from '../src/lib/infer/run';
import { getModelSpec } from '../src/lib/models/index';
import { Rng } from '../src/lib/util/random';
import { sifdInProcess as sifd } from './helpers/cli';
import { assertRunPredictsAtImageSize } from './helpers/run-predictor';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-dinov2-run-'));
const data = path.join(root, 'data');

test.before(async () => {
  await initBackend({ prefer: 'wasm' });
  await generateDataset({ out: data, n: 8, seed: 4, sizes: { min: 56, max: 96 }, testFraction: 0.25 });
});

test.after(() => fs.rmSync(root, { recursive: true, force: true }));

test('candidateParams: the whole grid when small enough, else seeded distinct draws', () => {
  const space = { a: [1, 2], b: [10, 20, 30] };
  assert.deepEqual(candidateParams(space, 6, new Rng(0)), [
    { a: 1, b: 10 }, { a: 1, b: 20 }, { a: 1, b: 30 }, { a: 2, b: 10 }, { a: 2, b: 20 }, { a: 2, b: 30 },
  ]);
  const draws = candidateParams(space, 4, new Rng(3));
  assert.equal(draws.length, 4);
  assert.equal(new Set(draws.map((d) => JSON.stringify(d))).size, 4);
  assert.deepEqual(draws, candidateParams(space, 4, new Rng(3)));
});

test('dinov2-metric: sifd train -> sifd tune -> sifd predict (with the tuned cascade) -> sifd evaluate', async () => {
  const start = tf.memory().numTensors;
  const run = path.join(root, 'runs', 'dino');
  const tr = await sifd('train', '--model', 'dinov2-metric', '--data', data, '--out', run, '--size', '56', '--batch', '2', '--backend', 'wasm', '--seed', '1', '--epochs', '1');
  assert.equal(tr.code, 0, tr.err);
  // tuning on the same small set only exercises the command here; real runs tune on validation images
  const tu = await sifd('tune', '--run', run, '--data', data, '--trials', '3', '--seed', '2', '--json');
  assert.equal(tu.code, 0, tu.err);
  const record = JSON.parse(tu.out);
  assert.equal(record.model, 'dinov2-metric');
  assert.equal(record.trials, 4);
  assert.ok(record.of1 >= record.defaultOf1);
  assert.deepEqual(readDecodeParams(run)?.params, record.params);

  const sub = path.join(root, 'dino.csv');
  const p = await sifd('predict', '--run', run, '--images', path.join(data, 'test_images'), '--out', sub);
  assert.equal(p.code, 0, p.err);
  const e = await sifd('evaluate', '--data', data, '--pred', sub, '--json');
  assert.equal(e.code, 0, e.err);
  assert.ok(JSON.parse(e.out).of1 >= 0);

  await assertRunPredictsAtImageSize(run, data);
  assert.equal(tf.memory().numTensors, start, 'tensors leaked');

  // a decode.json the run cannot use is refused by name
  writeDecodeParams(run, { ...record, params: { minClusterSize: 1 } });
  await assert.rejects(loadPredictorFromRun(run), /minClusterSize/);
  writeDecodeParams(run, { ...record, model: 'unet-tiny' });
  assert.throws(() => runDecoder(getModelSpec('dinov2-metric'), run, 'dinov2-metric'), /for model 'unet-tiny'/);
  assert.throws(() => runDecoder(getModelSpec('unet-tiny'), run, 'unet-tiny'), /no tunable decoder/);
  const bad = await sifd('tune', '--run', run, '--data', data, '--trials', '0');
  assert.equal(bad.code, 2);
});
