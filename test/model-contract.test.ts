/**
 * The model contract's acceptance test: two toy families that only the contract describes (an
 * embeddings + clustering model and a boxes + masks model, test/fixtures/toy-models.ts) train,
 * validate and predict through the unchanged trainer, predictor, `sifd predict` and `sifd evaluate`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend/index';
import { createLoader } from '../src/lib/data/loader';
import { scan } from '../src/lib/data/scan';
import { generateDataset } from '../src/lib/data/synth/index';
import { decodeBoxes, decodeEmbeddings } from '../src/lib/infer/decode';
import { buildModel, getModelSpec, registerModel } from '../src/lib/models/index';
import type { DecodeContext } from '../src/lib/models/types';
import { DEFAULT_TRAIN_CONFIG } from '../src/lib/train/config';
import { readHistory } from '../src/lib/train/history';
import { trainModel } from '../src/lib/train/trainer';
import { Rng } from '../src/lib/util/random';
import { registerToyModels } from './fixtures/toy-models';
import { sifdInProcess as sifd } from './helpers/cli';
import { assertRunPredictsAtImageSize } from './helpers/run-predictor';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-contract-'));
const data = path.join(root, 'data');

test.before(async () => {
  await initBackend({ prefer: 'wasm' });
  registerToyModels();
  await generateDataset({ out: data, n: 12, seed: 3, sizes: { min: 48, max: 96 }, testFraction: 0.25 });
});

test.after(() => fs.rmSync(root, { recursive: true, force: true }));

function ctx(height: number, width: number): DecodeContext {
  return { height, width, restore: (m) => m, threshold: 0.5, minArea: 1 };
}

test('decodeEmbeddings: pixels sharing an embedding are one event wherever they lie; authentic pixels sit near the origin', () => {
  // 1x4x4x2: two separate 2-pixel patches at (1,0), one 2-pixel patch at (0,1), the rest ~0.
  const e = new Float32Array(4 * 4 * 2);
  const set = (p: number, x: number, y: number) => ((e[p * 2] = x), (e[p * 2 + 1] = y));
  [0, 1, 14, 15].forEach((p) => set(p, 1, 0));
  [8, 12].forEach((p) => set(p, 0, 1));
  set(5, 0.1, 0.1);
  const embeddings = tf.tensor4d(e, [1, 4, 4, 2]);
  const pred = decodeEmbeddings({ embeddings }, ctx(4, 4));
  embeddings.dispose();
  assert.equal(pred.instances.count, 2);
  const on = (k: number) => [...pred.instances.data.subarray(k * 16, (k + 1) * 16).keys()].filter((p) => pred.instances.data[k * 16 + p]);
  assert.deepEqual(on(0), [0, 1, 14, 15]);
  assert.deepEqual(on(1), [8, 12]);
  assert.deepEqual(pred.scores, [1, 1]);
});

test('decodeBoxes: a confident detection is its mask inside its box; unconfident ones are dropped', () => {
  const instances = tf.tensor4d(new Float32Array(2 * 16).fill(0.9), [1, 2, 4, 4]);
  const boxes = tf.tensor3d([0, 0, 2, 2, 0, 0, 4, 4], [1, 2, 4]);
  const scores = tf.tensor2d([0.8, 0.2], [1, 2]);
  const pred = decodeBoxes({ instances, boxes, scores }, ctx(4, 4));
  tf.dispose([instances, boxes, scores]);
  assert.equal(pred.instances.count, 1);
  assert.deepEqual([...pred.instances.data], [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(pred.scores, [Math.fround(0.8)]);
});

test('a spec asking for an unknown target is refused with a suggestion', () => {
  const spec = getModelSpec('toy-embed');
  assert.throws(() => registerModel('toy-bad', { ...spec, targets: ['instance' as never] }), /unknown target 'instance'; did you mean 'instances'/);
});

for (const [name, metrics] of [
  ['toy-embed', ['valDice', 'valOF1']],
  ['toy-boxes', ['valDice', 'valIoU', 'valOF1']],
] as const) {
  test(`${name}: trains, validates and predicts through the unchanged trainer, predictor, sifd predict and sifd evaluate`, async () => {
    const start = tf.memory().numTensors;
    // The trainer over the loader, with validation: tensor count constant across steps.
    const { samples } = await scan(data);
    const labelled = samples.filter((s) => s.split !== 'test' && s.label !== 'unknown');
    const loader = createLoader({ samples: labelled, batchSize: 4, size: 32, seed: 1, instances: true });
    const model = buildModel(name, {}, new Rng(1));
    const counts: number[] = [];
    try {
      const result = await trainModel({
        model,
        config: { ...DEFAULT_TRAIN_CONFIG, epochs: 2, lr: 1e-2, size: 32, batchSize: 4 },
        train: ({ epoch }) => loader.epoch(epoch),
        val: () => loader.epoch(0),
        callbacks: [{ onBatchEnd: () => counts.push(tf.memory().numTensors) }],
      });
      assert.equal(counts.length, 2 * loader.batchesPerEpoch);
      assert.ok(counts.every((c) => c === counts[0]), `tensor count moved across steps: ${counts}`);
      for (const r of result.history) {
        assert.ok(Number.isFinite(r.trainLoss) && Number.isFinite(r.valLoss), JSON.stringify(r));
        assert.deepEqual(Object.keys(r.metrics ?? {}), [...metrics]);
        for (const v of Object.values(r.metrics ?? {})) assert.ok(v >= 0 && v <= 1, JSON.stringify(r.metrics));
      }
    } finally {
      model.dispose();
      await loader.close();
    }

    // The CLI: sifd train -> sifd predict --run -> sifd evaluate.
    const run = path.join(root, 'runs', name);
    const tr = await sifd('train', '--model', name, '--data', data, '--out', run, '--size', '32', '--batch', '4', '--backend', 'wasm', '--seed', '1', '--epochs', '1');
    assert.equal(tr.code, 0, tr.err);
    const history = readHistory(path.join(run, 'history.jsonl'));
    assert.deepEqual(Object.keys(history[0].metrics ?? {}), [...metrics]);
    const sub = path.join(root, `${name}.csv`);
    const p = await sifd('predict', '--run', run, '--images', path.join(data, 'test_images'), '--out', sub);
    assert.equal(p.code, 0, p.err);
    const e = await sifd('evaluate', '--data', data, '--pred', sub, '--json');
    assert.equal(e.code, 0, e.err);
    const summary = JSON.parse(e.out);
    assert.equal(summary.n_images, fs.readdirSync(path.join(data, 'test_images')).length);
    assert.ok(summary.of1 >= 0 && summary.of1 <= 1);

    // The run predictor directly: events at the image's own size.
    await assertRunPredictsAtImageSize(run, data);
    assert.equal(tf.memory().numTensors, start, 'tensors leaked');
  });
}
