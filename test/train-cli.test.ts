import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import { generateDataset } from '../src/lib/data/synth/index';
import { loadPredictorFromRun } from '../src/lib/infer/run';
import { CALIBRATION_FILE, readCalibration, type CalibrationRecord } from '../src/lib/infer/calibration';
import { PREDICT_OPTIONS_FILE, readRunPredictOptions } from '../src/lib/infer/predict-options';
import { EVENT_SCORE_CANDIDATES } from '../src/lib/eval/calibrate';
import { validatePredictor } from '../src/lib/eval/validate';
import { scan } from '../src/lib/data/scan';
import { probabilityToInstances } from '../src/lib/infer/postprocess';
import { readHistory } from '../src/lib/train/history';
import { progressCallbacks } from '../src/lib/train/callbacks';
import { trainModel } from '../src/lib/train/trainer';
import { DEFAULT_TRAIN_CONFIG } from '../src/lib/train/config';
import { buildModel } from '../src/lib/models';
import { trainingCurvesFigure } from '../src/viz/figures/training';
import { Rng } from '../src/lib/util/random';
import { sifdInProcess as sifd } from './helpers/cli';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-train-cli-'));
const data = path.join(root, 'data');
const run = path.join(root, 'runs', 'tiny');
// The best backend (native TensorFlow where built, else wasm), as a user's `sifd train` gets.
const common = ['--data', data, '--out', run, '--size', '32', '--batch', '4', '--seed', '1'];

test.before(async () => {
  await initBackend();
  await generateDataset({ out: data, n: 12, seed: 3, sizes: { min: 48, max: 96 }, testFraction: 0.2 });
});

test.after(() => fs.rmSync(root, { recursive: true, force: true }));

test('sifd train writes checkpoints and history, refuses to overwrite a run, and resumes it', async () => {
  const first = await sifd('train', ...common, '--epochs', '1');
  assert.equal(first.code, 0, first.err);
  const summary = JSON.parse(first.out.trim().split('\n').pop()!);
  assert.equal(summary.epochs, 1);
  assert.ok(Number.isFinite(summary.train_loss) && summary.train_samples > 0);
  assert.match(first.err, /epoch 1\/1 train_loss=\d/);
  const weights = path.join(run, 'epoch_1', 'weights.bin');
  const before = fs.readFileSync(weights);

  const again = await sifd('train', ...common, '--epochs', '2');
  assert.equal(again.code, 1);
  assert.match(again.err, /already holds checkpoints; pass --resume/);
  assert.deepEqual(fs.readFileSync(weights), before, 'a refused run must not touch the old checkpoint');

  const resumed = await sifd('train', ...common, '--epochs', '2', '--resume');
  assert.equal(resumed.code, 0, resumed.err);
  assert.equal(JSON.parse(resumed.out.trim().split('\n').pop()!).resumed_from, path.join(run, 'epoch_1'));
  assert.match(resumed.err, /resuming keeps the run's own recipe; ignoring batchSize, size, seed/);
  assert.equal(readHistory(path.join(run, 'history.jsonl')).length, 2);
});

test('sifd train --replicas 2 trains data-parallel to the same loss as one replica', async () => {
  const saved = process.env.SIFD_WASM_THREADS;
  try {
    // Replicas are wasm's (the native backend ignores them: its thread pool already uses every core).
    const one = await sifd('train', ...common.map((a) => (a === run ? path.join(root, 'runs', 'r1') : a)), '--epochs', '1', '--backend', 'wasm');
    const two = await sifd('train', ...common.map((a) => (a === run ? path.join(root, 'runs', 'r2') : a)), '--epochs', '1', '--replicas', '2', '--backend', 'wasm');
    assert.equal(one.code, 0, one.err);
    assert.equal(two.code, 0, two.err);
    const lossOf = (r: { out: string }) => JSON.parse(r.out.trim().split('\n').pop()!).train_loss as number;
    assert.ok(Math.abs(lossOf(one) - lossOf(two)) <= 1e-4 * Math.abs(lossOf(one)), `${lossOf(one)} vs ${lossOf(two)}`);
    const bad = await sifd('train', '--data', data, '--replicas', '0');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--replicas must be an integer >= 1, got '0'/);
  } finally {
    if (saved === undefined) delete process.env.SIFD_WASM_THREADS;
    else process.env.SIFD_WASM_THREADS = saved;
  }
});

test('sifd train rejects bad options with a clear message', async () => {
  const badLr = await sifd('train', '--data', data, '--lr', 'fast');
  assert.equal(badLr.code, 2);
  assert.match(badLr.err, /--lr must be a number > 0, got 'fast'/);
  const badModel = await sifd('train', '--data', data, '--model', 'unet-tiyn', '--out', path.join(root, 'runs', 'x'), '--backend', 'wasm');
  assert.equal(badModel.code, 1);
  assert.match(badModel.err, /unknown model 'unet-tiyn'; did you mean 'unet-tiny'/);
  const badPreset = await sifd('train', '--data', data, '--preset', 'adamw-cosin', '--out', path.join(root, 'runs', 'y'), '--backend', 'wasm');
  assert.match(badPreset.err, /did you mean 'adamw-cosine'/);
  const badEvidence = await sifd('train', '--data', data, '--evidence', 'twins', '--out', path.join(root, 'runs', 'z'), '--backend', 'wasm');
  assert.equal(badEvidence.code, 1);
  assert.match(badEvidence.err, /evidence must be one of none, exact-twins, twins-blocks, twins-blocks-resampled, got "twins"/);
  const rgbOnly = await sifd('train', '--data', data, '--evidence', 'exact-twins', '--out', path.join(root, 'runs', 'w'), '--backend', 'wasm');
  assert.equal(rgbOnly.code, 1);
  assert.match(rgbOnly.err, /model 'unet-tiny' takes RGB input only; evidence 'exact-twins' needs a model with an 'inChannels' option/);
  assert.ok(!fs.existsSync(path.join(root, 'runs', 'w', 'epoch_1')), 'nothing trained');
});

test('loadPredictorFromRun predicts instances at the original size of any image', async () => {
  const predictor = await loadPredictorFromRun(run);
  const start = tf.memory().numTensors;
  const rng = new Rng(4);
  const rgb = { data: Uint8Array.from({ length: 50 * 70 * 3 }, () => rng.int(0, 255)), width: 70, height: 50, channels: 3 };
  const gray = { data: Uint8Array.from({ length: 33 * 41 }, () => rng.int(0, 255)), width: 41, height: 33, channels: 1 };
  for (const image of [rgb, gray]) {
    const p = await predictor.predict(image);
    assert.deepEqual([p.instances.height, p.instances.width], [image.height, image.width]);
    assert.equal(p.instances.data.length, p.instances.count * image.height * image.width);
    assert.equal(p.scores.length, p.instances.count);
    assert.equal(p.probability?.length, image.height * image.width);
    assert.ok(p.probability!.every((v) => v >= 0 && v <= 1));
  }
  assert.equal(tf.memory().numTensors, start, 'predict leaked tensors');
  predictor.dispose();
  await assert.rejects(predictor.predict(rgb), /after dispose/);
  await assert.rejects(loadPredictorFromRun(path.join(root, 'runs', 'none')), /no complete checkpoint/);
});

test('loadPredictorFromRun events: a probability-map model gives one merged event by default, its regions with keep', async () => {
  const rng = new Rng(6);
  const image = { data: Uint8Array.from({ length: 50 * 70 * 3 }, () => rng.int(0, 255)), width: 70, height: 50, channels: 3 };
  // a threshold at which this run's map splits into several regions
  const probe = await loadPredictorFromRun(run, { events: 'keep' });
  const prob = (await probe.predict(image)).probability!;
  probe.dispose();
  const sorted = Float32Array.from(prob).sort();
  const threshold = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.4, 0.3]
    .map((q) => sorted[Math.floor(q * sorted.length)])
    .find((t) => t > 0 && probabilityToInstances(prob, 50, 70, { threshold: t, minArea: 1 }).instances.count >= 2);
  assert.ok(threshold !== undefined, 'the map splits into regions at some quantile');
  const keep = await loadPredictorFromRun(run, { threshold, minArea: 1, events: 'keep' });
  const merged = await loadPredictorFromRun(run, { threshold, minArea: 1 });
  const overlap = await loadPredictorFromRun(run, { threshold, minArea: 1, events: 'overlap' });
  const start = tf.memory().numTensors;
  const parts = await keep.predict(image);
  const one = await merged.predict(image);
  const touching = await overlap.predict(image);
  assert.equal(tf.memory().numTensors, start, 'predict leaked tensors');
  assert.ok(parts.instances.count >= 2, `regions: ${parts.instances.count}`);
  assert.equal(one.instances.count, 1, "default for a probability-map model: 'merge-all'");
  const n = 50 * 70;
  const union = new Uint8Array(n);
  for (let k = 0; k < parts.instances.count; k++) for (let p = 0; p < n; p++) union[p] |= parts.instances.data[k * n + p];
  assert.deepEqual(one.instances.data, union);
  assert.equal(one.scores[0], Math.max(...parts.scores));
  assert.deepEqual(one.probability, parts.probability);
  assert.ok(touching.instances.count >= 1 && touching.instances.count <= parts.instances.count);
  for (const p of [keep, merged, overlap]) p.dispose();
  await assert.rejects(loadPredictorFromRun(run, { events: 'all' as never }), /unknown event policy 'all'; known: keep, merge-all, overlap/);
});

test('sifd calibrate chooses the event-score threshold on tuning images; the run predictor then uses it, scoring as validation does', async () => {
  const start = tf.memory().numTensors;
  const res = await sifd('calibrate', '--run', run, '--data', data, '--json');
  assert.equal(res.code, 0, res.err);
  const rec = JSON.parse(res.out.trim().split('\n').pop()!) as CalibrationRecord;
  assert.deepEqual(readCalibration(run), rec, 'written into the run');
  // the table's grid plus the chosen threshold, which the search may find between grid points
  assert.deepEqual(rec.trials.map((t) => t.minEventScore), [...new Set([...EVENT_SCORE_CANDIDATES, rec.minEventScore])].sort((a, b) => a - b));
  assert.equal(rec.model, 'unet-tiny');
  assert.ok(rec.trials.every((t) => t.of1 <= rec.chosen.of1 + 1e-9), `the chosen threshold scores best: ${JSON.stringify(rec.trials.map((t) => [t.minEventScore, t.of1]))} chosen ${rec.chosen.minEventScore} ${rec.chosen.of1}`);
  assert.equal(rec.unthresholded.minEventScore, 0);
  // the chosen trial's oF1 is what validation of the calibrated run predictor reports on the same images
  const samples = (await scan(data)).samples.filter((s) => s.label !== 'unknown');
  const predictor = await loadPredictorFromRun(run);
  const validated = await validatePredictor(predictor, samples);
  predictor.dispose();
  assert.equal(validated.evaluation.of1, rec.chosen.of1);
  assert.equal(validated.evaluation.authentic_false_alarm_rate, rec.chosen.falseAlarmRate);
  assert.equal(tf.memory().numTensors, start, 'calibration leaked tensors');
  assert.equal(readRunPredictOptions(run)?.minEventScore, rec.minEventScore, 'the choice is the run predictor default');
  // --dry-run leaves the run's files alone
  const file = path.join(run, CALIBRATION_FILE);
  fs.writeFileSync(path.join(run, PREDICT_OPTIONS_FILE), '{"minEventScore": 0.95}');
  const dry = await sifd('calibrate', '--run', run, '--data', data, '--dry-run');
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.out, /chosen [\d.]+ on \d+ images/);
  assert.equal(fs.readFileSync(path.join(run, PREDICT_OPTIONS_FILE), 'utf8'), '{"minEventScore": 0.95}');
  assert.deepEqual(readCalibration(run), rec);
  fs.rmSync(file);
  fs.rmSync(path.join(run, PREDICT_OPTIONS_FILE));
});

test('progress callbacks log one line per epoch; the training figure has loss and metric traces', async () => {
  const lines: string[] = [];
  const cb = progressCallbacks({ livePlot: false, log: (l) => lines.push(l) });
  const model = buildModel('unet-tiny', {}, new Rng(2));
  const source = ({ rng }: { rng: Rng }) =>
    [0, 1].map(() => ({
      images: tf.tensor4d(Float32Array.from({ length: 2 * 8 * 8 * 3 }, () => rng.next()), [2, 8, 8, 3]),
      masks: tf.tensor4d(Float32Array.from({ length: 2 * 8 * 8 }, (_, i) => (i % 8 < 4 ? 1 : 0)), [2, 8, 8, 1]),
    }));
  const result = await trainModel({ model, config: { ...DEFAULT_TRAIN_CONFIG, epochs: 2, size: 8 }, train: source, val: source, callbacks: [cb] });
  model.dispose();
  assert.equal(lines.length, 2);
  assert.match(lines[1], /^epoch 2\/2 train_loss=\d+\.\d{4} val_loss=\d+\.\d{4} valDice=\d\.\d{3} valIoU=\d\.\d{3} valOF1=\d\.\d{3} lr=1\.0e-3 \(/);
  assert.equal(cb.steps.length, 4);
  const fig = trainingCurvesFigure(result.history, cb.steps);
  const names = fig.data.map((t) => (t as { name: string }).name);
  assert.deepEqual(names, ['train loss (step)', 'train loss', 'val loss', 'valDice', 'valIoU', 'valOF1']);
  assert.deepEqual((fig.data[1] as { x: number[] }).x, [2, 4]);
});
