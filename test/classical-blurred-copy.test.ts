import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GrayImage } from '../src/lib/classical/grayscale';
import type { Affine } from '../src/lib/classical/geometry';
import { blurredAgreement } from '../src/lib/classical/blurredCopy';
import { detectCopyMove } from '../src/lib/classical/detect';
import { resolveParams } from '../src/lib/classical/params';
import { verifyCopy } from '../src/lib/classical/verify';
import { Rng } from '../src/lib/util/random';
import { blobTexture } from './fixtures/texture';
import { clamp, rgb, seeds } from './fixtures/translatedCopy';

/** Blob texture, its pixel noise left to the caller (float, unclamped). */
function smooth(seed: string, w: number, h: number): Float32Array {
  return blobTexture(w, h, new Rng(seed), { base: 120, areaPerBlob: 80, maxRadius: 7, amplitude: 50, noise: 0 });
}

function addNoise(f: Float32Array, seed: string, sigma: number): Float32Array {
  const rng = new Rng(seed);
  return f.map((v) => v + rng.normal(0, sigma));
}

/** The s x s square at (x, y) copied to (x + dx, y + dy), box-blurred 3x3 inside the square (as a forger softens a paste). */
function pasteBlurred(f: Float32Array, w: number, x: number, y: number, s: number, dx: number, dy: number): void {
  for (let v = 0; v < s; v++) {
    for (let u = 0; u < s; u++) {
      let sum = 0;
      let n = 0;
      for (let b = -1; b <= 1; b++) {
        for (let a = -1; a <= 1; a++) {
          if (u + a < 0 || v + b < 0 || u + a >= s || v + b >= s) continue;
          sum += f[(y + v + b) * w + x + u + a];
          n++;
        }
      }
      f[(y + dy + v) * w + x + dx + u] = sum / n;
    }
  }
}

/** The s x s square at (x, y) of `from` written to (x + dx, y + dy) of `to`. */
function paste(to: Float32Array, from: Float32Array, w: number, x: number, y: number, s: number, dx: number, dy: number): void {
  for (let v = 0; v < s; v++) for (let u = 0; u < s; u++) to[(y + dy + v) * w + x + dx + u] = from[(y + v) * w + x + u];
}



const W = 320;
const H = 240;

test('blurredAgreement: a blurred copy agrees with its source blurred alike; look-alikes with their own noise do not', () => {
  const p = resolveParams({});
  const threshold = p.minBlurredZncc;
  assert.ok(threshold > 0, 'the blurred-copy admission is on by default');
  const a: Affine = [1, 0, 181, 0, 1, 117];

  const f = addNoise(smooth('blurred-copy', W, H), 'blurred-copy-noise', 3);
  pasteBlurred(f, W, 30, 40, 64, 181, 117);
  const copy: GrayImage = { data: clamp(f), width: W, height: H };
  const v = verifyCopy(copy, seeds(a, 30, 40, 64), p);
  assert.ok(v.support > 0.5 && v.meanZncc < p.minEventScore, `the blurred copy verifies below the gate (support ${v.support}, ZNCC ${v.meanZncc})`);
  const blurred = blurredAgreement(copy, v.source, a, p);
  assert.ok(blurred >= threshold, `blurred copy: ${blurred} >= ${threshold}`);
  // the other way round: the transform maps the blurred copy onto its sharp source
  const back: Affine = [1, 0, -181, 0, 1, -117];
  const vb = verifyCopy(copy, seeds(back, 211, 157, 64), p);
  const blurredBack = blurredAgreement(copy, vb.source, back, p);
  assert.ok(blurredBack >= threshold, `blurred source: ${blurredBack} >= ${threshold}`);

  // the same smooth content twice, each with its own pixel noise: look-alike structure at ZNCC ~0.9
  const clean = smooth('look-alike', W, H);
  paste(clean, clean.slice(), W, 30, 40, 64, 181, 117);
  const look: GrayImage = { data: clamp(addNoise(clean, 'look-alike-noise', 7)), width: W, height: H };
  const u = verifyCopy(look, seeds(a, 30, 40, 64), p);
  assert.ok(u.support > 0.5 && u.meanZncc > 0.85 && u.meanZncc < p.minEventScore, `the look-alikes verify below the gate, as the blurred copy does (support ${u.support}, ZNCC ${u.meanZncc})`);
  const lookBlurred = blurredAgreement(look, u.source, a, p);
  assert.ok(lookBlurred < threshold, `look-alikes: ${lookBlurred} < ${threshold}`);
});

test('detection: a blurred copy below minEventScore is kept as a blurred copy, one event; with the admission off it is dropped', async () => {
  const w = 512;
  const h = 384;
  const f = addNoise(smooth('blurred-detect', w, h), 'blurred-detect-noise', 3);
  pasteBlurred(f, w, 40, 36, 90, 230, 170);
  const image = rgb({ data: clamp(f), width: w, height: h });
  // the near-block, dense and keypoint stages' own lower gates would keep this copy too: off, so that the test shows the blurred-copy one
  const peakedGatesOff = { nearMinScore: 0.95, denseMinScore: 0.95, keypointMinScore: 0.95 };
  const found = await detectCopyMove(image, peakedGatesOff);
  assert.equal(found.instances.count, 1, found.notes.join('; '));
  assert.ok(found.scores[0] < resolveParams({}).minEventScore, `the event scores ${found.scores[0]}: below minEventScore, so this test shows the admission`);
  assert.ok(found.notes.some((n) => n.includes('blurred copy')), found.notes.join('; '));
  const m = found.instances.data;
  assert.ok(m[(36 + 45) * w + 40 + 45] === 1 && m[(206 + 45) * w + 270 + 45] === 1, 'the event holds the source and the copy');

  const off = await detectCopyMove(image, { ...peakedGatesOff, minBlurredZncc: 0 });
  assert.equal(off.instances.count, 0, off.notes.join('; '));
});
