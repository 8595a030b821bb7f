/**
 * Issue 20, item 15: the classical detector says why a result is empty (a small figure, the stage
 * that found nothing) instead of returning 0 instances without a hint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectors, detectCopyMove, SMALL_IMAGE_SIDE } from '../src/lib/classical/index';
import { generateImage } from '../src/lib/data/synth/generate';
import { Rng } from '../src/lib/util/random';
import type { Image } from '../src/lib/data/types';

test('a 128 px forged figure: the result carries notes naming the small size and the stage that found nothing', async () => {
  const figure = generateImage(new Rng('sifd-00'), { forged: true, sizes: { min: 128, max: 128 } });
  assert.ok(Math.min(figure.image.width, figure.image.height) < SMALL_IMAGE_SIDE);
  const found = await detectors.classical(figure.image);
  assert.match(found.notes[0], /^small image \(\d+x\d+\): copies in figures under ~256 px are often too small for keypoints/);
  if (found.instances.count === 0) assert.match(found.notes.join('\n'), /no copy transform proposed|no transform passed verification: \d+ rejected, most often for /);
  const full = await detectCopyMove(figure.image);
  assert.deepEqual(full.notes, found.notes, 'detectCopyMove carries the same notes');
});

test('a flat image: no keypoints, said so', async () => {
  const flat: Image = { data: new Uint8Array(400 * 300 * 3).fill(128), width: 400, height: 300, channels: 3 };
  const r = await detectors.classical(flat);
  assert.equal(r.instances.count, 0);
  assert.deepEqual(r.notes, ['image 400x300 smaller than minSide 512: upscaled to 512x384 (x1.28)', 'no copy transform proposed (0 keypoints)']);
  const twins = await detectors.exactTwins(flat);
  assert.equal(twins.instances.count, 0);
  assert.match(twins.notes[0], /no pixel-exact block twins/);
});
