import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Image } from '../src/lib/data/types';
import { detectCopyMove } from '../src/lib/classical';
import { exactTwinRegions, grainOf } from '../src/lib/classical/exactRegions';
import { rankedTwinTransforms, twinPairs } from '../src/lib/classical/exactTwins';
import { resolveParams } from '../src/lib/classical/params';
import { detectionMemo } from '../src/lib/classical/stages';
import { NATIVE_STAGES } from '../src/lib/classical/nativeStages';
import { toGray } from '../src/lib/classical/grayscale';
import { Rng } from '../src/lib/util/random';
import { blobTexture } from './fixtures/texture';

const W = 320;
const H = 240;

function noisyField(seed: string): Image {
  const f = blobTexture(W, H, new Rng(seed), { base: 110, areaPerBlob: 80, maxRadius: 7, amplitude: 50, noise: 5 });
  return { data: Uint8Array.from(f, (v) => Math.max(0, Math.min(255, Math.round(v)))), width: W, height: H, channels: 1 };
}

/** Copies the s x s box at (x, y) to (x + dx, y + dy), pixel for pixel. */
function paste(img: Image, x: number, y: number, s: number, dx: number, dy: number): void {
  for (let v = y; v < y + s; v++) for (let u = x; u < x + s; u++) img.data[(v + dy) * W + u + dx] = img.data[v * W + u];
}

const OPTS = { minVotes: 12, minGrain: 0.7, minDistance: 16, maxArea: 0.25 * W * H };

test('exactTwinRegions: a 14 x 14 copy of noisy texture, too small for keypoints, comes back as its source and its copy', () => {
  const img = noisyField('exact-region');
  paste(img, 40, 50, 14, 200, 120);
  const { pairs } = exactTwinRegions(img, toGray(img), OPTS);
  assert.equal(pairs.length, 1);
  const inBox = (q: number, x: number, y: number) => q % W >= x && q % W < x + 14 && Math.floor(q / W) >= y && Math.floor(q / W) < y + 14;
  const [a, b] = [pairs[0].source, pairs[0].copy];
  const srcFirst = inBox(a[0], 40, 50);
  const [src, copy] = srcFirst ? [a, b] : [b, a];
  assert.equal(src.length, 14 * 14, 'every source pixel');
  assert.ok(src.every((q) => inBox(q, 40, 50)) && copy.every((q) => inBox(q, 240, 170)), 'source and copy where they were pasted');
});

test('exactTwinRegions: rendered graphics that repeat exactly (flat fills, a repeated marker) give nothing', () => {
  const img: Image = { data: new Uint8Array(W * H).fill(240), width: W, height: H, channels: 1 };
  // the same 20 x 20 marker (a disc with an anti-aliased edge) drawn twice, as a chart does
  for (let k = 0; k < 2; k++) {
    const cx = 60 + k * 150;
    const cy = 60 + k * 90;
    for (let y = cy - 10; y < cy + 10; y++) {
      for (let x = cx - 10; x < cx + 10; x++) {
        const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
        img.data[y * W + x] = d < 6 ? 40 : d < 7 ? 140 : 240;
      }
    }
  }
  assert.ok(rankedTwinTransforms(OPTS, twinPairs(img, OPTS)).length > 0, 'the markers are exact twins');
  assert.equal(exactTwinRegions(img, toGray(img), OPTS).pairs.length, 0, 'but carry no grain');
});

test('detectCopyMove: a small unchanged copy becomes one event, its source and its copy', async () => {
  const img = noisyField('exact-region-detect');
  paste(img, 60, 40, 16, 170, 130);
  const r = await detectCopyMove(img);
  assert.equal(r.instances.count, 1, r.notes.join('; '));
  const n = W * H;
  const at = (x: number, y: number) => r.instances.data[y * W + x];
  assert.equal(at(68, 48), 1, 'source centre');
  assert.equal(at(238, 178), 1, 'copy centre');
  let area = 0;
  for (let q = 0; q < n; q++) area += r.instances.data[q];
  assert.ok(area >= 2 * 16 * 16 * 0.9 && area <= 2 * 16 * 16 * 1.5, `event area ${area}`);
});

test('exactTwinRegions: the halves of a mirror-symmetric object are twins, but side by side: not a copy', () => {
  const img = noisyField('exact-region-symmetric');
  // a 48 x 36 object whose right half mirrors its left half, axis at x = 84
  for (let y = 50; y < 86; y++) for (let x = 0; x < 24; x++) img.data[y * W + 60 + 47 - x] = img.data[y * W + 60 + x];
  assert.ok(rankedTwinTransforms(OPTS, twinPairs(img, OPTS)).some((t) => t.affine[0] === -1 && t.affine[4] === 1), 'the mirror is a twin transform');
  assert.equal(exactTwinRegions(img, toGray(img), OPTS).pairs.length, 0);
});

test('one detection computes the twin pairs once: the exact-twin and exact-region stages ask the same memo key', () => {
  const img = noisyField('memo');
  paste(img, 40, 40, 14, 150, 90);
  const calls: string[] = [];
  const memo = detectionMemo();
  const counted = <T>(key: string, compute: () => T): T => memo(key, () => (calls.push(key), compute()));
  const p = resolveParams({});
  // as the detector (or the stage worker) runs them: one input, one memo per detection
  const input = { image: img, native: toGray(img), scale: 1, p, memo: counted };
  for (const name of ['exact', 'exact regions'] as const) NATIVE_STAGES[name](input);
  assert.equal(calls.length, 1, `twin pairs computed ${calls.length} times`);
  assert.ok(exactTwinRegions(img, toGray(img), OPTS, memo(calls[0], () => undefined)).pairs.length > 0, 'the memo holds the pairs');
});

/** Faint texture: a shallow ramp plus one grey level of noise, about half of neighbouring pixels differ. */
function faintField(seed: string): Image {
  const rng = new Rng(seed);
  const data = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[y * W + x] = 100 + (x >> 4) + (rng.next() < 0.5 ? 1 : 0);
  return { data, width: W, height: H, channels: 1 };
}

test('exactTwinRegions: an unchanged copy of faint texture passes on many differing pixels (lowGrain, grainPixels); a small one does not', () => {
  const img = faintField('faint-exact-region');
  paste(img, 30, 40, 30, 200, 120); // 900 px, ~450 differing neighbour pairs
  paste(img, 150, 20, 12, 0, 180); // 144 px, ~70 differing neighbour pairs
  const gray = toGray(img);
  assert.equal(exactTwinRegions(img, gray, OPTS).pairs.length, 0, 'under minGrain 0.7 alone both are left out');
  const { pairs } = exactTwinRegions(img, gray, { ...OPTS, lowGrain: 0.45, grainPixels: 120 });
  assert.equal(pairs.length, 1, 'only the large copy');
  assert.equal(pairs[0].source.length, 30 * 30);
  const g = grainOf(gray, pairs[0].source);
  assert.ok(g.differ / g.pairs > 0.45 && g.differ / g.pairs < 0.7, `grain ${(g.differ / g.pairs).toFixed(2)}`);
});
