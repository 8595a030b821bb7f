import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { GrayImage } from '../src/lib/classical/grayscale';
import { blockMatchTransforms, BLOCK_DEFAULTS } from '../src/lib/classical/blockMatch';
import { nearBlockTransforms } from '../src/lib/classical/nearBlocks';
import { nearSymmetricTransforms } from '../src/lib/classical/nearSymmetric';
import { Rng } from '../src/lib/util/random';
import { blobTexture } from './fixtures/texture';

function field(w: number, h: number, seed: string): GrayImage {
  const f = blobTexture(w, h, new Rng(seed), { base: 120, areaPerBlob: 80, maxRadius: 7, amplitude: 50, noise: 4 });
  return { data: Uint8Array.from(f, (v) => Math.max(0, Math.min(255, Math.round(v)))), width: w, height: h };
}

/** The grey image after a real JPEG round trip (sharp, libjpeg) at `quality`. */
async function jpegRoundTrip(g: GrayImage, quality: number): Promise<GrayImage> {
  const buf = await sharp(Buffer.from(g.data), { raw: { width: g.width, height: g.height, channels: 1 } }).jpeg({ quality }).toBuffer();
  const { data, info } = await sharp(buf).greyscale().raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 1);
  return { data: new Uint8Array(data), width: g.width, height: g.height };
}

const OPTS = { minDistance: 16, minVotes: 100, maxTransforms: 8 };

test('near blocks: a translated copy re-encoded as JPEG q80 is found at its offset, where the DCT hashes lose it', async () => {
  const g = field(320, 240, 'near-blocks');
  const [sx, sy, s, dx, dy] = [30, 40, 48, 181, 117];
  for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) g.data[(sy + dy + y) * g.width + sx + dx + x] = g.data[(sy + y) * g.width + sx + x];
  const jpeg = await jpegRoundTrip(g, 80);
  const found = nearBlockTransforms(jpeg, OPTS);
  assert.ok(found.length >= 1, 'nothing found');
  const [a] = found;
  assert.deepEqual([a.affine[0], a.affine[1], a.affine[3], a.affine[4]], [1, 0, 0, 1]);
  assert.ok(Math.abs(Math.abs(a.affine[2]) - dx) <= 1 && Math.abs(Math.abs(a.affine[5]) - dy) <= 1, `offset ${a.affine[2]}, ${a.affine[5]}`);
  assert.ok(a.inliers >= OPTS.minVotes && a.src.length === a.dst.length && a.src.length >= 2 * 50);
  // the inlier block centres lie in the source and the copy
  for (let k = 0; k < a.src.length; k += 2) {
    const [p, q] = a.affine[2] > 0 ? [[a.src[k], a.src[k + 1]], [a.dst[k], a.dst[k + 1]]] : [[a.dst[k], a.dst[k + 1]], [a.src[k], a.src[k + 1]]];
    assert.ok(p[0] >= sx && p[0] < sx + s && p[1] >= sy && p[1] < sy + s, `source block centre ${p}`);
    assert.ok(q[0] >= sx + dx && q[1] >= sy + dy, `copy block centre ${q}`);
  }
  // the exact-code hashing of the DCT block matching misses this copy after the JPEG round trip
  const hashed = blockMatchTransforms(jpeg, BLOCK_DEFAULTS, 16).filter((t) => Math.abs(Math.abs(t.affine[2]) - dx) <= 1);
  assert.equal(hashed.length, 0, 'the hash stage found it too: this test no longer shows what near blocks add');
});

test('near blocks: an untouched texture, and a flat image, propose nothing', async () => {
  assert.deepEqual(nearBlockTransforms(await jpegRoundTrip(field(320, 240, 'near-authentic'), 80), OPTS), []);
  const flat: GrayImage = { data: new Uint8Array(200 * 150).fill(90), width: 200, height: 150 };
  assert.deepEqual(nearBlockTransforms(flat, OPTS), []);
  assert.deepEqual(nearBlockTransforms({ data: new Uint8Array(5 * 5), width: 5, height: 5 }, OPTS), []);
});

/** Source pixel (u, v) of copy pixel (x, y) in an s x s square under each symmetry a copy may take. */
const TURNS: Record<string, (x: number, y: number, s: number) => [number, number]> = {
  'mirrored left-right': (x, y, s) => [s - 1 - x, y],
  'mirrored top-bottom': (x, y, s) => [x, s - 1 - y],
  'turned 90 degrees': (x, y, s) => [y, s - 1 - x],
  'turned 180 degrees': (x, y, s) => [s - 1 - x, s - 1 - y],
  transposed: (x, y) => [y, x],
};

for (const [name, from] of Object.entries(TURNS)) {
  test(`near symmetric blocks: a copy ${name}, then re-encoded as JPEG q80, is found with its symmetry; the translation stage misses it`, async () => {
    const g = field(320, 240, `near-sym-${name}`);
    const [sx, sy, s, cx, cy] = [30, 40, 56, 211, 157];
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        const [u, v] = from(x, y, s);
        g.data[(cy + y) * g.width + cx + x] = g.data[(sy + v) * g.width + sx + u];
      }
    }
    const jpeg = await jpegRoundTrip(g, 80);
    const found = nearSymmetricTransforms(jpeg, OPTS);
    assert.ok(found.length >= 1, 'nothing found');
    const a = found[0].affine;
    // the source square's centre lands on the copy's centre
    const c = (sx + (s - 1) / 2);
    const d = (sy + (s - 1) / 2);
    const mapped = [a[0] * c + a[1] * d + a[2], a[3] * c + a[4] * d + a[5]];
    assert.ok(Math.hypot(mapped[0] - (cx + (s - 1) / 2), mapped[1] - (cy + (s - 1) / 2)) <= 1.5, `maps the source centre to ${mapped}`);
    // the linear part is the symmetry: copy pixel (x, y) comes from source (u, v)
    const [u1, v1] = from(1, 0, s);
    const [u0, v0] = from(0, 0, s);
    const [ux, vx] = [u1 - u0, v1 - v0];
    assert.deepEqual([a[0] * ux + a[1] * vx + 0, a[3] * ux + a[4] * vx + 0], [1, 0], 'the source step that makes one copy step to the right');
    assert.equal(found[0].flipped, a[0] * a[4] - a[1] * a[3] < 0);
    assert.ok(found[0].inliers >= OPTS.minVotes);
    assert.equal(nearBlockTransforms(jpeg, OPTS).filter((t) => Math.hypot(t.affine[2] - (cx - sx), t.affine[5] - (cy - sy)) < 4).length, 0);
  });
}

test('near symmetric blocks: an untouched texture and a flat image propose nothing', async () => {
  assert.deepEqual(nearSymmetricTransforms(await jpegRoundTrip(field(320, 240, 'near-authentic'), 80), OPTS), []);
  const flat: GrayImage = { data: new Uint8Array(200 * 150).fill(90), width: 200, height: 150 };
  assert.deepEqual(nearSymmetricTransforms(flat, OPTS), []);
  assert.deepEqual(nearSymmetricTransforms({ data: new Uint8Array(5 * 5), width: 5, height: 5 }, OPTS), []);
});
