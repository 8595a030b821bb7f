import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/lib/util/random';
import { boxBlurRgb, Canvas, fillNormal, fractalNoise, valueNoise } from '../src/lib/data/synth/canvas';
import { glyph, textSize } from '../src/lib/data/synth/font';
import { FAMILIES, renderFamily } from '../src/lib/data/synth/index';

/** Clamped-border box filter of radius r along rows then columns, written the slow obvious way. */
function naiveBoxBlur(src: Float32Array, w: number, h: number, r: number, ch: number): Float32Array {
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  const cl = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < ch; c++) {
        let acc = 0;
        for (let k = -r; k <= r; k++) acc += src[(y * w + cl(x + k, w)) * ch + c];
        tmp[(y * w + x) * ch + c] = acc / (2 * r + 1);
      }
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < ch; c++) {
        let acc = 0;
        for (let k = -r; k <= r; k++) acc += tmp[(cl(y + k, h) * w + x) * ch + c];
        out[(y * w + x) * ch + c] = acc / (2 * r + 1);
      }
  return out;
}

test('boxBlurRgb matches a naive clamped box filter (radius larger than the image too)', () => {
  const rng = new Rng(3);
  for (const [w, h, r, ch] of [
    [7, 5, 1, 3],
    [9, 4, 2, 1],
    [5, 6, 7, 3],
    [1, 8, 2, 3],
  ]) {
    const src = Float32Array.from({ length: w * h * ch }, () => rng.int(0, 255));
    const got = src.slice();
    boxBlurRgb(got, w, h, r, 1, ch);
    const want = naiveBoxBlur(src, w, h, r, ch);
    for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-3, `w=${w} h=${h} r=${r} ch=${ch} at ${i}: ${got[i]} vs ${want[i]}`);
  }
});

test('fillNormal has the requested mean and standard deviation, and is reproducible', () => {
  const a = fillNormal(new Rng(9), new Float32Array(200001), 3);
  let s = 0;
  let s2 = 0;
  for (const v of a) {
    s += v;
    s2 += v * v;
  }
  const mean = s / a.length;
  const std = Math.sqrt(s2 / a.length - mean * mean);
  assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(std - 3) < 0.03, `std ${std}`);
  assert.deepEqual(fillNormal(new Rng(9), new Float32Array(101), 3), fillNormal(new Rng(9), new Float32Array(101), 3));
});

test('value and fractal noise stay in [0, 1] and vary', () => {
  for (const f of [valueNoise(new Rng(1), 37, 23, 5), fractalNoise(new Rng(2), 64, 48, 16, 4)]) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of f) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    assert.ok(lo >= 0 && hi <= 1, `range [${lo}, ${hi}]`);
    assert.ok(hi - lo > 0.2, 'noise is not flat');
  }
});

test('bitmap text draws the glyph pixels exactly at integer scale', () => {
  const c = new Canvas(20, 10).fill([1, 1, 1]);
  c.text('1', 2, 1, 2, [0, 0, 0]);
  const g = glyph('1');
  for (let y = 0; y < 10; y++) {
    for (let x = 0; x < 20; x++) {
      const gx = Math.floor((x - 2) / 2);
      const gy = Math.floor((y - 1) / 2);
      const on = gx >= 0 && gx < 5 && gy >= 0 && gy < 7 && g[gy * 5 + gx] === 1;
      assert.equal(c.data[(y * 20 + x) * 3], on ? 0 : 1, `pixel (${x},${y})`);
    }
  }
  assert.deepEqual(textSize('AB', 3), { width: 33, height: 21 });
  assert.deepEqual(glyph('a'), glyph('A'));
});

test('every family renders in range at small and odd sizes, and differs from a blank canvas', () => {
  for (const family of FAMILIES) {
    for (const [w, h] of [
      [32, 32],
      [97, 41],
      [160, 230],
    ]) {
      const img = renderFamily(new Rng(`${family}${w}`), family, w, h).toImage();
      assert.equal(img.data.length, w * h * 3);
      let lo = 255;
      let hi = 0;
      for (const v of img.data) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      assert.ok(hi - lo >= 20, `${family} ${w}x${h} is nearly flat (${lo}..${hi})`);
    }
  }
});

test('Canvas.resized: identity at the same size, hand-worked bilinear values when upscaling', () => {
  const src = new Canvas(2, 1);
  src.data.set([0, 0, 0, 1, 0.5, 0.25]);
  const up = src.resized(4, 1);
  const red = [0, 3, 6, 9].map((i) => up.data[i]);
  assert.deepEqual(red, [0, 0.25, 0.75, 1]);
  assert.ok(Math.abs(up.data[4] - 0.125) < 1e-7, 'green of pixel 1');
  const rng = new Rng(4);
  const c = new Canvas(5, 3);
  for (let i = 0; i < c.data.length; i++) c.data[i] = rng.next();
  assert.deepEqual(c.resized(5, 3).data, c.data);
});
