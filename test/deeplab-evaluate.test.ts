import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { imagePixelScores, meanDefined } from '../src/lib/metrics/pixel-image';
import { EvaluationAccumulator } from '../src/lib/metrics/evaluate';
import { sifdProcess as sifd } from './helpers/cli';

test('per-image pixel F1 and AUC: hand-worked example, undefined without forged pixels', () => {
  const truth = Uint8Array.from([1, 1, 0, 0, 0, 0]);
  const pred = Uint8Array.from([1, 0, 1, 0, 0, 0]); // tp 1, fp 1, fn 1 -> F1 0.5
  const prob = Float32Array.from([0.9, 0.4, 0.6, 0.1, 0.2, 0.3]);
  // positives 0.9, 0.4 vs negatives 0.6, 0.1, 0.2, 0.3: 0.9 beats 4, 0.4 beats 3 -> 7/8
  const s = imagePixelScores(pred, truth, prob);
  assert.equal(s.pixel_f1, 0.5);
  assert.equal(s.pixel_auc, 7 / 8);
  assert.ok(Number.isNaN(imagePixelScores(pred, truth).pixel_auc));
  const none = imagePixelScores(pred, new Uint8Array(6), prob);
  assert.ok(Number.isNaN(none.pixel_f1) && Number.isNaN(none.pixel_auc));
  assert.equal(meanDefined([0.5, NaN, 1]), 0.75);
  assert.ok(Number.isNaN(meanDefined([NaN])));
});

test('the evaluation carries per-image pixel F1/AUC and their means next to the pooled ones', () => {
  const acc = new EvaluationAccumulator();
  const masks = (data: number[]) => ({ data: Uint8Array.from(data), count: 1, height: 2, width: 3 });
  const empty = { data: new Uint8Array(0), count: 0, height: 2, width: 3 };
  acc.add({ caseId: 'a', shape: [2, 3], masks: () => masks([1, 1, 0, 0, 0, 0]), source: 'a' },
    { instances: masks([1, 0, 1, 0, 0, 0]), probability: Float32Array.from([0.9, 0.4, 0.6, 0.1, 0.2, 0.3]) });
  acc.add({ caseId: 'b', shape: [2, 3], masks: () => empty, source: 'b' }, { instances: empty, probability: new Float32Array(6) });
  const e = acc.result();
  assert.deepEqual(e.per_image.map((r) => r.pixel_f1), [0.5, NaN]);
  assert.equal(e.pixel_f1_image_mean, 0.5);
  assert.equal(e.pixel_auc_image_mean, 7 / 8);
  assert.ok(e.pixel_auc !== undefined && e.pixel_auc > 0.5);
});

test('synth -> train deeplabv3plus (tiny) 1 epoch -> evaluate --run --data --per-image --json', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-deeplab-'));
  try {
    const data = path.join(root, 'ds');
    const s = sifd('synth', '--out', data, '--n', '6', '--seed', '5', '--test-fraction', '0', '--min-size', '96', '--max-size', '128');
    assert.equal(s.code, 0, s.stderr);
    const run = path.join(root, 'runs', 'cacl');
    const config = JSON.stringify({ widthDivisor: 16, depths: [1, 1, 1, 1], embeddingDim: 8 });
    const tr = sifd('train', '--model', 'deeplabv3plus', '--model-config', config, '--data', data, '--epochs', '1', '--out', run, '--size', '64', '--batch', '2');
    assert.equal(tr.code, 0, tr.stderr);
    const e = sifd('evaluate', '--run', run, '--data', data, '--per-image', '--json');
    assert.equal(e.code, 0, e.stderr);
    const out = JSON.parse(e.stdout);
    assert.equal(out.n_images, out.per_image.length);
    for (const k of ['pixel_f1', 'pixel_auc']) assert.ok(out[k] >= 0 && out[k] <= 1, `${k} = ${out[k]}`);
    assert.ok(out.per_image.some((r: { pixel_auc: number | null }) => r.pixel_auc !== null));
    const both = sifd('evaluate', '--run', run, '--data', data, '--pred', 'x.csv');
    assert.notEqual(both.code, 0);
    assert.match(both.stderr, /--run or --pred, not both/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
