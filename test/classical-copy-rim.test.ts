import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GrayImage } from '../src/lib/classical/grayscale';
import type { Affine } from '../src/lib/classical/geometry';
import { growCopyRim } from '../src/lib/classical/copyRim';
import { detectCopyMove } from '../src/lib/classical/detect';
import { resolveParams } from '../src/lib/classical/params';
import { verifyCopy } from '../src/lib/classical/verify';
import { Rng } from '../src/lib/util/random';
import { blobTexture } from './fixtures/texture';
import { clamp, rgb, seeds } from './fixtures/translatedCopy';

const W = 320;
const H = 240;
const [SX, SY, S, DX, DY] = [40, 50, 40, 170, 110];

/** Grainy blob texture with the S x S square at (SX, SY) pasted DX, DY away, plus `noise` on the paste (grey levels, sd). */
function figure(seed: string, noise: number): GrayImage {
  const rng = new Rng(seed);
  const f = blobTexture(W, H, rng, { base: 120, areaPerBlob: 80, maxRadius: 7, amplitude: 50, noise: 4 });
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) f[(SY + DY + y) * W + SX + DX + x] = f[(SY + y) * W + SX + x] + rng.normal(0, noise);
  return { data: clamp(f), width: W, height: H };
}

/** Share of the square's pixels a mask covers, and share of the mask inside the square (source side). */
function coverage(m: Uint8Array): { recall: number; precision: number } {
  let inside = 0;
  let on = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (!m[y * W + x] || x >= SX + DX - 8) continue; // the source side only
      on++;
      if (x >= SX && x < SX + S && y >= SY && y < SY + S) inside++;
    }
  }
  return { recall: inside / (S * S), precision: on ? inside / on : 0 };
}

const A: Affine = [1, 0, DX, 0, 1, DY];

for (const [name, noise] of [['pasted as is', 0], ['noised after the paste (sd 3)', 3]] as const) {
  test(`copy rim: a 40 px copy ${name} verifies short of its edge; grown back, it covers its footprint and little else`, () => {
    const g = figure(`rim-${noise}`, noise);
    const v = verifyCopy(g, seeds(A, SX, SY, S), resolveParams({}));
    const before = coverage(v.source);
    assert.ok(before.recall < 0.9, `verification alone covers ${before.recall.toFixed(3)} of the square (the rim is missing)`);
    const grown = growCopyRim(g, v.source, v.target, A, 3);
    const after = coverage(grown.source);
    assert.ok(after.recall >= 0.95 && after.recall > before.recall + 0.1, `grown: recall ${after.recall.toFixed(3)} (before ${before.recall.toFixed(3)})`);
    // noised, some pixels just outside agree within the noise too: the growth overshoots by a little
    assert.ok(after.precision >= (noise ? 0.93 : 0.97), `grown: precision ${after.precision.toFixed(3)}`);
    // the copy is the grown source moved by the transform
    let moved = 0;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (grown.source[y * W + x]) moved += grown.target[(y + DY) * W + x + DX];
    assert.equal(moved, grown.source.reduce((s, b) => s + b, 0));
  });
}

test('copy rim: detection reports the whole pasted square with copyRim on, a smaller one with it off', async () => {
  // noised after the paste, so that only verified transforms (no exact twins) cover it
  const g = figure('rim-detect', 3);
  const image = rgb(g);
  const on = await detectCopyMove(image, {});
  const off = await detectCopyMove(image, { copyRim: false });
  assert.equal(on.instances.count, 1);
  assert.equal(off.instances.count, 1);
  const a = coverage(on.instances.data);
  const b = coverage(off.instances.data);
  assert.ok(a.recall > b.recall + 0.05 && a.recall >= 0.92, `recall with the rim ${a.recall.toFixed(3)}, without ${b.recall.toFixed(3)}`);
  assert.ok(a.precision >= 0.93, `precision ${a.precision.toFixed(3)}`);
});
