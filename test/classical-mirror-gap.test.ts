import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectCopyMove } from '../src/lib/classical/index';
import { resolveParams } from '../src/lib/classical/params';
import { Rng } from '../src/lib/util/random';
import type { Image } from '../src/lib/data/types';
import { blobTexture } from './fixtures/texture';
import { clamp, rgb } from './fixtures/translatedCopy';

const W = 640;
const H = 512; // no resizing: distances below are working pixels
/** The flat strip down the axis: its halves verify 17-24 px apart, within mirrorMinGap (24) but beyond minDistance (16). */
const STRIP = 22;

/**
 * A textured field holding one mirror-symmetric object: a 70x120 textured half, a flat strip down
 * the axis, and the half's mirror image on the other side. Near the axis source and copy agree too
 * little to verify, so its halves end up about the strip's width apart.
 */
function symmetricObject(): Image {
  const f = blobTexture(W, H, new Rng('mirror-gap'), { base: 120, areaPerBlob: 200, maxRadius: 14, amplitude: 50, noise: 3 });
  const g = clamp(f);
  const [x0, y0, half, h] = [200, 180, 70, 120];
  const axis = x0 + half + STRIP / 2; // between pixels: x mirrors to 2 axis - 1 - x
  for (let y = y0; y < y0 + h; y++) {
    for (let x = x0 + half; x < x0 + half + STRIP; x++) g[y * W + x] = 200;
    for (let x = x0; x < x0 + half; x++) g[y * W + 2 * axis - 1 - x] = g[y * W + x];
  }
  return rgb({ data: g, width: W, height: H });
}

test('a mirror-symmetric object whose halves verify apart across its axis is structure (mirrorMinGap); at minDistance it was taken for a copy of itself', async () => {
  const image = symmetricObject();
  const d = await detectCopyMove(image);
  const mirrors = d.debug.candidates.filter((c) => c.affine[0] * c.affine[4] - c.affine[1] * c.affine[3] < 0);
  const loose = await detectCopyMove(image, { mirrorMinGap: 0 });
  assert.equal(resolveParams({}).mirrorMinGap, 24, 'the strip is sized for the default gap');
  assert.equal(d.instances.count, 0, d.notes.join('; '));
  assert.ok(mirrors.some((c) => /touch/.test(c.reason ?? '')), 'the mirror transform was never considered');
  assert.equal(loose.instances.count, 1, `with the gap at minDistance the halves are a copy: ${loose.notes.join('; ')}`);
});

test('mirrorMinGap: negative or NaN values are refused with the name', () => {
  assert.equal(resolveParams({ 'verify.mirrorMinGap': 0 }).mirrorMinGap, 0);
  assert.throws(() => resolveParams({ mirrorMinGap: -1 }), /mirrorMinGap must be a distance >= 0.*-1/);
  assert.throws(() => resolveParams({ mirrorMinGap: Number.NaN }), /mirrorMinGap must be a distance >= 0/);
});
