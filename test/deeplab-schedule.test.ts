import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSchedule } from '../src/lib/train/schedules';

test('poly schedule: base (1 - t/tMax)^0.9, zero from tMax on, power validated', () => {
  const s = makeSchedule({ kind: 'poly', tMax: 10 }, 0.01);
  assert.equal(s(0), 0.01);
  assert.ok(Math.abs(s(5) - 0.01 * Math.pow(0.5, 0.9)) < 1e-15);
  assert.equal(s(10), 0);
  assert.equal(s(12), 0);
  assert.equal(makeSchedule({ kind: 'poly', tMax: 4, power: 1 }, 1)(1), 0.75);
  assert.throws(() => makeSchedule({ kind: 'poly', tMax: 0 }, 1), /poly tMax must be/);
  assert.throws(() => makeSchedule({ kind: 'poly', tMax: 3, power: -1 }, 1), /poly power must be/);
});
