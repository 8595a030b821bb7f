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

/** Bilinear 2x enlargement (pixel centres aligned), as the detector's working frame enlarges a small figure. */
function enlarge2(f: Float32Array, w: number, h: number): Float32Array {
  const out = new Float32Array(4 * w * h);
  for (let y = 0; y < 2 * h; y++) {
    for (let x = 0; x < 2 * w; x++) {
      const sx = Math.min(w - 1.001, Math.max(0, (x + 0.5) / 2 - 0.5));
      const sy = Math.min(h - 1.001, Math.max(0, (y + 0.5) / 2 - 0.5));
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const at = (yy: number, xx: number) => f[yy * w + xx];
      out[y * 2 * w + x] = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
    }
  }
  return out;
}

test('blurredAgreement: a figure enlarged 2x holds its forger\'s blur 2x as wide; compared with that blur, the copy agrees better', () => {
  const p = resolveParams({});
  const f = addNoise(smooth('blurred-enlarged', W, H), 'blurred-enlarged-noise', 3);
  pasteBlurred(f, W, 30, 40, 64, 181, 117);
  const big: GrayImage = { data: clamp(enlarge2(f, W, H)), width: 2 * W, height: 2 * H };
  const a: Affine = [1, 0, 362, 0, 1, 234];
  const v = verifyCopy(big, seeds(a, 60, 80, 128), p);
  assert.ok(v.support > 0.5, `the enlarged copy verifies (support ${v.support})`);
  const native = blurredAgreement(big, v.source, a, p, 2);
  const working = blurredAgreement(big, v.source, a, p, 1);
  assert.ok(native > working, `blur in native pixels ${native} > in working pixels ${working}`);
  assert.ok(native >= p.minBlurredZncc, `${native} >= ${p.minBlurredZncc}`);
});

test('keypoints: a copy blurred after the paste matches its source\'s softened keypoints (blurredKeypoints), with enough inliers to pass as a blurred copy; without them it is dropped', async () => {
  const keypointsOnly = { stageWorker: false, blockMatching: false, exactTwins: false, exactRegions: false, nearBlocks: false, denseMatching: false, laneMatching: false, periodicBreaks: false };
  const w = 384;
  const h = 288;
  const f = blobTexture(w, h, new Rng('kp-blur-2'), { base: 120, areaPerBlob: 120, maxRadius: 9, amplitude: 60, noise: 5 });
  // a disc of radius 36 moved by (190, 100), then box-blurred 3x3 in place
  const r = 36;
  const moved = Float32Array.from(f);
  const inside = (x: number, y: number) => x * x + y * y <= r * r;
  for (let y = -r; y <= r; y++) for (let x = -r; x <= r; x++) if (inside(x, y)) moved[(190 + y) * w + 280 + x] = f[(90 + y) * w + 90 + x];
  const g = Float32Array.from(moved);
  for (let y = -r; y <= r; y++) {
    for (let x = -r; x <= r; x++) {
      if (!inside(x, y)) continue;
      let s = 0;
      for (let b = -1; b <= 1; b++) for (let a = -1; a <= 1; a++) s += moved[(190 + y + b) * w + 280 + x + a];
      g[(190 + y) * w + 280 + x] = s / 9;
    }
  }
  const image = rgb({ data: clamp(g), width: w, height: h });
  const found = await detectCopyMove(image, keypointsOnly);
  assert.equal(found.instances.count, 1, found.notes.join('; '));
  assert.ok(found.notes.some((n) => n.includes('kept (blurred copy)')), found.notes.join('; '));
  const without = await detectCopyMove(image, { ...keypointsOnly, blurredKeypoints: false });
  assert.equal(without.instances.count, 0, without.notes.join('; '));
  const fit = without.debug.candidates.find((c) => c.accepted);
  const withFit = found.debug.candidates.find((c) => c.accepted)!;
  assert.ok(!fit || fit.inliers < withFit.inliers, `sharp keypoints alone: ${fit?.inliers ?? 0} inliers, with the softened ones ${withFit.inliers}`);
});
