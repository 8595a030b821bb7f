import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/lib/util/random';
import type { Masks } from '../src/lib/data/types';
import { MetricError } from '../src/lib/errors';
import {
  annotationUnionArea,
  decodeAnnotation,
  decodeRle,
  encodeAnnotation,
  encodeRle,
  parseRuns,
} from '../src/lib/metrics/rle';
import { f1Matrix, imageOF1, meanScore, pixelF1 } from '../src/lib/metrics/of1';
import { confusion, imageOverlap, PixelScoreHistogram, summarizeOverlap, unionMask } from '../src/lib/metrics/pixel';
import { rocAuc, rocAucFromHistograms, rocCurve } from '../src/lib/metrics/roc';

/** Masks from row strings, one string[] per instance: '#' = 1. */
function masksFrom(...instances: string[][]): Masks {
  const height = instances[0].length;
  const width = instances[0][0].length;
  const data = new Uint8Array(instances.length * height * width);
  instances.forEach((rows, i) =>
    rows.forEach((row, y) => [...row].forEach((ch, x) => (data[i * height * width + y * width + x] = ch === '#' ? 1 : 0))),
  );
  return { data, count: instances.length, height, width };
}
const none = (h: number, w: number): Masks => ({ data: new Uint8Array(0), count: 0, height: h, width: w });

test('RLE: hand-computed column-major runs of a 3x4 mask', () => {
  const m = masksFrom(['#..#', '##.#', '.#..']);
  // column-major pixel numbers (0-based): col0 -> 0,1; col1 -> 4,5; col3 -> 9,10
  assert.deepEqual(encodeRle(m.data, 3, 4), [1, 2, 5, 2, 10, 2]);
  assert.equal(encodeAnnotation(m), '[1, 2, 5, 2, 10, 2]');
  assert.deepEqual(decodeRle('[1, 2, 5, 2, 10, 2]', 3, 4), m.data);
  // a run crossing a column boundary: pixels 2 (y2,x0) and 3 (y0,x1)
  assert.deepEqual(decodeRle([3, 2], 3, 4), masksFrom(['.#..', '....', '#...']).data);
});

test('RLE: round trip on random masks of odd sizes', () => {
  const rng = new Rng(7);
  for (let trial = 0; trial < 40; trial++) {
    const height = rng.int(1, 17) | 1;
    const width = rng.int(1, 23) | 1;
    const count = rng.int(0, 3);
    const density = rng.uniform(0, 1);
    const data = new Uint8Array(count * height * width).map(() => (rng.bool(density) ? 1 : 0));
    const masks: Masks = { data, count, height, width };
    const annotation = encodeAnnotation(masks);
    const decoded = decodeAnnotation(annotation, height, width);
    // empty instances are dropped by the encoder; compare the non-empty ones
    const n = height * width;
    const kept = Array.from({ length: count }, (_, i) => data.subarray(i * n, (i + 1) * n)).filter((d) => d.some((v) => v));
    assert.equal(decoded.count, kept.length, `trial ${trial}`);
    kept.forEach((d, i) => assert.deepEqual(decoded.data.subarray(i * n, (i + 1) * n), d));
    if (kept.length === 0) assert.equal(annotation, 'authentic');
  }
});

test('RLE: decoding rejects bad runs with a MetricError that says why', () => {
  const bad: Array<[string, RegExp]> = [
    ['[5, 2, 3, 1]', /ascending/],
    ['[1, 3, 3, 1]', /overlap/],
    ['[1, 2, 3]', /odd number/],
    ['[0, 2]', /below 1/],
    ['[11, 5]', /past the 3x4 image/],
    ['[1.5, 2]', /integers/],
    ['1 2 3 4', /JSON list/],
  ];
  for (const [rle, why] of bad) {
    assert.throws(() => decodeRle(rle, 3, 4, 'sub.csv row 2'), (e: unknown) => e instanceof MetricError && why.test(e.message) && /sub\.csv row 2/.test(e.message), rle);
  }
  // touching runs are fine (end == next start), as in the Kaggle decoder
  assert.deepEqual(parseRuns('[1, 2, 3, 1]'), [1, 2, 3, 1]);
});

test('RLE: union area without a shape counts overlapping instances once', () => {
  assert.equal(annotationUnionArea('[1, 4];[3, 4];[20, 1]'), 7);
  assert.equal(annotationUnionArea('authentic'), 0);
});

test('oF1: identical single instance scores 1', () => {
  const m = masksFrom(['.##.', '.##.', '....']);
  assert.equal(imageOF1(m, m), 1);
});

test('oF1: two true instances, one perfect prediction -> 0.5', () => {
  const truth = masksFrom(['##..', '##..', '....'], ['....', '....', '..##']);
  const pred = masksFrom(['....', '....', '..##']);
  assert.equal(imageOF1(pred, truth), 0.5);
});

test('oF1: authentic rules', () => {
  const forged = masksFrom(['#...', '....']);
  assert.equal(imageOF1(forged, none(2, 4)), 0, 'a mask on an authentic image');
  assert.equal(imageOF1(none(2, 4), forged), 0, 'authentic on a forged image');
  assert.equal(imageOF1(none(2, 4), none(2, 4)), 1, 'authentic on authentic');
});

test('oF1: three images scoring 1, 1, 0.5 average to 0.8333...', () => {
  // the Kaggle metric docstring example, shape 720x960
  const [h, w] = [720, 960];
  const truths = ['[101, 102];[300, 100]', '[101, 102]', '[101, 102]'];
  const preds = ['[101, 102]', '[101, 102]', '[101, 102]'];
  const scores = truths.map((t, i) => imageOF1(decodeAnnotation(preds[i], h, w), decodeAnnotation(t, h, w)));
  assert.deepEqual(scores, [0.5, 1, 1]);
  assert.ok(Math.abs(meanScore(scores) - 0.8333333333333334) < 1e-15);
  // and its near-miss example: [101,103] vs [101,102] -> F1 = 204/205; mean 0.99837398...
  const near = [imageOF1(decodeAnnotation('[101, 102]', h, w), decodeAnnotation('[101, 103]', h, w)), 1, 1];
  assert.ok(Math.abs(meanScore(near) - 0.9983739837398374) < 1e-15);
});

test('oF1: the assignment maximises total F1 where greedy matching would not', () => {
  // 1x20 image. truth A = 0..9, B = 10..19; pred1 = 0..14, pred2 = 5..9
  const row = (lo: number, hi: number) => [[...Array(20)].map((_, k) => (k >= lo && k <= hi ? '#' : '.')).join('')];
  const truth = masksFrom(row(0, 9), row(10, 19));
  const pred = masksFrom(row(0, 14), row(5, 9));
  const f1 = f1Matrix(pred, truth);
  assert.deepEqual(f1, [[0.8, 0.4], [2 / 3, 0]]);
  // greedy would take pred1-A (0.8) + pred2-B (0) = 0.8; optimal is 0.4 + 2/3
  assert.ok(Math.abs(imageOF1(pred, truth) - (0.4 + 2 / 3) / 2) < 1e-12);
  // more predictions than truths: unmatched predictions count in max(n_pred, n_true)
  const three = masksFrom(row(0, 9), row(10, 19), row(19, 19));
  assert.ok(Math.abs(imageOF1(three, truth) - 2 / 3) < 1e-12);
});

test('pixel F1 of flat masks; empty masks give 0', () => {
  assert.equal(pixelF1(Uint8Array.from([1, 1, 0, 0]), Uint8Array.from([1, 0, 1, 0])), 0.5);
  assert.equal(pixelF1(new Uint8Array(4), new Uint8Array(4)), 0);
});

test('Dice/IoU pos and all variants', () => {
  const truth1 = masksFrom(['####', '....']);
  const pred1 = masksFrom(['##..', '##..']); // tp 2, fp 2, fn 2
  const img1 = imageOverlap(confusion(unionMask(pred1), unionMask(truth1)));
  assert.deepEqual(img1, { dice: 0.5, iou: 1 / 3, forged: true });
  const img2 = imageOverlap(confusion(new Uint8Array(8), new Uint8Array(8))); // authentic, empty prediction
  assert.deepEqual(img2, { dice: 1, iou: 1, forged: false });
  const img3 = imageOverlap(confusion(unionMask(masksFrom(['###.', '....'])), new Uint8Array(8))); // authentic, 3 px claimed
  assert.deepEqual(img3, { dice: 0, iou: 0, forged: false });
  const s = summarizeOverlap([img1, img2, img3]);
  assert.equal(s.dice_pos, 0.5);
  assert.equal(s.dice_all, 0.5);
  assert.equal(s.iou_pos, 1 / 3);
  assert.ok(Math.abs(s.iou_all - 4 / 9) < 1e-15);
});

test('ROC AUC with ties (hand-computed 4.5 / 6)', () => {
  // positives 0.35, 0.8, 0.4; negatives 0.1, 0.4. Pairs won: 1 + 2 + 1.5 (tie 0.4 = 0.4 counts half)
  assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8, 0.4], [0, 0, 1, 1, 1]), 0.75);
  assert.ok(Number.isNaN(rocAuc([0.1, 0.2], [1, 1])));
  // the histogram version treats a bin as a tie: bins 0..3 hold pos [0,1,1,1], neg [1,1,0,0];
  // the bin-1 positive beats 1 negative and ties 1 (1.5), the bin-2 and bin-3 positives beat both (2 + 2)
  assert.equal(rocAucFromHistograms([0, 1, 1, 1], [1, 1, 0, 0]), (1.5 + 2 + 2) / 6);
  const c = rocCurve([0.1, 0.4, 0.35, 0.8, 0.4], [0, 0, 1, 1, 1]);
  assert.deepEqual(c.tpr, [0, 1 / 3, 2 / 3, 1, 1]);
  assert.deepEqual(c.fpr, [0, 0, 0.5, 0.5, 1]);
});

test('pixel histogram: precision/recall/F1 at a threshold and at the best threshold', () => {
  const h = new PixelScoreHistogram(10);
  // truth positives score 0.95, 0.75, 0.25; negatives 0.85, 0.15, 0.05
  h.add(Float32Array.from([0.95, 0.75, 0.25, 0.85, 0.15, 0.05]), Uint8Array.from([1, 1, 1, 0, 0, 0]));
  const at5 = h.at(0.5); // predicted: 0.95, 0.75, 0.85 -> tp 2 fp 1 fn 1
  assert.deepEqual([at5.precision, at5.recall, at5.f1], [2 / 3, 2 / 3, 2 / 3]);
  const best = h.best(); // threshold 0.2: tp 3 fp 1 fn 0 -> F1 6/7
  assert.equal(best.threshold, 0.2);
  assert.ok(Math.abs(best.f1 - 6 / 7) < 1e-12);
  assert.equal(h.rocAuc(), rocAuc([0.95, 0.75, 0.25, 0.85, 0.15, 0.05], [1, 1, 1, 0, 0, 0]));
});
