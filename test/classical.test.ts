import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { Image, Masks } from '../src/lib/data/types';
import { maskChannel } from '../src/lib/data/types';
import { glyph } from '../src/lib/data/synth/font';
import { ConfigError } from '../src/lib/errors';
import { Rng } from '../src/lib/util/random';
import { blobTexture } from './fixtures/texture';
import { createClassicalPredictor, detectCopyMove, resolveParams } from '../src/lib/classical/index';
import { ransacSimilarity } from '../src/lib/classical/similarity';
import { boxMean, close, convexHull, dilate, erode, fillConvexPolygon, fillHoles } from '../src/lib/classical/maskOps';
import { connectedComponents } from '../src/lib/data/components';
import { isTextLike } from '../src/lib/classical/textLabels';
import type { CopyMoveDetection } from '../src/lib/classical/detect';
import { masksFigure, matchesFigure } from '../src/viz/figures/matches';
import { maskIoU } from '../src/lib/infer/postprocess';

/** Blobby grey texture with pixel noise: something like a micrograph. */
function texture(w: number, h: number, rng: Rng): Float32Array {
  return blobTexture(w, h, rng, { base: 128, areaPerBlob: 500, maxRadius: 20, amplitude: 60, noise: 4 });
}

function toRgb(f: Float32Array, w: number, h: number): Image {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = Math.max(0, Math.min(255, Math.round(f[i])));
  return { data, width: w, height: h, channels: 3 };
}

/** Round trip through a real PNG file encoded and decoded by sharp. */
async function viaPng(img: Image): Promise<Image> {
  const png = await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } }).png().toBuffer();
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels };
}

function rectMask(w: number, h: number, x0: number, y0: number, rw: number, rh: number): Uint8Array {
  const m = new Uint8Array(w * h);
  for (let y = y0; y < y0 + rh; y++) for (let x = x0; x < x0 + rw; x++) m[y * w + x] = 1;
  return m;
}

const iou = maskIoU;

function union(...masks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(masks[0].length);
  for (const m of masks) for (let k = 0; k < m.length; k++) out[k] |= m[k];
  return out;
}

function bestIou(masks: Masks, truth: Uint8Array): number {
  let best = 0;
  for (let k = 0; k < masks.count; k++) best = Math.max(best, iou(maskChannel(masks, k), truth));
  return best;
}

test('an exact translated copy is found as one event (source and copy in one instance); events: regions gives them apart (IoU > 0.5)', async () => {
  const w = 384;
  const h = 320;
  const f = texture(w, h, new Rng('classical-translate'));
  const [sx, sy, dx, dy, s] = [40, 50, 210, 120, 90];
  for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) f[(sy + dy + y) * w + sx + dx + x] = f[(sy + y) * w + sx + x];
  const image = await viaPng(toRgb(f, w, h));
  const source = rectMask(w, h, sx, sy, s, s);
  const copy = rectMask(w, h, sx + dx, sy + dy, s, s);
  const r = await detectCopyMove(image);
  assert.equal(r.instances.count, 1, `expected one event, got ${r.instances.count} instance(s)`);
  assert.equal(r.instances.width, w);
  assert.equal(r.instances.height, h);
  assert.equal(r.scores.length, r.instances.count);
  const event = bestIou(r.instances, union(source, copy));
  assert.ok(event > 0.5, `event IoU ${event.toFixed(3)}`);
  const accepted = r.debug.candidates.filter((c) => c.accepted);
  assert.ok(accepted.some((c) => Math.abs(Math.abs(c.affine[2]) - dx) < 3 && Math.abs(Math.abs(c.affine[5]) - dy) < 3), 'the fitted shift is the copy shift');
  assert.ok(r.notes.some((n) => /upscaled/.test(n)), `notes: ${r.notes.join(' | ')}`);

  const regions = await detectCopyMove(image, { events: 'regions' });
  assert.ok(regions.instances.count >= 2, `expected source and copy, got ${regions.instances.count} instance(s)`);
  const src = bestIou(regions.instances, source);
  const dst = bestIou(regions.instances, copy);
  assert.ok(src > 0.5, `source IoU ${src.toFixed(3)}`);
  assert.ok(dst > 0.5, `copy IoU ${dst.toFixed(3)}`);
  assert.equal(r.instances.count, regions.instances.count / 2, 'events give one instance per pair of regions');
});

for (const [name, params] of [['ORB', {}], ['ORB + SIFT', { sift: true }], ['SIFT alone', { detector: 'sift' }]] as const) {
test(`regular blot lanes drawn independently with noise are not flagged (${name})`, async () => {
  const w = 480;
  const h = 260;
  const rng = new Rng('classical-lanes');
  const f = new Float32Array(w * h).fill(225);
  const lanes = 10;
  const rows = [50, 110, 170, 215];
  for (let l = 0; l < lanes; l++) {
    const cx = 30 + l * 45;
    for (const cy of rows) {
      // Same band recipe in every lane, each drawn on its own with its own jitter.
      const halfW = 16 + rng.uniform(-1.5, 1.5);
      const halfH = 5 + rng.uniform(-0.8, 0.8);
      const strength = rng.uniform(90, 160);
      for (let y = cy - 20; y < cy + 20; y++) {
        for (let x = Math.floor(cx - halfW * 1.4); x < cx + halfW * 1.4; x++) {
          const u = (x - cx) / halfW;
          const v = (y - cy) / halfH;
          f[y * w + x] -= (strength / (1 + u ** 8)) * Math.exp(-2 * v * v);
        }
      }
    }
  }
  for (let i = 0; i < f.length; i++) f[i] += rng.normal(0, 5);
  const image = await viaPng(toRgb(f, w, h));
  const r = await detectCopyMove(image, params);
  assert.equal(r.instances.count, 0, `flagged ${r.instances.count} region(s): ${JSON.stringify(r.debug.candidates.filter((c) => c.accepted))}`);
  assert.ok(r.debug.matches.ax.length > 0, 'the look-alike bands do produce descriptor matches (so verification is what rejects them)');
});
}

test('the predictor returns masks at the original size when the image is downscaled', async () => {
  const w = 1400;
  const h = 700;
  const f = texture(w, h, new Rng('classical-large'));
  for (let y = 0; y < 200; y++) for (let x = 0; x < 200; x++) f[(y + 400) * w + x + 1000] = f[(y + 100) * w + x + 150];
  const predictor = createClassicalPredictor();
  const pred = await predictor.predict(toRgb(f, w, h));
  predictor.dispose();
  assert.equal(pred.instances.width, w);
  assert.equal(pred.instances.height, h);
  assert.equal(pred.instances.count, 1, 'one event: source and copy');
  assert.ok(bestIou(pred.instances, union(rectMask(w, h, 1000, 400, 200, 200), rectMask(w, h, 150, 100, 200, 200))) > 0.5);
  await assert.rejects(predictor.predict(toRgb(f, w, h)), /after dispose/);
});

test('parameters: unknown names and bad values are rejected with the reason', () => {
  assert.throws(() => resolveParams({ minInlier: 5 } as never), (e: unknown) => e instanceof ConfigError && /did you mean 'minInliers'/.test(e.message));
  assert.throws(() => resolveParams({ detector: 'surf' as never }), /unknown detector 'surf'/);
  assert.equal(resolveParams({ detector: 'sift' }).detector, 'sift');
  assert.throws(() => resolveParams({ minInliers: 2 }), /at least 3/);
  assert.throws(() => resolveParams({ znccWindow: 6 }), /odd/);
  assert.equal(resolveParams({ minInliers: 9 }).minInliers, 9);
  assert.throws(() => resolveParams({ mergePairs: true } as never), /'mergePairs' was replaced by 'events'/);
  assert.throws(() => resolveParams({ events: 'region' as never }), /unknown events mode 'region'; did you mean 'regions'/);
  assert.throws(() => resolveParams({ maxEvents: 1.5 }), /maxEvents must be an integer >= 0/);
  assert.throws(() => resolveParams({ minEventScore: 2 }), /minEventScore must be in \[0, 1\]/);
  assert.throws(() => resolveParams({ minForgedShare: -0.1 }), /minForgedShare must be in \[0, 1\)/);
  assert.throws(() => resolveParams({ maxEventShare: 0 }), /maxEventShare must be in \(0, 1\]/);
  assert.throws(() => resolveParams({ hugeEventMinPeak: -0.1 }), /hugeEventMinPeak must lie in \[0, 2\]/);
  assert.throws(() => resolveParams({ exactRegionLowGrain: 1.5 }), /exactRegionLowGrain must lie in \[0, 1\]/);
  assert.throws(() => resolveParams({ exactRegionGrainPixels: -1 }), /exactRegionGrainPixels must be a count/);
  const d = resolveParams();
  assert.deepEqual([d.events, d.minEventScore, d.maxEvents, d.minForgedShare, d.maxEventShare], ['transform', 0.95, 0, 0, 0.25], 'the gate as tuned on the realistic tuning sets');
  assert.equal(d.minEventEntropy, 2.5);
  assert.throws(() => resolveParams({ minEventEntropy: 9 }), /minEventEntropy must be in \[0, 8\] bits/);
});

test('similarity RANSAC recovers a rotation+scale and a mirrored copy despite outliers', () => {
  const rng = new Rng('classical-ransac');
  for (const mirrored of [false, true]) {
    const theta = (30 * Math.PI) / 180;
    const s = 1.2;
    const [c, sn] = [s * Math.cos(theta), s * Math.sin(theta)];
    // proper: [c -sn tx; sn c ty]; mirrored: [c sn tx; sn -c ty]
    const a = mirrored ? [c, sn, 40, sn, -c, -15] : [c, -sn, 40, sn, c, -15];
    const src: number[] = [];
    const dst: number[] = [];
    for (let i = 0; i < 30; i++) {
      const x = rng.uniform(0, 200);
      const y = rng.uniform(0, 200);
      src.push(x, y);
      dst.push(a[0] * x + a[1] * y + a[2], a[3] * x + a[4] * y + a[5]);
    }
    for (let i = 0; i < 15; i++) {
      src.push(rng.uniform(0, 200), rng.uniform(0, 200));
      dst.push(rng.uniform(0, 200), rng.uniform(0, 200));
    }
    const fit = ransacSimilarity(src, dst, 1, 500);
    assert.ok(fit);
    assert.ok(fit.inliers >= 30 && fit.inliers <= 31, `inliers ${fit.inliers}`);
    for (let k = 0; k < 6; k++) assert.ok(Math.abs(fit.affine[k] - a[k]) < 1e-6, `mirrored=${mirrored} coefficient ${k}: ${fit.affine[k]} vs ${a[k]}`);
    assert.equal(fit.mask.slice(0, 30).reduce((p, v) => p + v, 0), 30);
  }
});

test('mask operations: holes, components, hull', () => {
  // 5x5 ring with a hole in the middle, plus a lone pixel in the corner.
  const ring = Uint8Array.from([
    1, 0, 0, 0, 0,
    0, 1, 1, 1, 0,
    0, 1, 0, 1, 0,
    0, 1, 1, 1, 0,
    0, 0, 0, 0, 0,
  ]);
  const filled = fillHoles(ring, 5, 5);
  assert.equal(filled[12], 1);
  assert.equal(filled[24], 0);
  // 8-connectivity joins the corner pixel to the ring diagonally.
  assert.equal(connectedComponents(ring, 5, 5).count, 1);
  const hull = convexHull([0, 0, 4, 0, 4, 4, 0, 4, 2, 2, 1, 3]);
  assert.equal(hull.length, 4);
  const poly = fillConvexPolygon(hull, 5, 5);
  assert.equal(poly.reduce((p, v) => p + v, 0), 25);
});

test('morphology and box means agree with their definitions (brute force) at every radius, border and density', () => {
  const rng = new Rng('morphology');
  for (let trial = 0; trial < 60; trial++) {
    const w = 1 + Math.floor(rng.next() * 23);
    const h = 1 + Math.floor(rng.next() * 23);
    const r = Math.floor(rng.next() * 5);
    const density = rng.next();
    const m = Uint8Array.from({ length: w * h }, () => (rng.next() < density ? 1 : 0));
    const values = Float32Array.from({ length: w * h }, () => Math.round(rng.next() * 255));
    const window = (x: number, y: number) => {
      const idx: number[] = [];
      for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) for (let xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++) idx.push(yy * w + xx);
      return idx;
    };
    const grown = dilate(m, w, h, r);
    const shrunk = erode(m, w, h, r);
    const mean = boxMean(values, w, h, r);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const idx = window(x, y);
        assert.equal(grown[y * w + x], idx.some((i) => m[i]) ? 1 : 0);
        assert.equal(shrunk[y * w + x], idx.every((i) => m[i]) ? 1 : 0);
        assert.ok(Math.abs(mean[y * w + x] - idx.reduce((s, i) => s + values[i], 0) / idx.length) < 1e-3);
      }
    }
    assert.deepEqual(close(m, w, h, r), erode(dilate(m, w, h, r), w, h, r));
  }
});

/** A w x h figure of paper (250) with `chars` in ink (10) at 3x the font's size, from (6, 8), 20 px apart. */
function label(chars: string, w: number, h: number): Uint8Array {
  const text = new Uint8Array(w * h).fill(250);
  chars.split('').forEach((ch, k) => {
    const g = glyph(ch);
    for (let y = 0; y < 7 * 3; y++) for (let x = 0; x < 5 * 3; x++) if (g[Math.floor(y / 3) * 5 + Math.floor(x / 3)]) text[(y + 8) * w + 6 + k * 20 + x] = 10;
  });
  return text;
}

test('text labels look like text; a blot band does not', () => {
  // A 600x300 figure; the matched region is an 80x40 box, 1.8% of it (labels are small).
  const w = 600;
  const h = 300;
  const box = new Uint8Array(w * h);
  for (let y = 0; y < 40; y++) for (let x = 0; x < 80; x++) box[y * w + x] = 1;
  const text = label('AB7', w, h);
  assert.equal(isTextLike({ data: text, width: w, height: h }, box), true);
  const band = new Uint8Array(w * h).fill(230);
  for (let y = 0; y < 40; y++) for (let x = 0; x < 80; x++) band[y * w + x] = Math.round(230 - (150 * Math.exp(-(((y - 20) / 6) ** 2))) / (1 + ((x - 40) / 30) ** 8));
  assert.equal(isTextLike({ data: band, width: w, height: h }, box), false);
  // The same letters filling most of the figure are not a label.
  const big = new Uint8Array(w * h).fill(1);
  assert.equal(isTextLike({ data: text, width: w, height: h }, big), false);
});

test('anti-aliased labels (strokes with grey rims) are text; a blot band is not', () => {
  const w = 600;
  const h = 300;
  // the region hugs the label, as a verified match of two equal labels does
  const box = new Uint8Array(w * h);
  for (let y = 5; y < 33; y++) for (let x = 3; x < 45; x++) box[y * w + x] = 1;
  const text = label('55', w, h);
  // a 3x3 box blur twice: every stroke gets a rim of intermediate greys, as a rendered and resized label has
  let blurred = text;
  for (let pass = 0; pass < 2; pass++) {
    const from = blurred;
    blurred = from.slice();
    for (let y = 1; y < 40; y++) {
      for (let x = 1; x < 60; x++) {
        let s = 0;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += from[(y + dy) * w + x + dx];
        blurred[y * w + x] = Math.round(s / 9);
      }
    }
  }
  let rim = 0;
  for (let y = 5; y < 33; y++) for (let x = 3; x < 45; x++) rim += blurred[y * w + x] > 58 && blurred[y * w + x] < 202 ? 1 : 0;
  assert.ok(rim / (28 * 42) > 0.15, `the rims are more than 15% of the region (${rim} px): ink and paper alone are not near-binary`);
  assert.equal(isTextLike({ data: text, width: w, height: h }, box), true);
  assert.equal(isTextLike({ data: blurred, width: w, height: h }, box), true);
  const band = new Uint8Array(w * h).fill(230);
  for (let y = 0; y < 40; y++) for (let x = 0; x < 80; x++) band[y * w + x] = Math.round(230 - 200 * Math.exp(-(((y - 20) / 4) ** 2)));
  assert.equal(isTextLike({ data: band, width: w, height: h }, box), false);
});

test('figures: a clustered match is drawn in its cluster colour; masks panel sits beside the truth', async () => {
  const w = 64;
  const h = 32;
  const image: Image = { data: new Uint8Array(w * h * 3).fill(128), width: w, height: h, channels: 3 };
  const f32 = (...v: number[]) => Float32Array.from(v);
  const detection: CopyMoveDetection = {
    instances: { data: new Uint8Array(0), count: 0, height: h, width: w },
    scores: [],
    notes: [],
    debug: {
      scale: 1,
      keypoints: { x: f32(10, 50), y: f32(10, 10), mirroredCount: 0 },
      matches: { ax: f32(10), ay: f32(10), bx: f32(50), by: f32(10), flipped: new Uint8Array(1), cluster: Int32Array.from([0]) },
      clusters: [{ size: 1 }],
      candidates: [],
      rejectedFits: [],
      timings: {},
    },
  };
  const png = await matchesFigure(image, detection, { keypoints: false });
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [w, h]);
  const at = (x: number, y: number): number[] => Array.from(new Uint8Array(data.subarray((y * w + x) * info.channels, (y * w + x) * info.channels + 3)));
  const mid = at(30, 10);
  assert.ok(mid[0] > 200 && mid[1] < 60, `line pixel ${mid}`);
  assert.deepEqual(at(30, 25), [128 * 0.6 + 255 * 0.4 * 0.5, 128 * 0.6 + 255 * 0.4 * 0.5, 128 * 0.6 + 255 * 0.4 * 0.5].map(Math.round));

  const masks: Masks = { data: rectMask(w, h, 4, 4, 10, 10), count: 1, height: h, width: w };
  const side = await sharp(await masksFigure(image, masks, masks)).metadata();
  assert.deepEqual([side.width, side.height], [2 * w + 8, h]);
});
