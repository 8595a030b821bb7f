import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Image } from '../src/lib/data/types';
import { detectCopyMove } from '../src/lib/classical/detect';
import { toGray } from '../src/lib/classical/grayscale';
import { laneTwinPairs, matchLanes } from '../src/lib/classical/lanes';
import { grainRule } from '../src/lib/classical/nativeStages';
import { resolveParams } from '../src/lib/classical/params';
import { boxIoU, type PanelBox } from '../src/lib/classical/panels';
import { Canvas, grey } from '../src/lib/data/synth/canvas';
import { drawBand, membraneBackground, renderWesternBlotLanes } from '../src/lib/data/synth/blot';
import { renderGelLanes } from '../src/lib/data/synth/gel';
import { reuseLane } from '../src/lib/data/synth/forgery';
import { generateImage } from '../src/lib/data/synth/generate';
import { Rng } from '../src/lib/util/random';

/** Lane `from` pasted over lane `to` (mirrored left-right when `flip`), pixel for pixel. */
function pasteLane(image: Image, from: PanelBox, to: PanelBox, flip: boolean): Image {
  const out = { ...image, data: new Uint8Array(image.data) };
  const w = Math.min(from.w, to.w);
  for (let y = 0; y < from.h; y++) {
    for (let x = 0; x < w; x++) {
      const sx = from.x + (flip ? w - 1 - x : x);
      for (let c = 0; c < 3; c++) out.data[((to.y + y) * image.width + to.x + x) * 3 + c] = image.data[((from.y + y) * image.width + sx) * 3 + c];
    }
  }
  return out;
}

/** Share of the box's pixels that the instance covers. */
function covered(mask: Uint8Array, width: number, b: PanelBox): number {
  let k = 0;
  for (let y = b.y; y < b.y + b.h; y++) for (let x = b.x; x < b.x + b.w; x++) k += mask[y * width + x];
  return k / (b.w * b.h);
}

test('a lane of a western blot pasted mirrored over another lane is found as one event covering both lanes', async () => {
  const { canvas, lanes } = renderWesternBlotLanes(new Rng('lane-flip'), 480, 220);
  const strip = lanes.filter((l) => l.y === lanes[0].y);
  assert.ok(strip.length >= 4, `a strip of at least 4 lanes (got ${strip.length})`);
  const [a, b] = [strip[1], strip[strip.length - 2]];
  const image = pasteLane(canvas.toImage(), a, b, true);

  const { matches } = matchLanes(toGray(image));
  assert.equal(matches.length, 1, `one lane match, got ${JSON.stringify(matches)}`);
  assert.equal(matches[0].flipped, true);
  const boxes = [matches[0].a, matches[0].b];
  for (const lane of [a, b]) assert.ok(boxes.some((m) => boxIoU(m, lane) >= 0.7), `lane ${JSON.stringify(lane)} matched: ${JSON.stringify(boxes)}`);

  const r = await detectCopyMove(image);
  const holding = Array.from({ length: r.instances.count }, (_, k) => r.instances.data.subarray(k * 480 * 220, (k + 1) * 480 * 220)).filter((m) => covered(m, 480, a) > 0.7 && covered(m, 480, b) > 0.7);
  assert.equal(holding.length, 1, `one event holds source and copy lane (${r.instances.count} instances; notes: ${r.notes.join(' | ')})`);
});

test('a lane pasted mirrored right beside its own source (the two touch at the mirror axis) is found', () => {
  const { canvas, lanes } = renderWesternBlotLanes(new Rng('lane-beside'), 480, 200);
  const strip = lanes.filter((l) => l.y === lanes[0].y);
  const [a, b] = [strip[1], strip[2]];
  const { matches } = matchLanes(toGray(pasteLane(canvas.toImage(), a, b, true)));
  assert.equal(matches.length, 1, JSON.stringify(matches));
  assert.equal(matches[0].flipped, true);
  assert.ok(boxIoU(matches[0].a, a) >= 0.7 && boxIoU(matches[0].b, b) >= 0.7, JSON.stringify(matches[0]));
});

test('a gel lane (light bands on dark) copied as is into another lane is found; the match maps copy onto source', () => {
  const { canvas, lanes } = renderGelLanes(new Rng('lane-gel'), 400, 300);
  const [a, b] = [lanes[1], lanes[lanes.length - 1]];
  const image = pasteLane(canvas.toImage(), a, b, false);
  const { matches } = matchLanes(toGray(image));
  assert.equal(matches.length, 1, JSON.stringify(matches));
  assert.equal(matches[0].flipped, false);
  assert.ok(boxIoU(matches[0].a, a) >= 0.7 && boxIoU(matches[0].b, b) >= 0.7, JSON.stringify(matches[0]));
});

test('an authentic blot whose lanes carry the same bands (only the pixel noise differs) gives no lane match and no event', async () => {
  // The hardest authentic case for lane matching: every lane drawn with identical band shapes.
  const rng = new Rng('lane-repetitive');
  const W = 420;
  const H = 160;
  const c = new Canvas(W, H).fill(grey(0.98));
  const strip = new Canvas(380, 120);
  membraneBackground(rng, strip, 0.88, 0.05);
  for (let l = 0; l < 8; l++) {
    for (const cy of [35, 80]) drawBand(strip, (l + 0.5) * 47.5, cy, 18, 5, 0.8, 0.3, 0, grey(0.05));
  }
  strip.blur(0.8, true);
  strip.noise(rng, 0.015);
  c.draw(strip, 20, 20);
  const image = c.toImage();
  assert.deepEqual(matchLanes(toGray(image)).matches, []);
  const r = await detectCopyMove(image);
  assert.equal(r.instances.count, 0, r.notes.join(' | '));
});

test('authentic generated blots and gels (seed lane-authentic) give no lane match', () => {
  const rng = new Rng('lane-authentic');
  for (let i = 0; i < 12; i++) {
    const g = generateImage(rng.fork(i), { family: i % 2 ? 'gel' : 'western_blot', forged: false, generator: 'realistic', width: 360, height: 240 });
    assert.deepEqual(matchLanes(toGray(g.image)).matches, [], `figure ${i}`);
  }
});

test('reuseLane: one event whose channel holds the source lane and its copy; the generator records blot lanes in the manifest', () => {
  const { canvas, lanes } = renderWesternBlotLanes(new Rng('lane-forge'), 300, 160);
  const clean = canvas.toImage();
  const r = reuseLane(new Rng('lane-forge-2'), clean, lanes);
  assert.ok(r);
  assert.equal(r.masks.count, 1);
  const f = r.forgeries[0];
  assert.equal(f.kind, 'lane');
  const mask = r.masks.data;
  assert.equal(covered(mask, 300, f.source), 1);
  assert.equal(covered(mask, 300, f.copies[0].box), 1);
  assert.ok(lanes.some((l) => l.x === f.copies[0].box.x && l.w >= f.copies[0].box.w), 'the copy sits on a lane');
  const g = generateImage(new Rng('lane-manifest'), { family: 'western_blot', forged: false, width: 300, height: 160 });
  assert.ok((g.record.lanes?.length ?? 0) >= 3, 'blot lanes recorded');
});

test('a mirror-symmetric few-level drawing repeats its pixels exactly: matched, but dropped by the entropy rule the detector applies', () => {
  const W = 240;
  const H = 160;
  const data = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W / 2; x++) {
      const v = ((x * 7) ^ (y * 13)) % 5 === 0 ? 200 : (x + y) % 9 < 3 ? 120 : 30;
      data[y * W + x] = v;
      data[y * W + (W - 1 - x)] = v;
    }
  }
  const gray = { data, width: W, height: H };
  assert.equal(matchLanes(gray).matches.length, 1);
  assert.equal(laneTwinPairs(gray, {}, 2.5).pairs.length, 0);
  assert.equal(laneTwinPairs(gray).pairs.length, 1);
});

test('a mirror-symmetric rendered figure (smooth fill, anti-aliased rim) correlates in its residual: matched, but dropped for lack of grain', () => {
  const W = 360;
  const H = 240;
  const data = new Uint8Array(W * H);
  const cx = (W - 1) / 2;
  const cy = H / 2 + 20;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      // rim coverage from 4x4 subsamples; inside, a smooth fill symmetric about the vertical axis (a colour wheel's lightness)
      let cover = 0;
      for (let sy = 0; sy < 4; sy++) for (let sx = 0; sx < 4; sx++) cover += Math.hypot(x + (sx + 0.5) / 4 - 0.5 - cx, y + (sy + 0.5) / 4 - 0.5 - cy) <= 190 ? 1 : 0;
      const fill = 90 + 120 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 90 ** 2)) + 0.25 * (y - cy);
      data[y * W + x] = Math.round((cover / 16) * fill);
    }
  }
  const gray = { data, width: W, height: H };
  const { matches } = matchLanes(gray);
  assert.ok(matches.some((m) => m.flipped && m.correlation > 0.9), 'the halves match mirrored: this test no longer shows what the grain rule adds');
  assert.equal(laneTwinPairs(gray, {}, 2.5).pairs.length, matches.length, 'without the grain rule the match is a copy');
  const rule = grainRule(resolveParams({}));
  assert.equal(laneTwinPairs(gray, {}, 2.5, rule).pairs.length, 0);

  // a lane pasted in a blot keeps its noise's grain
  const blot = renderWesternBlotLanes(new Rng('lane-grain'), 480, 200);
  const forged = reuseLane(new Rng('lane-grain-forge'), blot.canvas.toImage(), blot.lanes)!;
  assert.ok(laneTwinPairs(toGray(forged.image), {}, 2.5, rule).pairs.length >= 1, 'the pasted lane is dropped by the grain rule');
});
