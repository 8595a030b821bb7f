import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Image, Masks } from '../src/lib/data/types';
import { maskChannel } from '../src/lib/data/types';
import { renderFamily } from '../src/lib/data/synth/families';
import { Rng } from '../src/lib/util/random';
import { detectCopyMove } from '../src/lib/classical/index';
import { addTwinEvents, gateEvents, maskedEntropy, pairsToInstances, type VerifiedPair } from '../src/lib/classical/events';
import type { ResampledTwinPair } from '../src/lib/classical/resampledTwins';
import { blobTexture } from './fixtures/texture';
import { maskIoU } from '../src/lib/infer/postprocess';

const [W, H] = [420, 320];

/** Copies the w x h block at (sx, sy) to (dx, dy), every channel, and marks both in `truth`. */
function paste(img: Image, truth: Uint8Array, sx: number, sy: number, w: number, h: number, dx: number, dy: number): void {
  const c = img.channels;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) img.data[((dy + y) * img.width + dx + x) * c + k] = img.data[((sy + y) * img.width + sx + x) * c + k];
      truth[(dy + y) * img.width + dx + x] = 1;
      truth[(sy + y) * img.width + sx + x] = 1;
    }
  }
}

const iou = maskIoU;

const channels = (m: Masks) => Array.from({ length: m.count }, (_, k) => maskChannel(m, k));

test('one source pasted twice by translation is ONE event covering the source and both copies', async () => {
  const image = renderFamily(new Rng('events-histology'), 'histology', W, H).toImage();
  const truth = new Uint8Array(W * H);
  paste(image, truth, 30, 30, 80, 70, 250, 40);
  paste(image, truth, 30, 30, 80, 70, 150, 220);
  const r = await detectCopyMove(image);
  assert.equal(r.instances.count, 1, `expected one event, got ${r.instances.count}; notes: ${r.notes.join(' | ')}`);
  const event = maskChannel(r.instances, 0);
  assert.ok(iou(event, truth) > 0.7, `event IoU ${iou(event, truth).toFixed(3)}`);
  // each of the three parts is mostly inside the one event
  for (const [x0, y0] of [[30, 30], [250, 40], [150, 220]]) {
    let inside = 0;
    for (let y = y0; y < y0 + 70; y++) for (let x = x0; x < x0 + 80; x++) inside += event[y * W + x];
    assert.ok(inside / (80 * 70) > 0.7, `part at (${x0}, ${y0}) covered ${(inside / 5600).toFixed(2)}`);
  }
  assert.ok(r.debug.candidates.filter((c) => c.accepted).length >= 2, 'both copies were verified as transforms');
  assert.match(r.notes.join('\n'), /transform\(s\) verified -> 1 event\(s\)/);

  const regions = await detectCopyMove(image, { events: 'regions' });
  assert.ok(regions.instances.count >= 3, `events: 'regions' keeps source and copies apart, got ${regions.instances.count}`);
});

test('two independent copy-moves are two events; maxEvents 1 keeps the best-scored one', async () => {
  const image = renderFamily(new Rng('events2-histology'), 'histology', W, H).toImage();
  const a = new Uint8Array(W * H);
  const b = new Uint8Array(W * H);
  paste(image, a, 20, 20, 80, 70, 250, 30);
  paste(image, b, 40, 200, 80, 70, 300, 220);
  const r = await detectCopyMove(image);
  assert.equal(r.instances.count, 2, `notes: ${r.notes.join(' | ')}`);
  const masks = channels(r.instances);
  for (const truth of [a, b]) {
    const best = Math.max(...masks.map((m) => iou(m, truth)));
    assert.ok(best > 0.7, `event IoU ${best.toFixed(3)}`);
  }
  assert.ok(r.scores[0] >= r.scores[1], 'events sorted by score');
  const one = await detectCopyMove(image, { maxEvents: 1 });
  assert.equal(one.instances.count, 1);
  assert.deepEqual(one.instances.data, r.instances.data.subarray(0, W * H));
  assert.match(one.notes.join('\n'), /gate: kept the best 1 of 2 events/);
});

test('an untouched texture: no instance, and a note that says why', async () => {
  const f = blobTexture(200, 160, new Rng('events-clean'), { base: 128, areaPerBlob: 500, maxRadius: 20, amplitude: 60, noise: 4 });
  const data = new Uint8Array(200 * 160);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, Math.round(f[i])));
  const r = await detectCopyMove({ data, width: 200, height: 160, channels: 1 });
  assert.equal(r.instances.count, 0);
  assert.match(r.notes.join('\n'), /image 200x160 smaller than minSide 512: upscaled/);
  assert.match(r.notes.join('\n'), /no copy transform proposed|no transform passed verification: \d+ rejected, most often for /);
});

/** A w x h rectangle at (x0, y0) in a 40x30 frame. */
function rect(x0: number, y0: number, w: number, h: number, width = 40, height = 30): Uint8Array {
  const m = new Uint8Array(width * height);
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) m[y * width + x] = 1;
  return m;
}
const shift = (dx: number, dy: number): VerifiedPair['affine'] => [1, 0, dx, 0, 1, dy];

test('pairsToInstances: shared regions and same motions make one event; distinct copies stay apart', () => {
  const pairs: VerifiedPair[] = [
    { source: rect(0, 0, 5, 5), target: rect(20, 0, 5, 5), score: 0.9, affine: shift(20, 0) }, // S -> C1
    { source: rect(0, 0, 5, 5), target: rect(0, 20, 5, 5), score: 0.7, affine: shift(0, 20) }, // S -> C2 shares S
    { source: rect(10, 10, 3, 3), target: rect(30, 10, 3, 3), score: 0.5, affine: shift(20, 0) }, // same motion as the first: a fragment
    { source: rect(34, 20, 4, 4), target: rect(28, 24, 4, 4), score: 0.8, affine: shift(-6, 4) }, // another event
  ];
  const events = pairsToInstances(pairs, 'transform', 40);
  assert.equal(events.length, 2);
  const expect = new Uint8Array(40 * 30);
  for (const q of pairs.slice(0, 3)) for (let p = 0; p < expect.length; p++) expect[p] |= q.source[p] | q.target[p];
  assert.deepEqual(events[0].mask, expect);
  assert.equal(events[0].score, 0.9);
  assert.equal(events[1].score, 0.8);
  // the inverse of a transform (the copy found from its other end) is the same event
  const inverse = pairsToInstances([pairs[3], { source: rect(28, 24, 4, 4), target: rect(34, 20, 4, 4), score: 0.6, affine: shift(6, -4) }], 'transform', 40);
  assert.equal(inverse.length, 1);
  // 'regions': source and copies apart, the shared source once
  const regions = pairsToInstances(pairs, 'regions', 40);
  assert.equal(regions.length, 7);
  assert.deepEqual(regions.map((r) => r.score), [0.9, 0.9, 0.7, 0.5, 0.5, 0.8, 0.8]);
});

test('addTwinEvents: twins join the event they touch, touching twins are one event, small ones are dropped', () => {
  const n = 40 * 30;
  const idx = (m: Uint8Array) => Int32Array.from(m.reduce<number[]>((a, v, p) => (v ? [...a, p] : a), []));
  const twin = (copy: Uint8Array, source: Uint8Array): ResampledTwinPair => ({ copy: idx(copy), source: idx(source), similarity: [1, 0, 0, 0, 1, 0] });
  const mapOf = (pairs: ResampledTwinPair[]) => {
    const m = new Uint8Array(n);
    for (const t of pairs) for (const q of [...t.copy, ...t.source]) m[q] = 1;
    return m;
  };
  const found = () => [{ mask: rect(0, 0, 6, 6), score: 0.4 }];
  const pairs = [
    twin(rect(7, 0, 4, 4), rect(20, 20, 4, 4)), // 2 px from the found event: joins it
    twin(rect(30, 0, 4, 4), rect(30, 8, 4, 4)), // a new event ...
    twin(rect(34, 0, 4, 4), rect(34, 8, 4, 4)), // ... with this fragment that touches it
    twin(rect(2, 27, 1, 1), rect(5, 27, 1, 1)), // too small
  ];
  const events = found();
  const r = addTwinEvents(events, { map: mapOf(pairs), pairs }, 'transform', 30, 40, 4);
  assert.deepEqual(r, { joined: 1, added: 1 });
  assert.equal(events.length, 2);
  assert.equal(events[0].score, 1, 'verified pixel for pixel');
  assert.equal(events[0].mask.reduce((a, v) => a + v, 0), 36 + 16 + 16);
  assert.equal(events[1].mask.reduce((a, v) => a + v, 0), 4 * 16);
  // a twin event touching two found events makes them one
  const two = [{ mask: rect(0, 0, 5, 5), score: 0.3 }, { mask: rect(12, 0, 5, 5), score: 0.6 }];
  const bridge = [twin(rect(6, 0, 5, 2), rect(6, 20, 5, 2))];
  assert.deepEqual(addTwinEvents(two, { map: mapOf(bridge), pairs: bridge }, 'transform', 30, 40, 4), { joined: 1, added: 0 });
  assert.equal(two.length, 1);
  // 'regions': each connected region of the map an instance (or merged into one it repeats)
  const regions = found();
  addTwinEvents(regions, { map: mapOf(pairs), pairs }, 'regions', 30, 40, 4);
  assert.equal(regions.length, 1 + 4, 'the touching copy is its own region; the two fragments are one region each side; the tiny ones are dropped');
});

test('gateEvents: an open gate keeps all (sorted); minEventScore, maxEvents, minForgedShare and maxEventShare act and say so', () => {
  const events = [
    { mask: rect(0, 0, 2, 2), score: 0.3 },
    { mask: rect(10, 10, 4, 4), score: 0.9 },
    { mask: rect(20, 0, 3, 3), score: 0.9 },
  ];
  const none = gateEvents(events, { minEventScore: 0, maxEvents: 0, minForgedShare: 0, maxEventShare: 1, hugeEventMinPeak: 0, minEventEntropy: 0 });
  assert.deepEqual(none.kept.map((e) => e.score), [0.9, 0.9, 0.3]);
  assert.equal(none.kept[0], events[1], 'ties: the larger first');
  assert.deepEqual(none.notes, []);
  const weak = gateEvents(events, { minEventScore: 0.5, maxEvents: 0, minForgedShare: 0, maxEventShare: 1, hugeEventMinPeak: 0, minEventEntropy: 0 });
  assert.equal(weak.kept.length, 2);
  assert.match(weak.notes[0], /1 event\(s\) scoring below minEventScore 0.5 dropped/);
  const best = gateEvents(events, { minEventScore: 0, maxEvents: 1, minForgedShare: 0, maxEventShare: 1, hugeEventMinPeak: 0, minEventEntropy: 0 });
  assert.deepEqual(best.kept, [events[1]]);
  const small = gateEvents(events, { minEventScore: 0, maxEvents: 0, minForgedShare: 0.05, maxEventShare: 1, hugeEventMinPeak: 0, minEventEntropy: 0 });
  assert.deepEqual(small.kept, [], '29 of 1200 pixels is under 5%');
  assert.match(small.notes[0], /cover 0.024 of the image < minForgedShare 0.05: reported authentic/);
  const grid = { mask: rect(0, 0, 40, 10), score: 1 }; // 400 of 1200 pixels: a third of the image
  const structure = gateEvents([...events, grid], { minEventScore: 0, maxEvents: 0, minForgedShare: 0, maxEventShare: 0.25, hugeEventMinPeak: 0, minEventEntropy: 0 });
  assert.deepEqual(structure.kept.map((e) => e.score), [0.9, 0.9, 0.3], 'the event over a quarter of the image is dropped');
  assert.match(structure.notes[0], /1 event\(s\) covering more than 0.25 of the image dropped as repetitive structure/);
});

test('addTwinEvents: twins apart from every event join the one whose copy they move pixels as, either way round', () => {
  const n = 40 * 30;
  const idx = (m: Uint8Array) => Int32Array.from(m.reduce<number[]>((a, v, p) => (v ? [...a, p] : a), []));
  const mapOf = (pairs: ResampledTwinPair[]) => {
    const m = new Uint8Array(n);
    for (const t of pairs) for (const q of [...t.copy, ...t.source]) m[q] = 1;
    return m;
  };
  // an event: a copy moved 20 px right (found at its top), and an exact fragment of its bottom, 10 px lower
  const found = () => [{ mask: new Uint8Array([...rect(0, 0, 4, 4)].map((v, p) => v | rect(20, 0, 4, 4)[p])), score: 0.97, motions: [[1, 0, 20, 0, 1, 0] as VerifiedPair['affine']] }];
  const copyToSource: ResampledTwinPair = { copy: idx(rect(20, 10, 4, 4)), source: idx(rect(0, 10, 4, 4)), similarity: [1, 0, -20, 0, 1, 0] };
  const events = found();
  assert.deepEqual(addTwinEvents(events, { map: mapOf([copyToSource]), pairs: [copyToSource] }, 'transform', 30, 40, 4), { joined: 1, added: 0 });
  assert.equal(events.length, 1);
  assert.equal(events[0].mask.reduce((a, v) => a + v, 0), 4 * 16);
  // the same twins the other way round (the exact stage cannot tell source from copy)
  const swapped: ResampledTwinPair = { copy: copyToSource.source, source: copyToSource.copy, similarity: [1, 0, 20, 0, 1, 0] };
  assert.deepEqual(addTwinEvents(found(), { map: mapOf([swapped]), pairs: [swapped] }, 'transform', 30, 40, 4), { joined: 1, added: 0 });
  // twins moved otherwise are an event of their own
  const other: ResampledTwinPair = { copy: idx(rect(30, 20, 4, 4)), source: idx(rect(10, 20, 4, 4)), similarity: [1, 0, -20, 0, 1, 5] };
  const apart = found();
  assert.deepEqual(addTwinEvents(apart, { map: mapOf([other]), pairs: [other] }, 'transform', 30, 40, 4), { joined: 0, added: 1 });
  assert.equal(apart.length, 2);
});

test('pairsToInstances: an event keeps the transforms of its pairs', () => {
  const a = { source: rect(0, 0, 4, 4), target: rect(10, 0, 4, 4), score: 0.96, affine: [1, 0, 10, 0, 1, 0] as VerifiedPair['affine'] };
  const [event] = pairsToInstances([a], 'transform', 40);
  assert.deepEqual(event.motions, [a.affine]);
});

test('gateEvents hugeEventMinPeak: an event over maxEventShare stays when its best pair scores and peaks sharply; structure (no or a flat peak) is dropped', () => {
  const gate = { minEventScore: 0.95, maxEvents: 0, minForgedShare: 0, maxEventShare: 0.25, hugeEventMinPeak: 0.5, minEventEntropy: 0 };
  const copy = { mask: rect(0, 0, 40, 10), score: 0.98, peak: 0.7 }; // a third of the image, textured: sharp peak
  const ladder = { mask: rect(0, 10, 40, 10), score: 0.98, peak: 0.1 }; // agrees 2 px off too
  const exact = { mask: rect(0, 20, 40, 10), score: 1 }; // pixel-exact background: peak not measured
  const weak = { mask: rect(0, 0, 40, 10), score: 0.9, peak: 0.9 };
  const gated = gateEvents([copy, ladder, exact, weak], gate);
  assert.deepEqual(gated.kept, [copy]);
  assert.match(gated.notes[0], /3 event\(s\) covering more than 0.25 of the image dropped/, "ladder, exact background and the weak one");
  assert.deepEqual(gateEvents([copy], { ...gate, hugeEventMinPeak: 0 }).kept, [], '0: no exception');
});

test('pairsToInstances: an event carries the detail peak of its best-scored pair', () => {
  const a = { source: rect(0, 0, 4, 4), target: rect(10, 0, 4, 4), score: 0.9, affine: [1, 0, 10, 0, 1, 0] as VerifiedPair['affine'], peak: 0.2 };
  const b = { source: rect(0, 0, 4, 4), target: rect(20, 0, 4, 4), score: 0.97, affine: [1, 0, 20, 0, 1, 0] as VerifiedPair['affine'], peak: 0.6 };
  const [event] = pairsToInstances([a, b], 'transform', 40);
  assert.equal(event.score, 0.97);
  assert.equal(event.peak, 0.6);
});

test('gateEvents minEventEntropy: an event over two grey levels (1 bit) is dropped, one over many levels kept; off without the grey image', () => {
  const binary = { mask: rect(0, 0, 4, 4), score: 1 };
  const textured = { mask: rect(20, 0, 4, 4), score: 1 };
  const gray = new Uint8Array(30 * 40);
  for (let p = 0; p < gray.length; p++) gray[p] = p % 40 < 10 ? (p % 2) * 255 : (p * 37) % 256;
  assert.equal(maskedEntropy(gray, binary.mask), 1);
  assert.ok(maskedEntropy(gray, textured.mask) > 3);
  const gate = { minEventScore: 0, maxEvents: 0, minForgedShare: 0, maxEventShare: 1, hugeEventMinPeak: 0, minEventEntropy: 2 };
  const gated = gateEvents([binary, textured], gate, gray);
  assert.deepEqual(gated.kept, [textured]);
  assert.match(gated.notes[0], /1 event\(s\) in few-level content \(grey-level entropy below minEventEntropy 2 bits\) dropped/);
  assert.equal(gateEvents([binary, textured], gate).kept.length, 2);
});
