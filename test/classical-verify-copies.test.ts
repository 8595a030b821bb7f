import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GrayImage } from '../src/lib/classical/grayscale';
import type { Affine, CopyTransform } from '../src/lib/classical/geometry';
import { isInvolution } from '../src/lib/classical/involution';
import { resolveParams } from '../src/lib/classical/params';
import { verifyCopy } from '../src/lib/classical/verify';
import { Rng } from '../src/lib/util/random';
import { blobTexture } from './fixtures/texture';

const W = 240;
const H = 160;

function field(seed: string, opts: { amplitude: number; noise: number; base: number }): GrayImage {
  const f = blobTexture(W, H, new Rng(seed), { base: opts.base, areaPerBlob: 60, maxRadius: 6, amplitude: opts.amplitude, noise: opts.noise });
  return { data: Uint8Array.from(f, (v) => Math.max(0, Math.min(255, Math.round(v)))), width: W, height: H };
}

/** Copies the box (x, y, s x s) to the place `a` maps it to, pixel for pixel (a: a flip or translation with integer offsets). */
function paste(g: GrayImage, a: Affine, x: number, y: number, s: number): void {
  const src = g.data.slice();
  for (let v = y; v < y + s; v++) {
    for (let u = x; u < x + s; u++) g.data[Math.round(a[3] * u + a[4] * v + a[5]) * W + Math.round(a[0] * u + a[1] * v + a[2])] = src[v * W + u];
  }
}

function seeds(a: Affine, pts: number[]): CopyTransform {
  const src = Float32Array.from(pts);
  const dst = new Float32Array(pts.length);
  for (let k = 0; k < pts.length; k += 2) {
    dst[k] = a[0] * pts[k] + a[1] * pts[k + 1] + a[2];
    dst[k + 1] = a[3] * pts[k] + a[4] * pts[k + 1] + a[5];
  }
  return { affine: a, src, dst, inliers: pts.length / 2, cluster: 0, flipped: a[0] * a[4] - a[1] * a[3] < 0 };
}

function overlap(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) n += a[i] & b[i];
  return n;
}

test('isInvolution: flips about an axis and half turns are, translations and quarter turns are not', () => {
  assert.ok(isInvolution([-1, 0, 200, 0, 1, 0], W, H));
  assert.ok(isInvolution([-1, 0, 200, 0, -1, 150], W, H));
  assert.ok(!isInvolution([1, 0, 100, 0, 1, 0], W, H));
  assert.ok(!isInvolution([0, -1, 150, 1, 0, 0], W, H));
});

test('verifyCopy: a mirrored copy seeded on both sides gives a source and a copy apart, not one region that touches itself', () => {
  const g = field('involution', { base: 120, amplitude: 60, noise: 6 });
  // mirror about x = 120: the box at x 30..70 lands at 170..210
  const flip: Affine = [-1, 0, 240 - 1, 0, 1, 0];
  paste(g, flip, 30, 50, 40);
  // inliers on both sides, as matching finds them (a -> b and b -> a are the same transform)
  const v = verifyCopy(g, seeds(flip, [40, 60, 60, 80, 50, 70, 180, 60, 200, 80, 190, 70]), resolveParams({}));
  assert.ok(v.support > 0.9, `support ${v.support}`);
  assert.ok(v.sourceArea > 1200 && v.sourceArea < 2000, `source area ${v.sourceArea} (one 40 x 40 box)`);
  assert.equal(overlap(v.source, v.target), 0, 'source and copy share pixels');
});

test('verifyCopy: a copy of faint background noise (below minVariance) pasted unchanged is verified value for value; the unchanged background is not', () => {
  const g = field('faint', { base: 4, amplitude: 0, noise: 1.3 });
  const shift: Affine = [1, 0, 120, 0, 1, 40];
  paste(g, shift, 40, 40, 36);
  const p = resolveParams({});
  const v = verifyCopy(g, seeds(shift, [50, 50, 60, 60, 70, 65]), p);
  assert.ok(v.support > 0.9 && v.meanZncc > 0.9, `support ${v.support}, zncc ${v.meanZncc}`);
  assert.ok(v.sourceArea >= 30 * 30, `source area ${v.sourceArea}`);
  // another offset over the same noise: nothing agrees
  const other: Affine = [1, 0, 100, 0, 1, 20];
  const u = verifyCopy(g, seeds(other, [50, 50, 60, 60, 70, 65]), p);
  assert.ok(u.support < 0.1, `support ${u.support} off the copy`);
});
