import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskChannel } from '../src/lib/data/types';
import { renderCompoundFigure } from '../src/lib/data/synth/families';
import { duplicatePanel } from '../src/lib/data/synth/forgery';
import { Rng } from '../src/lib/util/random';
import { detectCopyMove } from '../src/lib/classical/index';
import { maskIoU } from '../src/lib/infer/postprocess';

const SIFT = { detector: 'sift' } as const;

test('SIFT: a compound figure with a panel crop reused in another panel is ONE event (source and copy)', async () => {
  const rng = new Rng('sift-compound');
  const { canvas, panels } = renderCompoundFigure(rng, 560, 420);
  const forged = duplicatePanel(rng, canvas.toImage(), panels);
  assert.ok(forged, 'the figure has two panels of equal size');
  const truth = maskChannel(forged.masks, 0);
  const r = await detectCopyMove(forged.image, SIFT);
  assert.equal(r.instances.count, 1, `expected one event, got ${r.instances.count}; notes: ${r.notes.join(' | ')}`);
  const iou = maskIoU(maskChannel(r.instances, 0), truth);
  assert.ok(iou > 0.5, `event IoU ${iou.toFixed(3)}`);
  assert.ok(r.debug.keypoints.mirroredCount > 0 && r.debug.matches.ax.length > 0, 'SIFT keypoints and matches were used');
});

test('SIFT: the same compound figure untouched gives nothing', async () => {
  const rng = new Rng('sift-compound');
  const { canvas } = renderCompoundFigure(rng, 560, 420);
  const r = await detectCopyMove(canvas.toImage(), SIFT);
  assert.equal(r.instances.count, 0, `flagged ${r.instances.count}: ${r.notes.join(' | ')}`);
});
