import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import { generateDataset } from '../src/lib/data/synth/index';
import { loadPredictorFromRun } from '../src/lib/infer/run';
import { buildModel } from '../src/lib/models';
import { findLatestCheckpoint } from '../src/lib/train/checkpoint';
import { DEFAULT_TRAIN_CONFIG } from '../src/lib/train/config';
import { trainableNames, trainModel } from '../src/lib/train/trainer';
import { Rng } from '../src/lib/util/random';
import { loadStateDict } from '../src/lib/weights/load';
import { sifdInProcess as sifd } from './helpers/cli';

/** `sifd weights import` -> a run folder -> `sifd train --init --freeze backbone` and `predict`'s loader. */
const FIXTURE = path.join(__dirname, 'fixtures', 'weights', 'mit_tiny.safetensors');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-weights-cli-'));
const data = path.join(root, 'data');
const imported = path.join(root, 'runs', 'imported');
const modelConfig = JSON.stringify({ correlationStage: 0, decoderDim: 32 });

test.before(async () => {
  await initBackend();
  await generateDataset({ out: data, n: 6, seed: 4, sizes: { min: 48, max: 80 }, testFraction: 0 });
});

test.after(() => fs.rmSync(root, { recursive: true, force: true }));

/** One checkpoint's weights by name. */
function weightsOf(run: string): Map<string, Float32Array> {
  const ckpt = findLatestCheckpoint(run, () => undefined)!;
  return new Map([...ckpt.weights].map(([k, v]) => [k, v.values]));
}

test('sifd weights import writes a run every command loads, and never overwrites one', async () => {
  const r = await sifd('weights', 'import', '--model', 'segformer-seg', '--from', FIXTURE, '--out', imported, '--model-config', modelConfig, '--size', '64');
  assert.equal(r.code, 0, r.err);
  const summary = JSON.parse(r.out.trim().split('\n').pop()!);
  assert.equal(summary.checkpoint, path.join(imported, 'epoch_0'));
  assert.match(r.err, /MiT-tiny encoder \(hub names\); decoder: 9 parameters from the decode head; 109 parameters/);
  const w = weightsOf(imported);
  const file = loadStateDict(FIXTURE).tensors.get('segformer.encoder.layer_norm.2.weight')!;
  assert.deepEqual(w.get('encoder/stage3/norm/gamma'), file.data);
  assert.ok(fs.existsSync(path.join(imported, 'import.json')));

  const before = fs.readFileSync(path.join(imported, 'epoch_0', 'weights.bin'));
  const again = await sifd('weights', 'import', '--model', 'segformer-seg', '--from', FIXTURE, '--out', imported);
  assert.equal(again.code, 1);
  assert.match(again.err, /already exists and is not empty; weights import never overwrites a run/);
  assert.deepEqual(fs.readFileSync(path.join(imported, 'epoch_0', 'weights.bin')), before);

  const wrong = await sifd('weights', 'import', '--model', 'segformer-seg', '--from', FIXTURE, '--out', path.join(root, 'runs', 'b0'), '--model-config', '{"variant": "b0"}');
  assert.equal(wrong.code, 1);
  assert.match(wrong.err, /WeightsError: .*mit_tiny\.safetensors: the file's MiT has widths \[16, 32, 64, 128\].*build variant 'tiny'/);
  assert.ok(!fs.existsSync(path.join(root, 'runs', 'b0')), 'a failed import leaves no run folder');

  const predictor = await loadPredictorFromRun(imported, { warn: () => undefined });
  const image = { data: new Uint8Array(40 * 56 * 3).fill(90), width: 56, height: 40, channels: 3 };
  const prediction = await predictor.predict(image);
  assert.deepEqual([prediction.instances.height, prediction.instances.width], [40, 56]);
  predictor.dispose();
});

test('sifd train --init fine-tunes from the imported run; --freeze backbone leaves the encoder exactly as imported', async () => {
  const tuned = path.join(root, 'runs', 'tuned');
  const r = await sifd('train', '--model', 'segformer-seg', '--init', imported, '--freeze', 'backbone', '--data', data, '--out', tuned, '--epochs', '1', '--size', '64', '--batch', '2', '--limit', '2', '--val-fraction', '0');
  assert.equal(r.code, 0, r.err);
  const start = weightsOf(imported);
  const end = weightsOf(tuned);
  let changed = 0;
  for (const [name, values] of end) {
    if (name.startsWith('encoder/')) assert.deepEqual(values, start.get(name), `${name} is frozen`);
    else if (values.some((v, i) => v !== start.get(name)![i])) changed++;
  }
  assert.ok(changed > 0, 'the decoder and head are trained');
  const ckpt = findLatestCheckpoint(tuned, () => undefined)!;
  assert.deepEqual(ckpt.meta.train.freeze, ['encoder/']);
  assert.equal(ckpt.meta.model.config.decoderDim, 32, "the model config comes from the --init run");
  assert.deepEqual(Object.keys(ckpt.optimizer.slots).filter((n) => n.startsWith('encoder/')), [], 'no optimizer state for frozen weights');

  const bad = await sifd('train', '--model', 'unet-tiny', '--freeze', 'backbone', '--data', data, '--out', path.join(root, 'runs', 'u'));
  assert.equal(bad.code, 1);
  assert.match(bad.err, /model 'unet-tiny' declares no backbone to freeze; models that do: segformer-cmfd, segformer-seg/);
});

test('data-parallel replicas compute with the frozen imported encoder too: the same loss as one replica', async () => {
  const saved = process.env.SIFD_WASM_THREADS;
  try {
    const args = (out: string) => ['train', '--model', 'segformer-seg', '--init', imported, '--freeze', 'backbone', '--data', data, '--out', path.join(root, 'runs', out), '--epochs', '1', '--size', '64', '--batch', '2', '--limit', '2', '--val-fraction', '0', '--backend', 'wasm'];
    const one = await sifd(...args('p1'));
    const two = await sifd(...args('p2'), '--replicas', '2');
    assert.equal(one.code, 0, one.err);
    assert.equal(two.code, 0, two.err);
    const lossOf = (r: { out: string }) => JSON.parse(r.out.trim().split('\n').pop()!).train_loss as number;
    assert.ok(Math.abs(lossOf(one) - lossOf(two)) <= 1e-4 * Math.abs(lossOf(one)), `${lossOf(one)} vs ${lossOf(two)}`);
  } finally {
    if (saved === undefined) delete process.env.SIFD_WASM_THREADS;
    else process.env.SIFD_WASM_THREADS = saved;
  }
});

test('the trainer refuses a freeze that matches nothing or everything, and keeps the tensor count', async () => {
  const model = buildModel('unet-tiny', {}, new Rng(0));
  try {
    assert.throws(() => trainableNames(model, ['nope/']), /freeze prefix 'nope\/' matches no parameter of model 'unet-tiny'/);
    assert.throws(() => trainableNames(model, ['']), /nothing to train/);
    const names = [...model.params.keys()];
    const frozen = names[0].split('/')[0] + '/';
    const kept = trainableNames(model, [frozen]);
    assert.ok(kept.length > 0 && kept.every((n) => !n.startsWith(frozen)));
    const start = tf.memory().numTensors;
    const x = tf.randomUniform([2, 16, 16, 3]) as tf.Tensor4D;
    const y = tf.zeros([2, 16, 16, 1]) as tf.Tensor4D;
    const before = model.params.get(names[0])!.dataSync().slice();
    const batch = () => [{ images: x.clone(), masks: y.clone() }];
    await trainModel({ model, config: { ...DEFAULT_TRAIN_CONFIG, epochs: 2, freeze: [frozen] }, train: batch });
    assert.deepEqual(model.params.get(names[0])!.dataSync(), before);
    tf.dispose([x, y]);
    assert.equal(tf.memory().numTensors, start);
  } finally {
    model.dispose();
  }
});
