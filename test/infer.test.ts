import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../src/lib/util/random';
import type { Image, Masks } from '../src/lib/data/types';
import type { Predictor } from '../src/lib/infer/types';
import { predictImages, type ImageSource } from '../src/lib/infer/predict';
import { ConfigError, MetricError } from '../src/lib/errors';
import { addOrMerge, groupEvents, keepScoring, keepVerifiedEvidence, maskIoU, mergeDuplicates, postprocessPrediction, probabilityToInstances, resizeMasks, resizeProbability } from '../src/lib/infer/postprocess';
import { caseIdOf, formatSubmission, readSubmission, writeSubmission } from '../src/lib/infer/submission';
import { readSolutionCsv } from '../src/lib/metrics/solution';
import { evaluateSubmission, evaluationSummary, EvaluationAccumulator, type TruthEntry } from '../src/lib/metrics/evaluate';
import { decodeAnnotation, encodeAnnotation } from '../src/lib/metrics/rle';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-infer-'));

function rowsMask(rows: string[]): Uint8Array {
  return Uint8Array.from(rows.join('').split('').map((c) => (c === '#' ? 1 : 0)));
}
function stack(height: number, width: number, ...instances: Uint8Array[]): Masks {
  const data = new Uint8Array(instances.length * height * width);
  instances.forEach((m, i) => data.set(m, i * height * width));
  return { data, count: instances.length, height, width };
}

test('resizeMasks: nearest neighbour up and down', () => {
  const m = stack(2, 2, rowsMask(['#.', '.#']));
  const up = resizeMasks(m, 4, 4);
  assert.deepEqual(up.data, rowsMask(['##..', '##..', '..##', '..##']));
  const down = resizeMasks(up, 2, 2);
  assert.deepEqual(down.data, m.data);
  assert.deepEqual(resizeMasks(stack(2, 3, rowsMask(['#..', '..#'])), 4, 6).data, rowsMask(['##....', '##....', '....##', '....##']));
});

test('resizeProbability matches tf.image.resizeBilinear(halfPixelCenters)', () => {
  const rng = new Rng(3);
  const start = tf.memory().numTensors;
  for (const [h, w, H, W] of [[5, 7, 13, 9], [16, 16, 7, 5], [3, 4, 3, 4], [1, 6, 4, 11]]) {
    const prob = Float32Array.from({ length: h * w }, () => rng.next());
    const ours = resizeProbability(prob, h, w, H, W);
    const theirs = tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(prob, [1, h, w, 1]), [H, W], false, true).dataSync());
    for (let k = 0; k < ours.length; k++) assert.ok(Math.abs(ours[k] - theirs[k]) < 1e-5, `${h}x${w}->${H}x${W} at ${k}: ${ours[k]} vs ${theirs[k]}`);
  }
  assert.equal(tf.memory().numTensors, start);
});

test('postprocess: resize to original size, drop low score and small, merge near-duplicates', () => {
  // model output at 4x4; original image 8x8
  const big = rowsMask(['##..', '##..', '....', '....']); // 16 px at 8x8
  const bigTwin = rowsMask(['###.', '##..', '....', '....']); // IoU with big at 8x8: 16/20 = 0.8
  const small = rowsMask(['....', '....', '....', '...#']); // 4 px at 8x8
  const other = rowsMask(['....', '....', '##..', '##..']);
  const weak = rowsMask(['....', '....', '..##', '..##']);
  const pred = { instances: stack(4, 4, big, small, bigTwin, other, weak), scores: [0.7, 0.9, 0.95, 0.6, 0.1] };
  const out = postprocessPrediction(pred, null, 8, 8, { minArea: 5, mergeIoU: 0.6, scoreThreshold: 0.2 });
  assert.equal(out.instances.count, 2);
  assert.deepEqual(out.scores, [0.95, 0.6]);
  const merged = resizeMasks(stack(4, 4, bigTwin), 8, 8).data; // big is inside bigTwin, so the union is bigTwin
  assert.deepEqual(out.instances.data.subarray(0, 64), merged);
  assert.deepEqual(out.instances.data.subarray(64), resizeMasks(stack(4, 4, other), 8, 8).data);
  assert.throws(() => postprocessPrediction(pred, null, 8, 8, { mergeIoU: 0 }), ConfigError);
  assert.throws(() => postprocessPrediction({ instances: pred.instances, scores: [1] }, null, 8, 8), /5 instances but 1 scores/);
});

test('groupEvents: keep, merge-all, overlap (touching within the gap, transitively) on hand-made masks', () => {
  const a = rowsMask(['##......', '##......', '........', '........', '........', '........', '........', '........']);
  const b = rowsMask(['...##...', '...##...', '....#...', '........', '........', '........', '........', '........']); // 2 px from a
  const c = rowsMask(['........', '........', '........', '....#...', '........', '........', '........', '........']); // touches b diagonally
  const d = rowsMask(['........', '........', '........', '........', '........', '........', '......##', '......##']); // far away
  const probability = new Float32Array(64).fill(0.25);
  const pred = { instances: stack(8, 8, a, b, c, d), scores: [0.2, 0.9, 0.4, 0.6], probability, notes: ['n'] };
  assert.equal(groupEvents(pred, 'keep'), pred, "'keep' returns the prediction itself");

  const all = groupEvents(pred, 'merge-all');
  assert.equal(all.instances.count, 1);
  assert.deepEqual(all.scores, [0.9]);
  assert.deepEqual(all.instances.data, Uint8Array.from(a.map((v, p) => v | b[p] | c[p] | d[p])));
  assert.equal(all.probability, probability);
  assert.deepEqual(all.notes, ['n']);

  // gap = the largest distance (pixels, 8-neighbourhood) between two masks that still join them
  const touching = groupEvents(pred, 'overlap', { gap: 2 });
  assert.equal(touching.instances.count, 2, 'a-b 2 px apart, b-c adjacent: one event; d apart');
  assert.deepEqual(touching.scores, [0.9, 0.6]);
  assert.deepEqual(touching.instances.data.subarray(0, 64), Uint8Array.from(a.map((v, p) => v | b[p] | c[p])));
  assert.deepEqual(touching.instances.data.subarray(64), d);
  assert.deepEqual(groupEvents(pred, 'overlap', { gap: 1 }).scores, [0.9, 0.6, 0.2], 'gap 1: b-c (diagonal neighbours) join, a stays apart');
  assert.deepEqual(groupEvents(pred, 'overlap', { gap: 0 }).scores, [0.9, 0.6, 0.4, 0.2], 'gap 0: overlap only');
  assert.equal(groupEvents(pred, 'overlap').instances.count, 1, 'default gap 3: d lies 3 px from c');

  // 255 for on counts as on, and comes back 0/1
  const on255 = groupEvents({ instances: stack(8, 8, a.map((v) => v * 255), d.map((v) => v * 255)), scores: [0.5, 0.5] }, 'merge-all');
  assert.deepEqual(on255.instances.data, Uint8Array.from(a.map((v, p) => v | d[p])));
  assert.equal(groupEvents({ instances: stack(8, 8), scores: [] }, 'merge-all').instances.count, 0);
  assert.throws(() => groupEvents(pred, 'merge_all' as never), (e: unknown) => e instanceof ConfigError && /unknown event policy 'merge_all'; did you mean 'merge-all'/.test(e.message));
  assert.throws(() => groupEvents(pred, 'overlap', { gap: -1 }), /eventGap must be an integer >= 0/);
  assert.throws(() => groupEvents({ ...pred, scores: [1] }, 'merge-all'), /4 instances but 1 scores/);

  // postprocessPrediction takes the policy as an option (default 'keep')
  assert.equal(postprocessPrediction(pred, null, 8, 8, { minArea: 1 }).instances.count, 4);
  const merged = postprocessPrediction(pred, null, 16, 16, { minArea: 1, events: 'merge-all' });
  assert.equal(merged.instances.count, 1);
  assert.deepEqual(merged.notes, ['n']);
  assert.equal(postprocessPrediction(pred, null, 8, 8, { minArea: 1, events: 'overlap', eventGap: 2 }).instances.count, 2);
  assert.throws(() => postprocessPrediction(pred, null, 8, 8, { events: 'all' as never }), ConfigError);
});

test('maskIoU / addOrMerge / mergeDuplicates: the one duplicate merge', () => {
  const a = rowsMask(['##..', '##..']);
  const a2 = rowsMask(['###.', '##..']);
  const b = rowsMask(['...#', '...#']);
  assert.equal(maskIoU(a, a2), 0.8);
  assert.equal(maskIoU(a, b), 0);
  assert.equal(maskIoU(new Uint8Array(8), new Uint8Array(8)), 0);
  const kept = mergeDuplicates([{ mask: a, score: 0.3 }, { mask: b, score: 0.5 }, { mask: a2, score: 0.7 }], 0.5);
  assert.equal(kept.length, 2);
  assert.deepEqual(kept.map((k) => k.score), [0.7, 0.5]);
  assert.deepEqual(kept[0].mask, a2);
  assert.deepEqual(a, rowsMask(['##..', '##..']), 'inputs are not changed');
  assert.equal(addOrMerge(kept, b, 0.1, 0.5), 1);
  assert.equal(kept[1].score, 0.5);
  assert.equal(addOrMerge(kept, b, 0.1, 1), 2, 'IoU must exceed the threshold');
});

test('submission: written atomically, quoted, read back; case_id is the file stem', () => {
  const dir = tmp();
  const file = path.join(dir, 'sub', 'submission.csv');
  const masks = stack(3, 4, rowsMask(['#..#', '##.#', '.#..']));
  const rows = [
    { caseId: caseIdOf('/data/test_images/10017.png'), annotation: encodeAnnotation(masks) },
    { caseId: caseIdOf('b.tif'), annotation: 'authentic' },
  ];
  writeSubmission(file, rows);
  assert.equal(fs.readFileSync(file, 'utf8'), 'case_id,annotation\n10017,"[1, 2, 5, 2, 10, 2]"\nb,authentic\n');
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['submission.csv']);
  const back = readSubmission(file);
  assert.deepEqual([...back.entries()], [['10017', '[1, 2, 5, 2, 10, 2]'], ['b', 'authentic']]);
  assert.throws(() => formatSubmission([rows[0], rows[0]]), /duplicate case_id '10017'/);
  fs.rmSync(dir, { recursive: true });
});

test('submission reader: clear errors naming file and line', () => {
  const dir = tmp();
  const cases: Array<[string, RegExp]> = [
    ['id,annotation\n1,authentic\n', /missing column\(s\) case_id/],
    ['case_id,annotation\n1,[1, 2]\n', /line 2: 3 fields.*quote annotations/],
    ['case_id,annotation\n1,authentic\n1,authentic\n', /line 3.*duplicate case_id '1'/],
    ['case_id,annotation\n1,"[5, 1, 2, 1]"\n', /line 2 \(case_id 1, instance 1\).*ascending/],
    ['case_id,annotation\n1,\n', /line 2.*empty annotation/],
    ['case_id,annotation\n1,"[1, 2\n', /unterminated/],
  ];
  cases.forEach(([text, why], i) => {
    const file = path.join(dir, `bad${i}.csv`);
    fs.writeFileSync(file, text);
    assert.throws(() => readSubmission(file), (e: unknown) => e instanceof MetricError && why.test(e.message) && e.message.includes(file), text);
  });
  assert.throws(() => readSubmission(path.join(dir, 'absent.csv')), /cannot read submission/);
  fs.rmSync(dir, { recursive: true });
});

test('evaluate: Kaggle solution CSV example scores 0.8333...; missing rows refused', () => {
  const dir = tmp();
  const solution = path.join(dir, 'solution.csv');
  fs.writeFileSync(
    solution,
    'case_id,annotation,shape\n0,"[101, 102];[300, 100]","[720, 960]"\n1,"[101, 102]","[720, 960]"\n2,"[101, 102]","[720, 960]"\n3,authentic,authentic\n4,authentic,"[10, 10]"\n',
  );
  const sub = path.join(dir, 'submission.csv');
  fs.writeFileSync(sub, 'case_id,annotation\n0,"[101, 102]"\n1,"[101, 102]"\n2,"[101, 102]"\n3,authentic\n4,"[1, 5]"\n');
  const e = evaluateSubmission(readSolutionCsv(solution), readSubmission(sub), sub);
  // per image oF1: 0.5, 1, 1, 1 (authentic/authentic), 0 (mask on authentic)
  assert.ok(Math.abs(e.of1 - 3.5 / 5) < 1e-12);
  assert.deepEqual(e.per_image.map((r) => r.of1), [0.5, 1, 1, 1, 0]);
  assert.equal(e.n_images, 5);
  assert.equal(e.n_forged, 3);
  assert.equal(e.n_pred_forged, 4);
  // pixels: image 0 tp 102 fn 100; images 1,2 tp 102 each; image 4 fp 5
  assert.ok(Math.abs(e.pixel_f1 - (2 * 306) / (2 * 306 + 5 + 100)) < 1e-12);
  assert.ok(Math.abs(e.dice_pos - (204 / 304 + 1 + 1) / 3) < 1e-12);
  assert.ok(Math.abs(e.dice_all - (204 / 304 + 1 + 1 + 1 + 0) / 5) < 1e-12);
  assert.equal(e.image_accuracy, 4 / 5);
  const json = evaluationSummary(e);
  assert.equal(json.n_images, 5);
  assert.equal('per_image' in json, false);
  assert.equal(json.pixel_auc, undefined);
  fs.writeFileSync(sub, 'case_id,annotation\n0,authentic\n');
  assert.throws(() => evaluateSubmission(readSolutionCsv(solution), readSubmission(sub), sub), /no row for 4 of 5 truth case_id\(s\): 1, 2, 3, 4/);
  fs.writeFileSync(solution, 'case_id,annotation,shape\n0,"[1, 2]",authentic\n');
  assert.throws(() => readSolutionCsv(solution), /line 2.*shape must be a JSON \[H, W\]/);
  fs.rmSync(dir, { recursive: true });
});

test('evaluate in memory: probability maps give pixel AUC and best threshold, image scores give image AUC', () => {
  const truthMasks = [stack(2, 2, rowsMask(['#.', '..'])), stack(2, 2)];
  const truth: TruthEntry[] = truthMasks.map((m, i) => ({ caseId: String(i), shape: [2, 2], masks: () => m, source: 'memory' }));
  const acc = new EvaluationAccumulator(10);
  acc.add(truth[0], { instances: decodeAnnotation('[1, 1]', 2, 2), probability: Float32Array.from([0.9, 0.3, 0.2, 0.1]), imageScore: 0.9 });
  acc.add(truth[1], { instances: stack(2, 2), probability: Float32Array.from([0.25, 0.1, 0.1, 0.0]), imageScore: 0.25 });
  const e = acc.result();
  assert.equal(e.of1, 1);
  assert.equal(e.pixel_auc, 1);
  assert.equal(e.best_pixel_f1, 1);
  assert.equal(e.best_threshold, 0.4); // lowest grid threshold above the top negative (0.3); 0.3 itself would count it
  assert.equal(e.image_auc, 1);
  assert.ok(Number.isNaN(e.dice_pos) === false && e.dice_pos === 1);
});

test('probabilityToInstances: thresholded 8-connected regions scored by mean probability', () => {
  // 3x5 map: a diagonal pair (one 8-connected region) on the left, a single strong pixel on the right
  const prob = Float32Array.from([0.9, 0.1, 0.0, 0.0, 0.0, 0.0, 0.7, 0.0, 0.0, 0.8, 0.0, 0.0, 0.0, 0.2, 0.0]);
  const out = probabilityToInstances(prob, 3, 5, { threshold: 0.5, minArea: 1 });
  assert.equal(out.instances.count, 2);
  assert.deepEqual(out.instances.data.subarray(0, 15), rowsMask(['#....', '.#...', '.....']));
  assert.deepEqual(out.instances.data.subarray(15), rowsMask(['.....', '....#', '.....']));
  assert.ok(Math.abs(out.scores[0] - 0.8) < 1e-6 && Math.abs(out.scores[1] - 0.8) < 1e-6);
  assert.equal(probabilityToInstances(prob, 3, 5, { threshold: 0.5, minArea: 2 }).instances.count, 1);
});

test('predictImages: half-size model masks come back at original size as RLE rows; failures name the file', async () => {
  // A real (if simple) predictor: bright pixels of a 2x-downsampled grey image are "forged".
  const brightPredictor: Predictor = {
    name: 'bright',
    async predict(image: Image) {
      const h = image.height / 2;
      const w = image.width / 2;
      if (!Number.isInteger(h) || !Number.isInteger(w)) throw new Error('odd size');
      const data = new Uint8Array(h * w);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = image.data[(2 * y * image.width + 2 * x) * image.channels] > 200 ? 1 : 0;
      const count = data.some((v) => v) ? 1 : 0;
      return { instances: { data: count ? data : new Uint8Array(0), count, height: h, width: w }, scores: count ? [0.9] : [] };
    },
    dispose() {},
  };
  const img = (bright: number[]): Image => {
    const data = new Uint8Array(4 * 4);
    for (const p of bright) data[p] = 255;
    return { data, width: 4, height: 4, channels: 1 };
  };
  const sources: ImageSource[] = [
    { caseId: 'a', file: 'a.png', load: async () => img([0]) }, // top-left 2x2 block after upsampling
    { caseId: 'b', file: 'b.png', load: async () => img([]) },
  ];
  const rows = await predictImages(brightPredictor, sources, { postprocess: { minArea: 1 } });
  assert.deepEqual(rows, [
    { caseId: 'a', annotation: '[1, 2, 5, 2]' },
    { caseId: 'b', annotation: 'authentic' },
  ]);
  const odd: ImageSource = { caseId: 'c', file: 'odd/c.png', load: async () => ({ data: new Uint8Array(9), width: 3, height: 3, channels: 1 }) };
  await assert.rejects(predictImages(brightPredictor, [odd]), /odd\/c\.png: bright failed on this image: odd size/);
});

test('keepVerifiedEvidence: evidence regions the model backs (mean probability >= keep) join the mask, others do not', () => {
  // 3 x 6 map. Evidence: region A = columns 0-1 (6 px), region B = columns 4-5 (6 px).
  const evidence = Uint8Array.from([1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1]);
  // A: mean (0.3 * 3 + 0.1 * 3) / 6 = 0.2 -> kept; B: mean 0.1 -> not; the model's own pixel at column 3 stays.
  const prob = Float32Array.from([0.3, 0.1, 0, 0.9, 0.1, 0.1, 0.3, 0.1, 0, 0, 0.1, 0.1, 0.3, 0.1, 0, 0, 0.1, 0.1]);
  const fused = keepVerifiedEvidence(prob, evidence, 3, 6, 0.2, 0.5);
  assert.deepEqual(Array.from(fused, (v) => (v >= 0.5 ? 1 : 0)), [1, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0]);
  assert.equal(fused[3], prob[3], 'model pixels keep their probability');
  assert.equal(prob[0], Math.fround(0.3), 'the input is not modified');
  assert.equal(keepVerifiedEvidence(prob, evidence, 3, 6, 0.25, 0.5).filter((v) => v >= 0.5).length, 1, 'keep above both means: only the model pixel');
  assert.throws(() => keepVerifiedEvidence(prob, evidence, 3, 5, 0.2, 0.5), ConfigError);
  assert.throws(() => keepVerifiedEvidence(prob, evidence, 3, 6, 1.5, 0.5), ConfigError);
});

test('keepScoring: events below the score threshold are dropped, the rest and the probability map kept', () => {
  const n = 4;
  const pred = { instances: { data: Uint8Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1]), count: 3, height: 2, width: 2 }, scores: [0.9, 0.5, 0.8], probability: new Float32Array(n).fill(0.4) };
  const kept = keepScoring(pred, 0.8);
  assert.deepEqual(kept.scores, [0.9, 0.8]);
  assert.deepEqual(Array.from(kept.instances.data), [1, 0, 0, 0, 0, 0, 1, 1]);
  assert.equal(kept.instances.count, 2);
  assert.equal(kept.probability, pred.probability);
  assert.equal(keepScoring(pred, 0), pred, 'threshold 0 keeps the prediction as it is');
});
