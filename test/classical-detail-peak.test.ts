import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { Image } from '../src/lib/data/types';
import type { GrayImage } from '../src/lib/classical/grayscale';
import type { Affine } from '../src/lib/classical/geometry';
import { detectCopyMove } from '../src/lib/classical/detect';
import { resolveParams } from '../src/lib/classical/params';
import { detailDrop, detailDropAt, imageWindows, registerByDetail, verifyCopy } from '../src/lib/classical/verify';
import { mapContext, SHARED_MAPS } from '../src/lib/classical/sharedMaps';
import type { CopyTransform } from '../src/lib/classical/geometry';
import { Rng } from '../src/lib/util/random';
import { blobTexture } from './fixtures/texture';
import { clamp, rgb, seeds } from './fixtures/translatedCopy';
import { pasteInterpolated } from './fixtures/resampled';

const W = 320;
const H = 240;


/** Blob texture with pixel noise: no region agrees with another by chance. */
function field(seed: string, w = W, h = H, noise = 4): GrayImage {
  return { data: clamp(blobTexture(w, h, new Rng(seed), { base: 120, areaPerBlob: 80, maxRadius: 7, amplitude: 50, noise })), width: w, height: h };
}

/** Horizontal bands (a smooth profile down the image, the same along every row) with independent pixel noise: look-alike structure. */
function bands(seed: string): GrayImage {
  const rng = new Rng(seed);
  const f = new Float32Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) f[y * W + x] = 120 + 45 * Math.sin(y / 2.5) + 20 * Math.sin(y / 7.3) + rng.normal(0, 2);
  return { data: clamp(f), width: W, height: H };
}

/**
 * Two blot-like lanes side by side (the same four soft bands, 100 px wide, at offset 240) with their
 * own faint noise, re-encoded: look-alike structure that hashes, near-matches and verifies as a copy.
 */
async function lookAlikeLanes(): Promise<Image> {
  const w = 512;
  const h = 384;
  const rng = new Rng('look-alike-lanes');
  const rows = [100, 150, 200, 250];
  const depth = rows.map(() => rng.uniform(60, 110));
  const f = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 200;
      for (const x0 of [60, 300]) {
        const edge = Math.min(1, Math.max(0, Math.min(x - x0, x0 + 100 - x) / 12));
        rows.forEach((y0, k) => (v -= depth[k] * edge * Math.exp(-((y - y0) ** 2) / 50)));
      }
      f[y * w + x] = v + rng.normal(0, 1);
    }
  }
  return rgb(await jpegRoundTrip({ data: clamp(f), width: w, height: h }, 85));
}

function translate(g: GrayImage, x: number, y: number, s: number, dx: number, dy: number): void {
  const w = g.width;
  for (let v = 0; v < s; v++) for (let u = 0; u < s; u++) g.data[(y + dy + v) * w + x + dx + u] = g.data[(y + v) * w + x + u];
}


async function jpegRoundTrip(g: GrayImage, quality: number): Promise<GrayImage> {
  const buf = await sharp(Buffer.from(g.data), { raw: { width: g.width, height: g.height, channels: 1 } }).jpeg({ quality }).toBuffer();
  const { data } = await sharp(buf).greyscale().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: g.width, height: g.height };
}


test('detailDrop: a copy agrees with its source at one registration; bands moved along themselves agree as well 2 px off', async () => {
  const p = resolveParams({});
  const copy = await jpegRoundTrip(((g) => (translate(g, 30, 40, 64, 181, 117), g))(field('peak-copy')), 85);
  const a: Affine = [1, 0, 181, 0, 1, 117];
  const v = verifyCopy(copy, seeds(a, 30, 40, 64), p);
  assert.ok(v.support > 0.8 && v.detail > 0.5, `the re-encoded copy verifies (support ${v.support}, detail ${v.detail})`);
  const copyDrop = detailDrop(copy, imageWindows(copy, p), v.source, a);
  assert.ok(copyDrop > 0.4, `copy: drop ${copyDrop}`);

  const look = bands('peak-bands');
  const b: Affine = [1, 0, 150, 0, 1, 0];
  const u = verifyCopy(look, seeds(b, 40, 60, 64), p);
  assert.ok(u.support > 0.8 && u.detail > 0.5, `the bands pass ZNCC and detail (support ${u.support}, detail ${u.detail}): the drop is what tells them apart`);
  const bandDrop = detailDrop(look, imageWindows(look, p), u.source, b);
  assert.ok(Math.abs(bandDrop) < 0.05, `bands: drop ${bandDrop}`);
});

test('detection: a JPEG re-encoded translated copy is found as one event; look-alike lanes give nothing, rejected as not peaked', async () => {
  // at the working size (no upscaling), with the faint pixel noise JPEG keeps: re-encoded noisier copies fall below the gate's ZNCC
  const g = field('peak-detect', 512, 384, 2);
  translate(g, 24, 30, 72, 190, 120);
  const found = await detectCopyMove(rgb(await jpegRoundTrip(g, 85)));
  assert.equal(found.instances.count, 1, found.notes.join('; '));
  const m = found.instances.data;
  assert.ok(m[(30 + 36) * 512 + 24 + 36] === 1 && m[(150 + 36) * 512 + 214 + 36] === 1, 'the event holds the source and the copy');

  const lanes = await lookAlikeLanes();
  const unguarded = await detectCopyMove(lanes, { minDetailDrop: 0 });
  assert.ok(unguarded.instances.count > 0, 'without the drop the look-alike lanes pass as a copy: this test no longer shows what the drop adds');
  const look = await detectCopyMove(lanes);
  assert.equal(look.instances.count, 0, look.notes.join('; '));
  assert.ok(look.debug.candidates.some((c) => c.rejectedFor === 'detail not peaked' && Math.abs(c.affine[2]) > 200), 'the lanes were rejected as not peaked');
});

test('gate: a re-encoded copy verified below minEventScore passes from nearMinScore when its detail peaks; with the lower gate off it is dropped', async () => {
  // noisier than the test above: the JPEG noise takes the copy's mean ZNCC below 0.95
  const g = field('peak-gate', 512, 384, 4);
  translate(g, 40, 36, 80, 200, 150);
  const image = rgb(await jpegRoundTrip(g, 75));
  const found = await detectCopyMove(image);
  assert.equal(found.instances.count, 1, found.notes.join('; '));
  assert.ok(found.scores[0] < resolveParams({}).minEventScore, `the event scores ${found.scores[0]}: below minEventScore, so this test shows the lower gate`);
  const near = found.debug.candidates.find((c) => c.accepted && c.stage === 'near');
  assert.ok(near && near.detailDrop! >= resolveParams({}).nearMinDrop, 'the near-block copy peaks at its transform');
  const m = found.instances.data;
  assert.ok(m[(36 + 40) * 512 + 40 + 40] === 1 && m[(186 + 40) * 512 + 240 + 40] === 1, 'the event holds the source and the copy');

  // (dense matching proposes the copy too: its own lower gate off as well, and the keypoint one)
  const strict = await detectCopyMove(image, { nearMinScore: 0.95, denseMinScore: 0.95, keypointMinScore: 0.95 });
  assert.equal(strict.instances.count, 0, strict.notes.join('; '));
  assert.ok(strict.notes.some((n) => n.includes('below minEventScore')), strict.notes.join('; '));
});

test('registerByDetail: a translation proposed 2 px and 1 px off moves to the copy, where its detail peaks; bands stay unpeaked', async () => {
  const p = resolveParams({});
  const copy = await jpegRoundTrip(((g) => (translate(g, 30, 40, 64, 181, 117), g))(field('register-copy')), 85);
  const windows = imageWindows(copy, p);
  const pixels: number[] = [];
  for (let y = 44; y < 100; y++) for (let x = 34; x < 90; x++) pixels.push(y * W + x);
  const off: Affine = [1, 0, 183, 0, 1, 116];
  const before = detailDropAt(copy, windows, pixels, off);
  assert.ok(before < p.minDetailDrop, `proposed off the copy, the detail does not peak at the transform (drop ${before})`);
  const at = registerByDetail(copy, windows, pixels, off, 3);
  assert.deepEqual(at, [1, 0, 181, 0, 1, 117]);
  assert.ok(detailDropAt(copy, windows, pixels, at) > 0.4, 'registered, it peaks');
  assert.equal(registerByDetail(copy, windows, pixels, off, 1)[2], 182, 'at most maxShift each way');

  const look = bands('register-bands');
  const lookWindows = imageWindows(look, p);
  const band: Affine = [1, 0, 150, 0, 1, 0];
  const moved = registerByDetail(look, lookWindows, pixels, band, 3);
  assert.ok(Math.abs(detailDropAt(look, lookWindows, pixels, moved)) < 0.05, 'bands moved along themselves still do not peak');
});

/** A near-block proposal: the translation (dx, dy), its inliers on an 8 px grid over the s x s square at (x, y). */
function nearProposal(x: number, y: number, s: number, dx: number, dy: number): CopyTransform {
  const src: number[] = [];
  const dst: number[] = [];
  for (let v = y + 4; v < y + s; v += 8) for (let u = x + 4; u < x + s; u += 8) src.push(u, v), dst.push(u + dx, v + dy);
  return { affine: [1, 0, dx, 0, 1, dy], src: Float32Array.from(src), dst: Float32Array.from(dst), inliers: src.length / 2, cluster: -1, flipped: false, stage: 'near', peakFirst: true };
}

test('near-block peak: a copy rescaled by 1.15, proposed as a translation at its centre, peaks once refined from the scale seeds; bands do not', () => {
  const p = resolveParams({});
  const g = field('rescaled-peak', 512, 384, 3);
  // a disc of radius 48 about (88, 88), rescaled by 1.15 (bilinear) about its centre, which lands on (348, 268)
  pasteInterpolated(g, [1.15, 0, 348 - 1.15 * 88, 0, 1.15, 268 - 1.15 * 88], 88, 88, 48);
  // the near-block stage matches blocks about the copy's centre only: inliers over the middle 48 px
  const proposed = nearProposal(64, 64, 48, 260, 180);
  const context = (img: GrayImage, q: typeof p) => mapContext({ gray: img, p: q, minArea: 0 }, imageWindows(img, q));
  const off = SHARED_MAPS.peak(context(g, { ...p, nearRescale: false }), proposed);
  assert.ok(off.drop < p.minDetailDrop, `as a translation the detail does not peak (drop ${off.drop.toFixed(3)})`);
  const on = SHARED_MAPS.peak(context(g, p), proposed);
  assert.ok(on.drop >= p.minDetailDrop, `refined from the scale seeds it peaks (drop ${on.drop.toFixed(3)})`);
  const [a, b, tx, c, d, ty] = on.t.affine;
  assert.ok(Math.abs(a - 1.15) < 0.02 && Math.abs(d - 1.15) < 0.02 && Math.abs(b) < 0.02 && Math.abs(c) < 0.02, `the scale is the copy's: ${on.t.affine.map((v) => v.toFixed(3))}`);
  // the source's centre (88, 88) lands on the copy's (348, 268)
  assert.ok(Math.hypot(a * 88 + b * 88 + tx - 348, c * 88 + d * 88 + ty - 268) < 1, 'and it maps the source centre onto the copy centre');

  const look = bands('rescaled-bands');
  const band = SHARED_MAPS.peak(context(look, p), nearProposal(64, 64, 48, 150, 0));
  assert.ok(band.drop < p.minDetailDrop, `bands moved along themselves do not peak at any scale (drop ${band.drop.toFixed(3)})`);
});
