/**
 * maskrcnn-mnv3s targets: one instance per copy-move event (sifd) or per connected region of the
 * foreground wider and taller than 5 px (the seed's findContours + boundingRect), and errors named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../src/lib/errors';
import { checkTargetPolicy, imageTargets } from '../src/lib/models/maskrcnn/targets';
import type { Masks } from '../src/lib/data/types';

/** Two events on 32x32: event 0 = a 8x8 source at (2,2) and its copy at (20,20); event 1 = a 3x10 sliver at (2,20). */
function events(): Masks {
  const h = 32;
  const w = 32;
  const data = new Uint8Array(2 * h * w);
  const fill = (k: number, x0: number, y0: number, bw: number, bh: number) => {
    for (let y = y0; y < y0 + bh; y++) for (let x = x0; x < x0 + bw; x++) data[k * h * w + y * w + x] = 1;
  };
  fill(0, 2, 2, 8, 8);
  fill(0, 20, 20, 8, 8);
  fill(1, 20, 2, 3, 10);
  return { data, count: 2, height: h, width: w };
}

test("'events': one instance per event, its box around the source and all copies", () => {
  const t = imageTargets(events(), 'events');
  assert.equal(t.masks.count, 2);
  assert.deepEqual([...t.boxes], [2, 2, 28, 28, 20, 2, 23, 12]);
  assert.deepEqual([...t.labels], [1, 1]);
});

test("'contours' (the seed's): one instance per connected region, boxes with w > 5 and h > 5 only", () => {
  const t = imageTargets(events(), 'contours');
  // the two 8x8 squares; the 3-wide sliver is dropped
  assert.equal(t.masks.count, 2);
  assert.deepEqual([...t.boxes], [2, 2, 10, 10, 20, 20, 28, 28]);
  const plane = 32 * 32;
  assert.equal(t.masks.data.subarray(0, plane).reduce((a, v) => a + v, 0), 64);
});

test('an authentic image has no instance; an unknown policy is a ConfigError naming the choices', () => {
  const t = imageTargets({ data: new Uint8Array(0), count: 0, height: 8, width: 8 }, 'events');
  assert.equal(t.masks.count, 0);
  assert.equal(t.boxes.length, 0);
  assert.throws(() => checkTargetPolicy('contour'), (e: Error) => e instanceof ConfigError && /events, contours/.test(e.message));
});
