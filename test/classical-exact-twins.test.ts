import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exactTwinMap, exactTwinTransforms } from '../src/lib/classical/exactTwins';
import type { Image } from '../src/lib/data/types';
import { ConfigError } from '../src/lib/errors';
import { Rng } from '../src/lib/util/random';
import { texture } from './fixtures/texture';
import { SQUARE_SYMMETRIES as SYMS, type SquareSymmetry } from './fixtures/symmetries';

function paste(img: Image, sym: SquareSymmetry, s: number, src: [number, number], dst: [number, number], delta = 0): void {
  const { data, width: W } = img;
  const copy = data.slice();
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      const [u, v] = sym(x, y, s);
      for (let c = 0; c < 3; c++) data[((dst[1] + y) * W + dst[0] + x) * 3 + c] = Math.min(255, copy[((src[1] + v) * W + src[0] + u) * 3 + c] + delta);
    }
  }
}

/** Fraction of the s x s square at (x0, y0) that the map marks. */
function covered(map: Uint8Array, W: number, x0: number, y0: number, s: number): number {
  let n = 0;
  for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) n += map[(y0 + y) * W + x0 + x];
  return n / (s * s);
}

const total = (m: Uint8Array) => m.reduce((a, v) => a + v, 0);

test('exact twins: a copy under each of the 8 symmetries marks source and copy, and nothing else', () => {
  const [W, H, s] = [150, 110, 24];
  SYMS.forEach((sym, k) => {
    const img = texture(W, H, `twins-${k}`);
    assert.equal(total(exactTwinMap(img)), 0, `symmetry ${k}: evidence in an untouched image`);
    paste(img, sym, s, [10, 12], [100, 70]);
    const map = exactTwinMap(img);
    assert.equal(covered(map, W, 10, 12, s), 1, `symmetry ${k}: source`);
    assert.equal(covered(map, W, 100, 70, s), 1, `symmetry ${k}: copy`);
    assert.equal(total(map), 2 * s * s, `symmetry ${k}: marked pixels outside source and copy`);
    // All (24 - 6 + 1)^2 = 361 block pairs vote for one transform (symmetry + where the origin lands).
    assert.equal(total(exactTwinMap(img, { minVotes: 361 })), 2 * s * s, `symmetry ${k}: one transform for the whole copy`);
  });
});

test('exact twins: a brightness-shifted copy, flat areas and a block next to itself are not evidence', () => {
  const [W, H, s] = [120, 90, 20];
  const shifted = texture(W, H, 'twins-shift');
  paste(shifted, SYMS[0], s, [8, 8], [80, 50], 1);
  assert.equal(total(exactTwinMap(shifted)), 0, 'a copy one grey level brighter is not pixel-exact');
  // Two flat rectangles of the same colour: every block in them has twins, none is evidence.
  const flat = texture(W, H, 'twins-flat');
  for (const [x0, y0] of [[5, 5], [70, 40]]) {
    for (let y = y0; y < y0 + 30; y++) for (let x = x0; x < x0 + 30; x++) flat.data.set([200, 200, 200], (y * W + x) * 3);
  }
  assert.equal(total(exactTwinMap(flat)), 0, 'constant blocks');
  // A copy shifted by 3 pixels overlaps its source: twins closer than minDistance are ignored.
  const near = texture(W, H, 'twins-near');
  paste(near, SYMS[0], s, [30, 30], [33, 30]);
  assert.equal(total(exactTwinMap(near, { minDistance: 6 })), 0, 'overlapping twins');
});

test('exact twins: minVotes keeps a pasted region (hundreds of pairs under one transform) and drops a repeated small glyph', () => {
  const [W, H] = [140, 100];
  const img = texture(W, H, 'twins-votes');
  paste(img, SYMS[3], 24, [8, 8], [100, 60]); // a region: (24 - 6 + 1)^2 = 361 pairs under one transform
  paste(img, SYMS[0], 8, [70, 10], [40, 75]); // a glyph-sized repeat: (8 - 6 + 1)^2 = 9 pairs
  const all = exactTwinMap(img);
  assert.equal(covered(all, W, 40, 75, 8), 1, 'every twin counts by default');
  const voted = exactTwinMap(img, { minVotes: 16 });
  assert.equal(covered(voted, W, 8, 8, 24), 1, 'source kept');
  assert.equal(covered(voted, W, 100, 60, 24), 1, 'copy kept');
  assert.equal(covered(voted, W, 40, 75, 8), 0, 'small repeat dropped');
  assert.equal(total(voted), 2 * 24 * 24);
  assert.throws(() => exactTwinMap(img, { minVotes: 0 }), ConfigError);
});

test('exact twins: grey and 16-bit images, tiny images and bad options', () => {
  const rgb = texture(100, 80, 'twins-16');
  paste(rgb, SYMS[5], 16, [5, 5], [70, 50]);
  const grey: Image = { data: Uint8Array.from({ length: 100 * 80 }, (_, p) => rgb.data[p * 3]), width: 100, height: 80, channels: 1 };
  assert.ok(covered(exactTwinMap(grey), 100, 70, 50, 16) === 1, 'grey copy');
  const deep: Image = { data: Uint16Array.from(rgb.data, (v, i) => v * 257 + (i % 3)), width: 100, height: 80, channels: 3 };
  assert.ok(covered(exactTwinMap(deep), 100, 70, 50, 16) === 1, '16-bit copy');
  assert.equal(total(exactTwinMap({ data: new Uint8Array(4 * 3 * 3), width: 4, height: 3, channels: 3 })), 0, 'smaller than a block');
  assert.throws(() => exactTwinMap(rgb, { block: 1 }), ConfigError);
  assert.throws(() => exactTwinMap(rgb, { maxBucket: 1 }), ConfigError);
});

test('exact twin transforms: each of the 8 symmetries gives one transform that maps the source onto its copy', () => {
  const [W, H, s] = [150, 110, 24];
  SYMS.forEach((sym, k) => {
    const img = texture(W, H, `twin-transforms-${k}`);
    paste(img, sym, s, [10, 12], [100, 70]);
    const ts = exactTwinTransforms(img);
    assert.equal(ts.length, 1, `symmetry ${k}: one transform (it and its inverse are one copy)`);
    const [a, b, tx, c, d, ty] = ts[0].affine;
    assert.equal(ts[0].inliers, 361, `symmetry ${k}: every block pair votes`);
    assert.equal(ts[0].src.length, 2 * 361);
    // Every pixel of one square lands on the pixel of the other that holds the same value.
    const [from, to] = tx > 50 ? [[10, 12], [100, 70]] : [[100, 70], [10, 12]];
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        const [X, Y] = [a * (from[0] + x) + b * (from[1] + y) + tx, c * (from[0] + x) + d * (from[1] + y) + ty];
        assert.ok(X >= to[0] && X < to[0] + s && Y >= to[1] && Y < to[1] + s, `symmetry ${k}: (${x}, ${y}) lands outside the copy`);
        for (let ch = 0; ch < 3; ch++) assert.equal(img.data[(Y * W + X) * 3 + ch], img.data[((from[1] + y) * W + from[0] + x) * 3 + ch]);
      }
    }
    assert.equal(ts[0].flipped, a * d - b * c < 0);
  });
  assert.deepEqual(exactTwinTransforms(texture(W, H, 'twin-transforms-none')), [], 'an untouched image');
});
