import { test } from 'node:test';
import assert from 'node:assert/strict';
import { atPanelPitch, boxIoU, segmentPanels } from '../src/lib/classical/panels';
import { toGray } from '../src/lib/classical/grayscale';
import { generateImage } from '../src/lib/data/synth/generate';
import { Rng } from '../src/lib/util/random';

test('segmentPanels: a 2x3 grid of panels on white gutters, with a letter label above each, gives the six panel boxes', () => {
  const W = 320;
  const H = 220;
  const data = new Uint8Array(W * H).fill(255);
  const truth = [];
  for (let r = 0; r < 2; r++) {
    for (let c = 0; c < 3; c++) {
      const box = { x: 10 + c * 103, y: 20 + r * 100, w: 95, h: 80 };
      truth.push(box);
      for (let y = box.y; y < box.y + box.h; y++) for (let x = box.x; x < box.x + box.w; x++) data[y * W + x] = (x * 7 + y * 13) % 200; // content with white-free texture
      for (let y = box.y - 10; y < box.y - 4; y++) for (let x = box.x; x < box.x + 5; x++) data[y * W + x] = 0; // the label, outside
    }
  }
  const panels = segmentPanels({ data, width: W, height: H });
  assert.equal(panels.length, 6);
  for (const t of truth) assert.ok(panels.some((p) => boxIoU(p, t) === 1), `panel ${JSON.stringify(t)} found exactly`);
});

test('segmentPanels: a figure without gutters is one panel; an empty figure too', () => {
  const W = 64;
  const H = 48;
  const data = Uint8Array.from({ length: W * H }, (_, p) => p % 251);
  assert.deepEqual(segmentPanels({ data, width: W, height: H }), [{ x: 0, y: 0, w: W, h: H }]);
  assert.deepEqual(segmentPanels({ data: new Uint8Array(W * H).fill(255), width: W, height: H }), [{ x: 0, y: 0, w: W, h: H }]);
});

// Measured on the generator's compound figures, whose panel boxes the manifest records. The
// options were chosen on generator seed 11 (out of the test); this is seed 12.
test("segmentPanels on the generator's compound figures (seed 12): mean panel-box IoU >= 0.85, most panels found", () => {
  const rng = new Rng(12);
  const ious: number[] = [];
  for (let i = 0; i < 30; i++) {
    const g = generateImage(rng.fork(i), { family: 'compound', forged: i % 2 === 0, generator: 'realistic', width: 480, height: 360 });
    const truth = g.record.panels ?? [];
    if (truth.length < 2) continue;
    const found = segmentPanels(toGray(g.image));
    ious.push(...truth.map((t) => Math.max(0, ...found.map((f) => boxIoU(t, f)))));
  }
  assert.ok(ious.length >= 60, `${ious.length} panels`);
  const mean = ious.reduce((a, b) => a + b, 0) / ious.length;
  assert.ok(mean >= 0.85, `mean IoU ${mean.toFixed(3)}`);
  assert.ok(ious.filter((v) => v >= 0.7).length >= 0.8 * ious.length);
});

test('atPanelPitch: a shift that moves one panel onto another of the same size, and no other', () => {
  // two rows of three 170x124 panels, gutters of 13 px; one odd panel below
  const grid = [0, 1].flatMap((r) => [0, 1, 2].map((c) => ({ x: 12 + 183 * c, y: 12 + 137 * r, w: 170, h: 124 })));
  const panels = [...grid, { x: 12, y: 300, w: 300, h: 80 }];
  assert.ok(atPanelPitch(panels, 183, 0), 'one column right');
  assert.ok(atPanelPitch(panels, -366, 137), 'two columns left, one row down');
  assert.ok(atPanelPitch(panels, 184.5, -1), 'within the tolerance');
  assert.ok(!atPanelPitch(panels, 186, 0), 'beyond the tolerance');
  assert.ok(!atPanelPitch(panels, 0, 288), 'onto a panel of another size');
  assert.ok(!atPanelPitch(panels, 0, 0), 'a panel onto itself');
  assert.ok(!atPanelPitch([], 183, 0), 'no panels');
});
