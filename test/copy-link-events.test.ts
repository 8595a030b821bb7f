import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Image, Masks } from '../src/lib/data/types';
import { copyLinks } from '../src/lib/evidence/index';
import { groupByCopyLinks, type CopyLinks } from '../src/lib/infer/copy-link-events';
import { groupEvents } from '../src/lib/infer/postprocess';
import { ConfigError } from '../src/lib/errors';
import { Rng } from '../src/lib/util/random';

const W = 96;
const H = 96;

function rect(x: number, y: number, w: number, h: number): Uint8Array {
  const m = new Uint8Array(W * H);
  for (let yy = y; yy < y + h; yy++) m.fill(1, yy * W + x, yy * W + x + w);
  return m;
}
function stack(...masks: Uint8Array[]): Masks {
  const data = new Uint8Array(masks.length * W * H);
  masks.forEach((m, i) => data.set(m, i * W * H));
  return { data, count: masks.length, height: H, width: W };
}
function links(...pairs: number[][]): () => CopyLinks {
  return () => ({ pairs: Float32Array.from(pairs.flat()), radius: 4 });
}
const union = (...ms: Uint8Array[]) => Uint8Array.from(ms[0].map((_, p) => (ms.some((m) => m[p]) ? 1 : 0)));

// Two events: a (source) -> a2 (copy), b -> b2; f is a fragment beside a that no pair reaches.
const a = rect(4, 4, 16, 16);
const a2 = rect(60, 4, 16, 16);
const b = rect(4, 60, 16, 16);
const b2 = rect(60, 60, 16, 16);
const f = rect(24, 4, 6, 6);

test('groupByCopyLinks: regions joined by block pairs become events (source + copy); unlinked fragments join the nearest', () => {
  const pred = { instances: stack(union(a, a2, b, b2, f)), scores: [0.8] };
  const twoEvents = links([10, 10, 66, 10], [14, 14, 70, 14], [10, 66, 66, 66], [14, 70, 70, 70]);
  const out = groupByCopyLinks(pred, twoEvents);
  assert.equal(out.instances.count, 2);
  assert.deepEqual(out.scores, [0.8, 0.8]);
  const events = [out.instances.data.subarray(0, W * H), out.instances.data.subarray(W * H)];
  const hasA = events.findIndex((e) => e[10 * W + 10] === 1);
  assert.deepEqual(events[hasA], union(a, a2, f), 'a, its copy and the fragment beside it');
  assert.deepEqual(events[1 - hasA], union(b, b2));
});

test('groupByCopyLinks: one event when fewer than two linked groups, or when a join has fewer than minPairs pairs', () => {
  const pred = { instances: stack(a, a2, b, b2), scores: [0.3, 0.9, 0.5, 0.4] };
  const oneGroup = groupByCopyLinks(pred, links([10, 10, 66, 10], [14, 14, 70, 14]));
  assert.equal(oneGroup.instances.count, 1);
  assert.deepEqual(oneGroup.scores, [0.9]);
  assert.deepEqual(oneGroup.instances.data, union(a, a2, b, b2));
  const single = groupByCopyLinks(pred, links([10, 10, 66, 10], [14, 14, 70, 14], [10, 66, 66, 66]));
  assert.equal(single.instances.count, 1, 'b-b2 has one pair: chance, not a join');
  const scored = groupByCopyLinks(pred, links([10, 10, 66, 10], [14, 14, 70, 14], [10, 66, 66, 66], [14, 70, 70, 70]));
  assert.deepEqual(scored.scores, [0.9, 0.5], 'an event scores the highest of the instances in it');
});

test('groupByCopyLinks: links are only computed when there are two regions to group', () => {
  let calls = 0;
  const lazy = () => {
    calls++;
    return { pairs: new Float32Array(0), radius: 4 };
  };
  assert.equal(groupByCopyLinks({ instances: stack(a), scores: [0.5] }, lazy).instances.count, 1);
  assert.equal(groupByCopyLinks({ instances: stack(), scores: [] }, lazy).instances.count, 0);
  assert.equal(calls, 0);
  assert.equal(groupByCopyLinks({ instances: stack(a, b), scores: [0.5, 0.6] }, lazy).instances.count, 1);
  assert.equal(calls, 1);
});

test("groupEvents 'copy-links' on a real image: two textures each copied once give two events from the image's own block pairs", () => {
  const rng = new Rng(3);
  const data = new Uint8Array(W * H * 3).fill(128);
  for (const [x, y] of [[4, 4], [4, 60]]) {
    for (let yy = y; yy < y + 16; yy++) for (let xx = x; xx < x + 16; xx++) for (let c = 0; c < 3; c++) data[(yy * W + xx) * 3 + c] = rng.int(0, 255);
  }
  // the copies: each texture pasted 56 px to the right, bit for bit
  for (let yy = 0; yy < H; yy++) for (let xx = 4; xx < 20; xx++) for (let c = 0; c < 3; c++) {
    if ((yy >= 4 && yy < 20) || (yy >= 60 && yy < 76)) data[(yy * W + xx + 56) * 3 + c] = data[(yy * W + xx) * 3 + c];
  }
  const image: Image = { data, width: W, height: H, channels: 3 };
  const pred = { instances: stack(union(a, a2, b, b2)), scores: [0.7] };
  const out = groupEvents(pred, 'copy-links', { links: () => copyLinks(image) });
  assert.equal(out.instances.count, 2);
  const sorted = [out.instances.data.subarray(0, W * H), out.instances.data.subarray(W * H)].sort((x, y) => x[10 * W + 10] - y[10 * W + 10]);
  assert.deepEqual(sorted[1], union(a, a2));
  assert.deepEqual(sorted[0], union(b, b2));
  assert.throws(() => groupEvents(pred, 'copy-links'), (e: unknown) => e instanceof ConfigError && /needs the image's matched block pairs/.test(e.message));
});
