import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Masks } from '../src/lib/data/types';
import { EvaluationAccumulator, evaluationSummary, mergeInstances, SCORE_BREAKDOWN_KEYS, scoreBreakdown, type TruthEntry } from '../src/lib/metrics/evaluate';
import { breakdownHtml, breakdownRows, breakdownText } from '../src/viz/score-breakdown';

const H = 4;
const W = 6;

/** Masks from row strings, one string[] per instance: '#' = 1. */
function masksFrom(...instances: string[][]): Masks {
  const data = new Uint8Array(instances.length * H * W);
  instances.forEach((rows, i) => rows.forEach((row, y) => [...row].forEach((ch, x) => (data[i * H * W + y * W + x] = ch === '#' ? 1 : 0))));
  return { data, count: instances.length, height: H, width: W };
}
const none = (): Masks => ({ data: new Uint8Array(0), count: 0, height: H, width: W });
const truth = (caseId: string, m: Masks): TruthEntry => ({ caseId, shape: [H, W], masks: () => m, source: 'hand-made' });

// One event: a source (left square) and its copy (right square) in one channel.
const EVENT = ['##..##', '##..##', '......', '......'];
const SOURCE = ['##....', '##....', '......', '......'];
const COPY = ['....##', '....##', '......', '......'];

test('merged oF1: a source and its copy predicted apart score 1/3, merged 1', () => {
  const acc = new EvaluationAccumulator();
  const r = acc.add(truth('0', masksFrom(EVENT)), { instances: masksFrom(SOURCE, COPY) });
  // each part: F1 = 2*4 / (4 + 8) = 2/3; one match over max(2 predicted, 1 true)
  assert.ok(Math.abs(r.of1 - 1 / 3) < 1e-12);
  assert.equal(r.of1_merged, 1);
  const e = acc.result();
  assert.ok(Math.abs(e.of1 - 1 / 3) < 1e-12);
  assert.equal(e.of1_merged, 1);
  const merged = mergeInstances(masksFrom(SOURCE, COPY));
  assert.deepEqual([merged.count, [...merged.data]], [1, [...masksFrom(EVENT).data]]);
});

test('score breakdown by hand: clean authentic rows, false alarms, detected forged rows, instances per image, merged oF1', () => {
  const acc = new EvaluationAccumulator();
  acc.add(truth('A', masksFrom(EVENT)), { instances: masksFrom(SOURCE, COPY) }); // forged, found in two pieces: 1/3, merged 1
  acc.add(truth('B', masksFrom(SOURCE, COPY)), { instances: none() }); // forged, two events, missed: 0
  acc.add(truth('C', none()), { instances: none() }); // authentic kept clean: 1
  acc.add(truth('D', none()), { instances: masksFrom(SOURCE) }); // authentic false alarm: 0
  // authentic truth without a shape (a solution row), predicted exactly `authentic`: 1
  acc.add({ caseId: 'E', shape: null, masks: none, source: 'hand-made' }, { instances: 'authentic' });
  const e = acc.result();
  assert.deepEqual(e.per_image.map((r) => r.of1_merged), [1, 0, 1, 0, 1]);
  assert.ok(Math.abs(e.of1 - 7 / 15) < 1e-12); // (1/3 + 0 + 1 + 0 + 1) / 5
  const expected = {
    n_authentic_clean: 2,
    authentic_clean_share: 2 / 3,
    authentic_false_alarm_rate: 1 / 3,
    n_forged_detected: 1,
    forged_detected_share: 0.5,
    of1_forged: 1 / 6,
    of1_authentic: 2 / 3,
    mean_pred_instances_forged: 1, // (2 + 0) / 2
    mean_true_instances_forged: 1.5, // (1 + 2) / 2
    mean_pred_instances_detected: 2, // image A only
    mean_true_instances_detected: 1,
    of1_merged: 0.6, // (1 + 0 + 1 + 0 + 1) / 5
  };
  for (const k of SCORE_BREAKDOWN_KEYS) assert.ok(Math.abs(e[k] - expected[k]) < 1e-12, `${k}: ${e[k]} vs ${expected[k]}`);
  assert.deepEqual(Object.keys(expected).sort(), [...SCORE_BREAKDOWN_KEYS].sort());
  assert.deepEqual(scoreBreakdown(e.per_image), Object.fromEntries(SCORE_BREAKDOWN_KEYS.map((k) => [k, e[k]])));
  const json = evaluationSummary(e);
  for (const k of SCORE_BREAKDOWN_KEYS) assert.equal(json[k], e[k], k);
});

test('breakdown table for notebooks: one column per evaluation, undefined values blank', () => {
  const model = new EvaluationAccumulator();
  const baseline = new EvaluationAccumulator();
  for (const [id, t, p] of [['A', masksFrom(EVENT), masksFrom(SOURCE, COPY)], ['C', none(), none()]] as const) {
    model.add(truth(id, t), { instances: p });
    baseline.add(truth(id, t), { instances: none() });
  }
  const rows = breakdownRows({ classical: model.result(), 'all authentic': baseline.result() });
  const get = (measure: string) => rows.find((r) => r.measure === measure)!;
  assert.deepEqual(get("oF1 had each image's instances been merged"), { measure: "oF1 had each image's instances been merged", classical: 1, 'all authentic': 0.5 });
  assert.deepEqual(get('instances per detected forged image: predicted'), { measure: 'instances per detected forged image: predicted', classical: 2, 'all authentic': null });
  assert.deepEqual(get('authentic rows kept clean (exactly authentic)'), { measure: 'authentic rows kept clean (exactly authentic)', classical: 1, 'all authentic': 1 });
  const single = breakdownRows(model.result());
  assert.deepEqual(Object.keys(single[0]), ['measure', 'value']);
  assert.match(breakdownText(model.result()), /^forged rows with a prediction, share\s+1$/m);
  assert.match(breakdownHtml(model.result()), /<caption>Score breakdown<\/caption>/);
});
