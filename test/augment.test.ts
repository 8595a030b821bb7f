import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { Rng } from '../src/lib/util/random';
import { ConfigError } from '../src/lib/errors';
import {
  brightnessContrast, brightnessContrastPair, denormalize, buildPipeline, buildStep, compose, cropPair, gamma, gammaPair,
  gaussianBlur, gaussianBlurPair, gaussianNoise, gaussianNoisePair, hflip, IMAGENET_MEAN, IMAGENET_STD, jpeg, jpegPair, normalizePair,
  oneOf, PRESET_NAMES, randomResizedCrop, resize, resizePair, rot90, rotate, rotate90By, rotateBy, vflip,
  type Pair, type Transform,
} from '../src/lib/augment';

/** An asymmetric 'F' marker (no flip or rotation maps it onto itself) in a W x H grid. */
function markerMask(W: number, H: number): Uint8Array {
  const m = new Uint8Array(W * H);
  const x0 = Math.floor(W * 0.2);
  const y0 = Math.floor(H * 0.15);
  const s = Math.max(2, Math.floor(Math.min(W, H) / 12)); // stroke width
  const tall = Math.floor(H * 0.6);
  const set = (x: number, y: number, w: number, h: number) => {
    for (let yy = y; yy < y + h; yy++) for (let xx = x; xx < x + w; xx++) m[yy * W + xx] = 1;
  };
  set(x0, y0, s, tall); // stem
  set(x0, y0, Math.floor(W * 0.45), s); // top bar
  set(x0, y0 + Math.floor(tall * 0.45), Math.floor(W * 0.3), s); // middle bar
  return m;
}

/** RGB image whose red channel is 255 exactly on the marker; green/blue carry an unrelated texture. */
function markedPair(W: number, H: number): Pair {
  const mask = markerMask(W, H);
  const data = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    data[i * 3] = mask[i] ? 255 : 0;
    data[i * 3 + 1] = (i * 37) % 256;
    data[i * 3 + 2] = ((i % W) * 5) % 256;
  }
  // a second instance: the complement, so several mask channels move together
  const second = mask.map((v) => 1 - v);
  const masks = new Uint8Array(2 * W * H);
  masks.set(mask, 0);
  masks.set(second, W * H);
  return { image: { data, width: W, height: H, channels: 3 }, masks: { data: masks, count: 2, height: H, width: W } };
}

/** Marker pixels read from the red channel (threshold at half range). */
function markerFromImage(p: { image: { data: ArrayLike<number>; width: number; height: number; channels: number } }, threshold = 127.5): Uint8Array {
  const { width: W, height: H, channels: C, data } = p.image;
  const out = new Uint8Array(W * H);
  for (let i = 0; i < W * H; i++) out[i] = data[i * C] > threshold ? 1 : 0;
  return out;
}

function firstMask(p: Pair): Uint8Array {
  return p.masks.data.subarray(0, p.masks.width * p.masks.height);
}

/** Pixels within `r` (Chebyshev) of a place where the mask changes value. */
function nearBoundary(mask: Uint8Array, W: number, H: number, r: number): Uint8Array {
  const edge = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = mask[y * W + x];
      if ((x + 1 < W && mask[y * W + x + 1] !== v) || (y + 1 < H && mask[(y + 1) * W + x] !== v)) {
        for (let dy = -r; dy <= r + 1; dy++) {
          for (let dx = -r; dx <= r + 1; dx++) {
            const yy = y + dy;
            const xx = x + dx;
            if (yy >= 0 && yy < H && xx >= 0 && xx < W) edge[yy * W + xx] = 1;
          }
        }
      }
    }
  }
  return edge;
}

function assertCoincide(p: Pair | { image: { data: ArrayLike<number>; width: number; height: number; channels: number }; masks: Pair['masks'] }, what: string, tolerance = 0, threshold = 127.5): void {
  const W = p.masks.width;
  const H = p.masks.height;
  assert.equal(p.image.width, W, `${what}: width`);
  assert.equal(p.image.height, H, `${what}: height`);
  const fromImage = markerFromImage(p, threshold);
  const mask = p.masks.data.subarray(0, W * H);
  const second = p.masks.data.subarray(W * H, 2 * W * H);
  let on = 0;
  for (let i = 0; i < W * H; i++) on += mask[i];
  assert.ok(on > 20, `${what}: marker vanished (${on} px)`);
  const edge = tolerance > 0 ? nearBoundary(mask, W, H, tolerance) : new Uint8Array(W * H);
  let bad = 0;
  let firstBad = -1;
  for (let i = 0; i < W * H; i++) {
    if (fromImage[i] !== mask[i] && !edge[i]) {
      bad++;
      if (firstBad < 0) firstBad = i;
    }
  }
  assert.equal(bad, 0, `${what}: ${bad} pixels differ, first at (${firstBad % W}, ${Math.floor(firstBad / W)})`);
}

test('hflip, vflip and rot90 move pixels exactly as numpy does', () => {
  // 3 wide x 2 high, one channel: [[1,2,3],[4,5,6]]
  const p: Pair = {
    image: { data: Uint8Array.from([1, 2, 3, 4, 5, 6]), width: 3, height: 2, channels: 1 },
    masks: { data: Uint8Array.from([1, 0, 0, 0, 0, 1]), count: 1, height: 2, width: 3 },
  };
  const rng = new Rng(1);
  const h = hflip().apply(p, rng) as Pair;
  assert.deepEqual([...h.image.data], [3, 2, 1, 6, 5, 4]);
  assert.deepEqual([...h.masks.data], [0, 0, 1, 1, 0, 0]);
  const v = vflip().apply(p, rng) as Pair;
  assert.deepEqual([...v.image.data], [4, 5, 6, 1, 2, 3]);
  // np.rot90([[1,2,3],[4,5,6]]) = [[3,6],[2,5],[1,4]]
  const r1 = rotate90By(p, 1);
  assert.equal(r1.image.width, 2);
  assert.equal(r1.image.height, 3);
  assert.deepEqual([...r1.image.data], [3, 6, 2, 5, 1, 4]);
  assert.deepEqual([...r1.masks.data], [0, 1, 0, 0, 1, 0]);
  assert.deepEqual([...rotate90By(p, 2).image.data], [6, 5, 4, 3, 2, 1]);
  // np.rot90(a, 3) = [[4,1],[5,2],[6,3]]
  assert.deepEqual([...rotate90By(p, 3).image.data], [4, 1, 5, 2, 6, 3]);
});

test('rotate by 90 degrees with nearest sampling equals rot90', () => {
  const p = markedPair(32, 32);
  for (const k of [1, 2, 3]) {
    const a = rotateBy(p, 90 * k, { interpolation: 'nearest' });
    const b = rotate90By(p, k);
    assert.deepEqual(a.image.data, b.image.data, `k=${k}`);
    assert.deepEqual(a.masks.data, b.masks.data, `k=${k}`);
  }
});

test('resize: area averages, bilinear interpolates, masks stay 0/1', () => {
  // 4x4 single channel 0..15 -> 2x2 area: means of 2x2 blocks
  const p: Pair = {
    image: { data: Uint8Array.from({ length: 16 }, (_, i) => i * 10), width: 4, height: 4, channels: 1 },
    masks: { data: Uint8Array.from({ length: 16 }, (_, i) => (i % 4 < 2 ? 1 : 0)), count: 1, height: 4, width: 4 },
  };
  const area = resizePair(p, 2, 2, 'area');
  assert.deepEqual([...area.image.data], [25, 45, 105, 125]);
  assert.deepEqual([...area.masks.data], [1, 0, 1, 0]);
  // 2x1 [0, 100] -> 4x1 bilinear, half-pixel centres: 0, 25, 75, 100
  const q: Pair = {
    image: { data: Uint8Array.from([0, 100]), width: 2, height: 1, channels: 1 },
    masks: { data: Uint8Array.from([0, 1]), count: 1, height: 1, width: 2 },
  };
  const up = resizePair(q, 1, 4, 'bilinear');
  assert.deepEqual([...up.image.data], [0, 25, 75, 100]);
  assert.deepEqual([...up.masks.data], [0, 0, 1, 1]);
  const crop = cropPair(p, 1, 2, 2, 1);
  assert.deepEqual([...crop.image.data], [90, 100]);
  assert.throws(() => cropPair(p, 3, 0, 2, 2), ConfigError);
});

test('geometric transforms keep an asymmetric marker on its mask, pixel for pixel', async () => {
  const exact: [string, Transform][] = [
    ['hflip', hflip()],
    ['vflip', vflip()],
    ['rot90', rot90()],
    ['rotate nearest constant', rotate({ degrees: [-180, 180], interpolation: 'nearest', border: 'constant' })],
    ['rotate nearest reflect', rotate({ degrees: [-180, 180], interpolation: 'nearest', border: 'reflect' })],
    ['rotate nearest replicate', rotate({ degrees: [-45, 45], interpolation: 'nearest', border: 'replicate' })],
    ['resize nearest', resize({ size: [50, 70], interpolation: 'nearest' })],
    ['randomResizedCrop nearest', randomResizedCrop({ size: 48, scale: [0.5, 1], interpolation: 'nearest' })],
  ];
  // With interpolating image samplers, image and mask may disagree only where the marker's edge
  // falls between pixels: within 1 pixel of the mask boundary.
  const smooth: [string, Transform][] = [
    ['rotate bilinear', rotate({ degrees: [-180, 180], border: 'reflect' })],
    ['resize bilinear up', resize({ size: [97, 131], interpolation: 'bilinear' })],
    ['resize area down', resize({ size: [31, 41], interpolation: 'area' })],
    ['randomResizedCrop bilinear', randomResizedCrop({ size: 64, scale: [0.4, 1] })],
  ];
  for (let seed = 0; seed < 6; seed++) {
    const p = markedPair(60, 44); // not square: rot90 must swap the sides
    for (const [name, t] of exact) assertCoincide(await t.apply(p, new Rng(seed)), `${name} seed ${seed}`);
    for (const [name, t] of smooth) assertCoincide(await t.apply(p, new Rng(seed)), `${name} seed ${seed}`, 1);
  }
  // the checker itself fails when the mask is mirrored relative to the image
  const p = markedPair(60, 44);
  const wrong = { image: p.image, masks: (hflip().apply(p, new Rng(0)) as Pair).masks };
  assert.throws(() => assertCoincide(wrong, 'mirrored'), /pixels differ/);
});

test('every preset keeps the marker on the mask (photometric steps may only blur its edge)', async () => {
  const size = 128;
  for (const name of PRESET_NAMES) {
    const pipeline = buildPipeline(name, size);
    for (let seed = 0; seed < 8; seed++) {
      const out = await pipeline.run(markedPair(150, 110), new Rng(seed));
      assert.equal(out.image.data.constructor, Float32Array);
      // undo ImageNet normalization of the red channel: threshold where v/255 = 0.5
      const t = (0.5 - IMAGENET_MEAN[0]) / IMAGENET_STD[0];
      assertCoincide(out, `${name} seed ${seed}`, 2, t);
    }
  }
});

test('photometric transforms never touch masks', async () => {
  const p = markedPair(40, 30);
  const before = Uint8Array.from(p.masks.data);
  const photometric: Transform[] = [
    gaussianBlur(), brightnessContrast({ brightness: 0.5, contrast: 0.5 }), gamma({ gamma: [0.5, 2] }),
    gaussianNoise({ std: 0.1 }), jpeg({ quality: [10, 30] }),
  ];
  for (const t of photometric) {
    assert.equal(t.kind, 'photometric');
    const out = await t.apply(p, new Rng(3));
    assert.equal(out.masks, p.masks, `${t.name} returned other masks`);
    assert.notDeepEqual(out.image.data, p.image.data, `${t.name} left the image unchanged`);
    assert.equal(out.image.data.constructor, Uint8Array, `${t.name} changed the dtype`);
  }
  assert.deepEqual(p.masks.data, before);
});

test('photometric values: blur keeps flat images, brightness/contrast and gamma by hand', () => {
  const flat: Pair = {
    image: { data: new Uint8Array(10 * 8 * 3).fill(77), width: 10, height: 8, channels: 3 },
    masks: { data: new Uint8Array(80), count: 1, height: 8, width: 10 },
  };
  assert.ok(gaussianBlurPair(flat, 2).image.data.every((v) => v === 77));
  const px: Pair = {
    image: { data: Uint8Array.from([0, 100, 200, 255]), width: 4, height: 1, channels: 1 },
    masks: { data: new Uint8Array(0), count: 0, height: 1, width: 4 },
  };
  // 1.5 * v + 0.1 * 255 = [25.5, 175.5, 325.5, 408] -> rounded and clamped
  assert.deepEqual([...brightnessContrastPair(px, 1.5, 0.1).image.data], [26, 176, 255, 255]);
  // 255 * (v/255)^2: 100 -> 39.2, 200 -> 156.9
  assert.deepEqual([...gammaPair(px, 2).image.data], [0, 39, 157, 255]);
  // a single bright pixel spreads symmetrically
  const dot: Pair = {
    image: { data: Uint8Array.from([0, 0, 0, 0, 200, 0, 0, 0, 0]), width: 9, height: 1, channels: 1 },
    masks: { data: new Uint8Array(0), count: 0, height: 1, width: 9 },
  };
  const b = gaussianBlurPair(dot, 1).image.data;
  assert.equal(b[3], b[5]);
  assert.ok(b[4] < 200 && b[4] > b[3] && b[3] > b[2]);
});

test('JPEG output decodes and differs from its input; uint16 stays uint16', async () => {
  const p = markedPair(64, 48);
  const out = await jpegPair(p, 40);
  assert.equal(out.image.data.length, p.image.data.length);
  let diff = 0;
  for (let i = 0; i < out.image.data.length; i++) diff += Math.abs(out.image.data[i] - p.image.data[i]);
  assert.ok(diff > 1000, `JPEG at quality 40 changed only ${diff} in total`);
  // it is a real JPEG round trip: sharp reads what we would have written
  const enc = await sharp(p.image.data as Uint8Array, { raw: { width: 64, height: 48, channels: 3 } }).jpeg({ quality: 40 }).toBuffer();
  const meta = await sharp(enc).metadata();
  assert.equal(meta.format, 'jpeg');
  const wide: Pair = { image: { ...p.image, data: Uint16Array.from(p.image.data, (v) => v * 257) }, masks: p.masks };
  const w = await jpegPair(wide, 90);
  assert.equal(w.image.data.constructor, Uint16Array);
  assert.ok(Math.abs(w.image.data[0] - wide.image.data[0]) < 257 * 30);
  const four: Pair = { image: { data: new Uint8Array(4 * 4 * 4), width: 4, height: 4, channels: 4 }, masks: { data: new Uint8Array(0), count: 0, height: 4, width: 4 } };
  await assert.rejects(jpegPair(four, 50), /1 or 3 channels/);
});

test('normalize is the one step to Float32: imagenet, per-image and unit by hand', () => {
  const p: Pair = {
    image: { data: Uint8Array.from([255, 0, 51, 0, 255, 102]), width: 2, height: 1, channels: 3 },
    masks: { data: Uint8Array.from([1, 0]), count: 1, height: 1, width: 2 },
  };
  const n = normalizePair(p, 'imagenet');
  assert.ok(n.image.data instanceof Float32Array);
  assert.ok(Math.abs(n.image.data[0] - (1 - 0.485) / 0.229) < 1e-5);
  assert.ok(Math.abs(n.image.data[2] - (0.2 - 0.406) / 0.225) < 1e-5);
  assert.equal(n.masks, p.masks);
  const u = normalizePair(p, 'unit');
  assert.ok(Math.abs(u.image.data[5] - 0.4) < 1e-6);
  const per = normalizePair(p, 'per-image');
  // channel 0 is [1, 0] -> mean 0.5, std 0.5 -> [1, -1]
  assert.ok(Math.abs(per.image.data[0] - 1) < 1e-4 && Math.abs(per.image.data[3] + 1) < 1e-4);
  // denormalize is the exact inverse for display
  assert.deepEqual(denormalize(n.image, 'imagenet').data, p.image.data);
  assert.deepEqual(denormalize(u.image, 'unit').data, p.image.data);
  const grey: Pair = { image: { data: new Uint8Array(2), width: 2, height: 1, channels: 1 }, masks: p.masks };
  assert.throws(() => normalizePair(grey, 'imagenet'), /3 channels/);
});

test('compose: per-step probability, oneOf, same seed same bytes', async () => {
  const p = markedPair(30, 20);
  let fired = 0;
  const counter: Transform = { name: 'count', kind: 'photometric', apply: (x) => { fired++; return x; } };
  const c = compose([{ transform: counter, p: 0.3 }, { transform: counter, p: 0 }]);
  for (let s = 0; s < 400; s++) await c.apply(p, new Rng(s));
  assert.ok(fired > 80 && fired < 160, `p=0.3 fired ${fired}/400`);
  const seen = new Set<string>();
  const tag = (k: string): Transform => ({ name: k, kind: 'photometric', apply: (x) => { seen.add(k); return x; } });
  const one = oneOf([tag('a'), tag('b'), tag('c')], [1, 1, 0]);
  for (let s = 0; s < 50; s++) await one.apply(p, new Rng(s));
  assert.deepEqual([...seen].sort(), ['a', 'b']);
  const pipe = buildPipeline('seed-b', 64);
  const a = await pipe.run(p, new Rng(42));
  const b = await pipe.run(p, new Rng(42));
  const d = await pipe.run(p, new Rng(43));
  assert.deepEqual(a.image.data, b.image.data);
  assert.notDeepEqual(a.image.data, d.image.data);
  assert.deepEqual([a.image.height, a.image.width], [64, 64]);
});

test('bad specs fail with the reason and a suggestion', () => {
  assert.throws(() => buildStep({ op: 'hflp' }), /unknown transform 'hflp': did you mean 'hflip'/);
  assert.throws(() => buildStep({ op: 'rotate', degrees: [10, -10] }), /rotate.degrees/);
  assert.throws(() => buildStep({ op: 'hflip', p: 2 }), /probability/);
  assert.throws(() => buildStep({ op: 'rotate', border: 'wrap' }), /rotate.border/);
  assert.throws(() => buildStep({ op: 'rotate', interpolation: 'cubic' }), /rotate.interpolation/);
  assert.throws(() => buildStep({ op: 'rot90', ks: [] }), /rot90.ks/);
  assert.throws(() => buildStep({ op: 'resize', size: 0 }), /size must be positive/);
  assert.throws(() => buildStep({ op: 'jpeg', quality: [0, 50] }), /jpeg.quality/);
  assert.throws(() => buildPipeline('seed-c', 64), /did you mean 'seed-a' or 'seed-b'/);
  const bad: Pair = { image: { data: new Uint8Array(12), width: 2, height: 2, channels: 3 }, masks: { data: new Uint8Array(6), count: 1, height: 2, width: 3 } };
  assert.throws(() => hflip().apply(bad, new Rng(0)), /masks are 2x3 but the image is 2x2/);
});

/**
 * The plain per-pixel loops the fast transforms replaced, kept as references: the fast paths
 * (direct reads, Float32 accumulators in locals, interior fast paths, inlined sfc32) must give
 * the same bytes.
 */
const reference = {
  /** Separable filter: f32 row pass then f32 column pass, taps in order. */
  separable(src: ArrayLike<number>, W: number, H: number, C: number, xt: [number, number][][], yt: [number, number][][], max: number, out: Uint8Array | Uint16Array) {
    const outW = xt.length;
    const tmp = new Float32Array(H * outW * C);
    for (let y = 0; y < H; y++) for (let x = 0; x < outW; x++) for (const [i, w] of xt[x]) for (let k = 0; k < C; k++) tmp[(y * outW + x) * C + k] += w * src[(y * W + i) * C + k];
    const acc = new Float32Array(outW * C);
    yt.forEach((taps, y) => {
      acc.fill(0);
      for (const [i, w] of taps) for (let j = 0; j < acc.length; j++) acc[j] += w * tmp[i * outW * C + j];
      for (let j = 0; j < acc.length; j++) out[y * outW * C + j] = Math.min(max, Math.max(0, Math.round(acc[j])));
    });
    return out;
  },
  areaTaps(inLen: number, outLen: number): [number, number][][] {
    const scale = inLen / outLen;
    return Array.from({ length: outLen }, (_, i) => {
      if (scale <= 1) {
        const src = Math.max(0, (i + 0.5) * scale - 0.5);
        const s0 = Math.min(Math.floor(src), inLen - 1);
        return [[s0, Math.fround(1 - (src - s0))], [Math.min(s0 + 1, inLen - 1), Math.fround(src - s0)]] as [number, number][];
      }
      const lo = i * scale;
      const hi = Math.min((i + 1) * scale, inLen);
      const taps: [number, number][] = [];
      for (let s = Math.floor(lo); s < hi; s++) {
        const cover = Math.min(s + 1, hi) - Math.max(s, lo);
        if (cover > 1e-9) taps.push([s, Math.fround(cover / (hi - lo))]);
      }
      return taps;
    });
  },
  blurTaps(sigma: number, n: number): [number, number][][] {
    const r = Math.max(1, Math.ceil(3 * sigma));
    const k = new Float32Array(2 * r + 1);
    let sum = 0;
    for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
    for (let i = 0; i < k.length; i++) k[i] /= sum;
    const refl = (i: number) => {
      if (n === 1) return 0;
      const p = 2 * n - 2;
      const j = ((i % p) + p) % p;
      return j >= n ? p - j : j;
    };
    return Array.from({ length: n }, (_, x) => Array.from(k, (w, t) => [refl(x + t - r), w] as [number, number]));
  },
  noise(src: Uint8Array, std: number, rng: Rng): Uint8Array {
    const out = new Uint8Array(src.length);
    for (let i = 0; i < out.length; i += 2) {
      let u = rng.next();
      while (u === 0) u = rng.next();
      const rad = std * 255 * Math.sqrt(-2 * Math.log(u));
      const th = 2 * Math.PI * rng.next();
      out[i] = Math.min(255, Math.max(0, Math.round(src[i] + rad * Math.cos(th))));
      if (i + 1 < out.length) out[i + 1] = Math.min(255, Math.max(0, Math.round(src[i + 1] + rad * Math.sin(th))));
    }
    return out;
  },
  /** Bilinear rotation about the centre with reflect-101 borders. */
  rotate(src: Uint8Array, W: number, H: number, C: number, degrees: number): Uint8Array {
    const t = (degrees * Math.PI) / 180;
    const [cos, sin, cx, cy] = [Math.cos(t), Math.sin(t), W / 2, H / 2];
    const [a, b, c, d, e, f] = [cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy];
    const bi = (i: number, n: number) => { if (i >= 0 && i < n) return i; if (n === 1) return 0; const p = 2 * n - 2; let j = ((i % p) + p) % p; if (j >= n) j = p - j; return j; };
    const out = new Uint8Array(W * H * C);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const sx = a * (x + 0.5) + b * (y + 0.5) + c - 0.5;
        const sy = d * (x + 0.5) + e * (y + 0.5) + f - 0.5;
        const [x0, y0] = [Math.floor(sx), Math.floor(sy)];
        const [fx, fy] = [sx - x0, sy - y0];
        const [xa, xb, ya, yb] = [bi(x0, W), bi(x0 + 1, W), bi(y0, H), bi(y0 + 1, H)];
        for (let k = 0; k < C; k++) {
          const [p00, p01, p10, p11] = [src[(ya * W + xa) * C + k], src[(ya * W + xb) * C + k], src[(yb * W + xa) * C + k], src[(yb * W + xb) * C + k]];
          const top = p00 + (p01 - p00) * fx;
          const bottom = p10 + (p11 - p10) * fx;
          out[(y * W + x) * C + k] = Math.round(top + (bottom - top) * fy);
        }
      }
    }
    return out;
  },
};

test('fast transforms give the same bytes as the plain per-pixel loops', () => {
  const rng = new Rng('reference');
  for (const [W, H, C] of [[1, 1, 3], [2, 5, 1], [7, 3, 3], [61, 43, 3], [100, 75, 3], [33, 47, 4]]) {
    const data = Uint8Array.from({ length: W * H * C }, () => (rng.bool(0.05) ? 255 * rng.int(0, 1) : rng.int(0, 255)));
    const p: Pair = { image: { data, width: W, height: H, channels: C }, masks: { data: new Uint8Array(0), count: 0, height: H, width: W } };
    for (const [h, w] of [[1, 1], [3, 2], [32, 24], [97, 131]]) {
      const want = reference.separable(data, W, H, C, reference.areaTaps(W, w), reference.areaTaps(H, h), 255, new Uint8Array(h * w * C));
      assert.deepEqual(resizePair(p, h, w, 'area').image.data, W === w && H === h ? data : want, `resize ${W}x${H}x${C} -> ${w}x${h}`);
    }
    for (const sigma of [0.4, 1.2, 2.5]) {
      const want = reference.separable(data, W, H, C, reference.blurTaps(sigma, W), reference.blurTaps(sigma, H), 255, new Uint8Array(W * H * C));
      assert.deepEqual(gaussianBlurPair(p, sigma).image.data, want, `blur ${W}x${H}x${C} sigma ${sigma}`);
    }
    const [r1, r2] = [new Rng(W * H), new Rng(W * H)];
    assert.deepEqual(gaussianNoisePair(p, 0.03, r1).image.data, reference.noise(data, 0.03, r2), `noise ${W}x${H}x${C}`);
    assert.equal(r1.next(), r2.next(), 'noise leaves the Rng where next() would');
    for (const deg of [7, -23.5, 90, 181]) {
      assert.deepEqual(rotateBy(p, deg, { border: 'reflect' }).image.data, reference.rotate(data, W, H, C, deg), `rotate ${W}x${H}x${C} ${deg}`);
    }
  }
});
