import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskChannel } from '../src/lib/data/types';
import { renderCompoundFigure } from '../src/lib/data/synth/families';
import { duplicatePanel } from '../src/lib/data/synth/forgery';
import { Rng } from '../src/lib/util/random';
import { detectCopyMove } from '../src/lib/classical/index';
import { maskIoU } from '../src/lib/infer/postprocess';

/** SIFT as a second keypoint stage next to ORB (param sift), and SIFT alone. */
const CONFIGS = [['ORB + SIFT', { sift: true }], ['SIFT alone', { detector: 'sift' }]] as const;
/** A figure whose panel reuse is a plain translated crop (no blur or brightness change on the copy). */
const SEED = 'sift-compound-3';

for (const [name, params] of CONFIGS) {
test(`${name}: a compound figure with a panel crop reused in another panel is ONE event (source and copy)`, async () => {
  const rng = new Rng(SEED);
  const { canvas, panels } = renderCompoundFigure(rng, 560, 420);
  const forged = duplicatePanel(rng, canvas.toImage(), panels);
  assert.ok(forged, 'the figure has two panels of equal size');
  assert.deepEqual(forged.forgeries[0].copies[0].photometric, [], 'the copy is the crop as is');
  const truth = maskChannel(forged.masks, 0);
  const r = await detectCopyMove(forged.image, params);
  assert.equal(r.instances.count, 1, `expected one event, got ${r.instances.count}; notes: ${r.notes.join(' | ')}`);
  const iou = maskIoU(maskChannel(r.instances, 0), truth);
  assert.ok(iou > 0.5, `event IoU ${iou.toFixed(3)}`);
  assert.ok(r.debug.timings['detector' in params ? 'keypoints' : 'sift'] > 0, 'the SIFT stage ran');
});

test(`${name}: the same compound figure untouched gives nothing`, async () => {
  const rng = new Rng(SEED);
  const { canvas } = renderCompoundFigure(rng, 560, 420);
  const r = await detectCopyMove(canvas.toImage(), params);
  assert.equal(r.instances.count, 0, `flagged ${r.instances.count}: ${r.notes.join(' | ')}`);
});
}
