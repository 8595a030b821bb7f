import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GrayImage } from '../src/lib/classical/grayscale';
import { detectCopyMove } from '../src/lib/classical/index';
import { resolveParams } from '../src/lib/classical/params';
import { pasteTurned } from '../src/lib/data/synth/turnedPaste';
import { Rng } from '../src/lib/util/random';
import { blobTexture } from './fixtures/texture';
import { pasteInterpolated } from './fixtures/resampled';
import { clamp, rgb } from './fixtures/translatedCopy';

// keypoints alone propose: every other proposing stage off, and the sharp keypoints only (the softened image's
// also match an interpolated copy, which the editor's resampling softened, and would lift its inlier count)
const keypointsOnly = { blockMatching: false, exactTwins: false, exactRegions: false, nearBlocks: false, denseMatching: false, laneMatching: false, periodicBreaks: false, minBlurredZncc: 0, blurredKeypoints: false };

test('gate: a keypoint-proposed copy with noise of its own, verified below minEventScore, passes from keypointMinScore when its detail peaks; with the lower gate off it is dropped', async () => {
  const W = 384;
  const H = 288;
  const f = blobTexture(W, H, new Rng('kp-gate'), { base: 120, areaPerBlob: 120, maxRadius: 9, amplitude: 60, noise: 5 });
  const g: GrayImage = { data: clamp(f), width: W, height: H };
  const mask = pasteTurned(g, 80, 80, 280, 190, 45, 31);
  // the editor's noise on the copy takes its mean ZNCC below minEventScore; its grain still peaks at the transform
  const rng = new Rng('kp-gate-noise');
  for (let p = 0; p < W * H; p++) if (mask[p]) g.data[p] = Math.max(0, Math.min(255, Math.round(g.data[p] + rng.normal(0, 4))));
  const defaults = resolveParams({});
  const found = await detectCopyMove(rgb(g), keypointsOnly);
  assert.equal(found.instances.count, 1, found.notes.join('; '));
  assert.ok(found.scores[0] < defaults.minEventScore, `the event scores ${found.scores[0]}: not below minEventScore, so this test does not show the lower gate`);
  assert.ok(found.notes.some((n) => n.includes('kept (peaked keypoint copy)')), found.notes.join('; '));
  const accepted = found.debug.candidates.filter((c) => c.accepted);
  assert.ok(accepted.length > 0 && accepted.every((c) => c.stage === 'keypoints' && c.detailDrop! >= defaults.keypointMinDrop), 'the keypoint copy peaks at its transform');
  const strict = await detectCopyMove(rgb(g), { ...keypointsOnly, keypointMinScore: 0.95 });
  assert.equal(strict.instances.count, 0, strict.notes.join('; '));
  assert.ok(strict.notes.some((n) => n.includes('scoring below minEventScore')), strict.notes.join('; '));
});

test('gate: a rescaled copy with few keypoint inliers passes on its ZNCC alone when its detail peaks sharply; with keypointSharpDrop off, the inlier factor drops it', async () => {
  const W = 384;
  const H = 288;
  const f = blobTexture(W, H, new Rng('kp-sharp-h'), { base: 120, areaPerBlob: 120, maxRadius: 9, amplitude: 60, noise: 5 });
  const g: GrayImage = { data: clamp(f), width: W, height: H };
  // a disc of radius 32 enlarged 1.3x (bilinear, as an editor does) from (90, 90) to (270, 190)
  pasteInterpolated(g, [1.3, 0, 270 - 1.3 * 90, 0, 1.3, 190 - 1.3 * 90], 90, 90, 32);
  const defaults = resolveParams({});
  const found = await detectCopyMove(rgb(g), keypointsOnly);
  assert.equal(found.instances.count, 1, found.notes.join('; '));
  const fit = found.debug.candidates.find((c) => c.accepted);
  assert.ok(fit && fit.stage === 'keypoints', 'the keypoint fit is verified');
  assert.ok(fit.inliers < 2 * defaults.minInliers, `${fit.inliers} inliers: the inlier factor would not lower its score, so this test does not show the sharp peak`);
  assert.ok(fit.meanZncc * (fit.inliers / (2 * defaults.minInliers)) < defaults.keypointMinScore, 'with its inlier factor the copy scores below keypointMinScore');
  assert.ok(fit.detailDrop! >= defaults.keypointSharpDrop, `its detail falls ${fit.detailDrop} 2 px off the transform`);
  assert.ok(found.notes.some((n) => n.includes('kept (peaked keypoint copy)')), found.notes.join('; '));
  const off = await detectCopyMove(rgb(g), { ...keypointsOnly, keypointSharpDrop: 2 });
  assert.equal(off.instances.count, 0, off.notes.join('; '));
  assert.ok(off.notes.some((n) => n.includes('scoring below minEventScore')), off.notes.join('; '));
});

test('keypointMinScore and keypointMinDrop: out-of-range or NaN values are refused with their names', () => {
  assert.equal(resolveParams({ 'keypoints.keypointMinScore': 0.9 }).keypointMinScore, 0.9);
  assert.throws(() => resolveParams({ keypointMinScore: 1.2 }), /keypointMinScore must lie in \[0, 1\].*1\.2/);
  assert.throws(() => resolveParams({ keypointMinDrop: -0.5 }), /keypointMinDrop must lie in \[0, 2\].*-0\.5/);
  assert.throws(() => resolveParams({ 'keypoints.keypointMinDrop': Number.NaN }), /keypointMinDrop must lie in \[0, 2\]/);
  assert.equal(resolveParams({ 'keypoints.keypointSharpDrop': 0.6 }).keypointSharpDrop, 0.6);
  assert.throws(() => resolveParams({ keypointSharpDrop: 2.5 }), /keypointSharpDrop must lie in \[0, 2\].*2\.5/);
});
