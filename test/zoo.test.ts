/**
 * The model zoo (src/lib/zoo/, `sifd compare`): on tiny synthetic sets and a tiny run trained with
 * notebook 06's quick recipe, the compare table equals the notebook path (loadPredictorFromRun with
 * the notebook's options + validatePredictor) on the same images and checkpoint; absent models are
 * listed with their reason; a corrupt validation image is reported, not fatal; the HTML is offline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import { scan } from '../src/lib/data/scan';
import { generateDataset } from '../src/lib/data/synth/index';
import { validatePredictor } from '../src/lib/eval/validate';
import { loadPredictorFromRun } from '../src/lib/infer/run';
import { PREDICT_OPTIONS_FILE, readRunPredictOptions } from '../src/lib/infer/predict-options';
import { calibrateEventScore } from '../src/lib/eval/calibrate';
import { CALIBRATION_FILE, readCalibration } from '../src/lib/infer/calibration';
import { trainOnDataset } from '../src/lib/train/dataset_run';
import { compareModels } from '../src/lib/zoo/compare';
import { imageCurves } from '../src/lib/zoo/curves';
import { familyRecipe, scaleRecipe } from '../src/lib/zoo/recipes';
import { writeZooReport } from '../src/lib/zoo/report';
import { listRuns } from '../src/lib/zoo/runs';
import { sifdInProcess as sifd } from './helpers/cli';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-zoo-'));
const data = path.join(root, 'data');
const val = path.join(root, 'val');
const tune = path.join(root, 'tune');
const runs = path.join(root, 'runs');
const run = path.join(runs, '06_bappy-patch_quick');

test.before(async () => {
  await initBackend();
  await generateDataset({ out: data, n: 16, seed: 31, sizes: { min: 96, max: 160 }, testFraction: 0 });
  await generateDataset({ out: val, n: 8, seed: 32, sizes: { min: 96, max: 160 }, testFraction: 0 });
  await generateDataset({ out: tune, n: 8, seed: 33, sizes: { min: 96, max: 160 }, testFraction: 0 });
  // A run as notebook 06 leaves one (its quick recipe, its event threshold calibrated on a tuning set into
  // predict.json): compare must predict with the run's options.
  const recipe = familyRecipe('bappy-patch', { quick: true });
  await trainOnDataset({ model: 'bappy-patch', modelConfig: recipe.modelConfig, data, out: run, overrides: recipe.train, scheduleFor: recipe.schedule, warn: () => undefined });
  await calibrateEventScore({ runDir: run, data: tune });
});

test.after(() => fs.rmSync(root, { recursive: true, force: true }));

test('compare scores a run exactly as its notebook does, lists absent models, writes JSON and offline HTML, frees its tensors', async () => {
  const start = tf.memory().numTensors;
  const result = await compareModels({ data, valData: val, models: ['bappy-patch', 'maskrcnn-mnv3s', 'not-a-model'], runs, classical: false });
  assert.equal(tf.memory().numTensors, start, 'compare leaves no tensor behind');

  const entry = result.entries.find((e) => e.name === 'bappy-patch')!;
  assert.equal(entry.kind, 'run');
  assert.equal(entry.run, run);
  assert.deepEqual(entry.predictOptions, readRunPredictOptions(run));
  assert.equal(entry.predictOptions!.minEventScore, readCalibration(run)!.minEventScore);
  assert.match(entry.predictOptionsSource!, /predict\.json/);

  // The notebook path: its predictor options, validatePredictor on the same images.
  const samples = (await scan(val)).samples.filter((s) => s.split === 'train' && s.label !== 'unknown');
  const predictor = await loadPredictorFromRun(run);
  const notebook = await validatePredictor(predictor, samples);
  predictor.dispose();
  assert.equal(result.valImages, samples.length);
  const { per_image: _a, ...expected } = notebook.evaluation;
  assert.deepEqual(entry.evaluation, expected);
  assert.equal(entry.metrics!.oF1, notebook.rows[0].oF1);
  assert.equal(entry.metrics!.dice_pos, notebook.rows[0].val_dice_pos);
  assert.equal(entry.metrics!.iou_all, notebook.rows[0].val_iou_all);
  assert.ok(Number.isFinite(entry.metrics!.pixel_auc), 'a probability-map model has a pixel AUC');
  assert.ok(entry.metrics!.ms_per_mp > 0);
  assert.ok(entry.parameters! > 0 && entry.trainMinutes! > 0);
  assert.ok(entry.detail!.curves.pixel, 'pixel curves from the probability maps');
  assert.ok(entry.detail!.byFamily!.length > 0 && entry.detail!.byTransform!.length > 0, 'per family and per transform on a synthetic set');

  const baseline = result.entries.find((e) => e.kind === 'baseline')!;
  assert.equal(baseline.metrics!.oF1, notebook.rows[1].oF1);

  const absent = Object.fromEntries(result.entries.filter((e) => e.kind === 'absent').map((e) => [e.name, e.reason]));
  assert.match(absent['maskrcnn-mnv3s']!, /no finished run of 'maskrcnn-mnv3s'.*no --budget/);
  assert.match(absent['not-a-model']!, /not registered/);

  const files = writeZooReport(result, path.join(root, 'report'));
  const json = JSON.parse(fs.readFileSync(files.json, 'utf8'));
  assert.equal(json.table.length, 2);
  assert.equal(json.entries.length, 4);
  const page = fs.readFileSync(files.html, 'utf8');
  assert.ok(!/<script[^>]+src=/i.test(page), 'no external scripts');
  assert.ok(!/<link[^>]+href="?https?:/i.test(page), 'no external stylesheets');
  assert.ok(page.includes(fs.readFileSync(require.resolve('plotly.js-dist-min/plotly.min.js'), 'utf8').slice(0, 200)), 'plotly.js inlined');
  assert.match(page, /Plotly\.newPlot\('plot3'/, 'image and pixel PR/ROC curves');
  assert.match(page, /not-a-model/);
});

test('a corrupt validation image is reported and skipped, the others scored', async () => {
  const broken = path.join(root, 'val-broken');
  fs.cpSync(val, broken, { recursive: true });
  const dir = path.join(broken, 'train_images', 'forged');
  const victim = path.join(dir, fs.readdirSync(dir).sort()[0]);
  const bytes = fs.readFileSync(victim);
  fs.writeFileSync(victim, bytes.subarray(0, Math.floor(bytes.length / 2)));
  const result = await compareModels({ data, valData: broken, models: ['bappy-patch'], runs, classical: false });
  const reported = [...result.problems.map((p) => p.file), ...result.unreadable.map((u) => u.file)];
  assert.ok(reported.includes(victim), `the truncated image is reported: ${JSON.stringify(reported)}`);
  const entry = result.entries.find((e) => e.name === 'bappy-patch')!;
  assert.equal(entry.kind, 'run');
  const all = (await scan(val)).samples.filter((s) => s.split === 'train' && s.label !== 'unknown').length;
  assert.equal(entry.evaluation!.n_images, all - 1);
});

test('sifd compare trains a missing model with its quick recipe in the budget, calibrates it on the tuning set, lists the absent', async () => {
  const out = path.join(root, 'cli-out');
  const freshRuns = path.join(root, 'cli-runs');
  const res = await sifd('compare', '--data', data, '--tune-data', tune, '--models', 'unet-tiny,bappy-convlstm,nope', '--runs', freshRuns, '--budget', '0.2', '--quick', '--no-classical', '--out', out, '--json');
  assert.equal(res.code, 0, res.err);
  const printed = JSON.parse(res.out.trim().split('\n').pop()!);
  assert.deepEqual(printed.table.map((r: { model: string }) => r.model), ['unet-tiny', 'bappy-convlstm', 'all authentic (baseline)']);
  assert.match(printed.absent.find((a: { model: string }) => a.model === 'nope').reason, /not registered/);
  const trained = listRuns(freshRuns);
  assert.equal(trained.length, 2);
  const lstm = trained.find((r) => r.model === 'bappy-convlstm')!;
  // calibrated on --tune-data as the notebooks calibrate theirs
  assert.equal(readRunPredictOptions(lstm.dir)!.minEventScore, readCalibration(lstm.dir)!.minEventScore);
  assert.ok(fs.existsSync(path.join(lstm.dir, PREDICT_OPTIONS_FILE)) && fs.existsSync(path.join(lstm.dir, CALIBRATION_FILE)));
  // Validated on the held-out split of --data: no trained run saw those images.
  const report = JSON.parse(fs.readFileSync(path.join(out, 'zoo.json'), 'utf8'));
  assert.ok(report.valImages > 0 && report.valImages < 16);
  const bad = await sifd('compare', '--data', data, '--budget=-1');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--budget must be a number >= 0/);
});

test('a budget scales the recipe (epochs, then images); image curves of a perfect ranking', () => {
  const full = familyRecipe('segformer-cmfd');
  assert.equal(scaleRecipe(full, 60), full);
  const half = scaleRecipe(full, full.minutes / 2);
  assert.equal(half.train.epochs, Math.floor(full.train.epochs / 2));
  assert.equal(half.trainImages, full.trainImages);
  const tiny = scaleRecipe(full, full.minutes / 40);
  assert.equal(tiny.train.epochs, 1);
  assert.equal(tiny.trainImages, Math.round((full.trainImages * full.train.epochs) / 40));
  const c = imageCurves([0.9, 0.8, 0.1, 0], [1, 1, 0, 0]);
  assert.equal(c.auc, 1);
  assert.equal(c.ap, 1);
  assert.deepEqual(c.pr.y.slice(0, 2), [1, 1]);
});

test('a run predict.json with a bad value fails naming the file', () => {
  const dir = fs.mkdtempSync(path.join(root, 'badopts-'));
  fs.writeFileSync(path.join(dir, PREDICT_OPTIONS_FILE), JSON.stringify({ minEventScore: 2 }));
  assert.throws(() => readRunPredictOptions(dir), (err: Error) => err.message.includes(path.join(dir, PREDICT_OPTIONS_FILE)) && /minEventScore/.test(err.message));
});
