import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { denormalize, gridHtml, INSTANCE_COLORS, normalizePair, overlayMasks, toPng } from '../src/lib/augment';

test('overlay colours mask pixels, draws solid outlines and leaves the rest alone', () => {
  const W = 6;
  const H = 5;
  const image = { data: new Uint8Array(W * H * 3).fill(100), width: W, height: H, channels: 3 };
  const mask = new Uint8Array(W * H);
  for (let y = 1; y < 4; y++) for (let x = 1; x < 4; x++) mask[y * W + x] = 1; // 3x3 square, centre (2, 2)
  const out = overlayMasks(image, { data: mask, count: 1, height: H, width: W }, 0.5);
  const [r, g, b] = INSTANCE_COLORS[0];
  const px = (x: number, y: number) => [...out.data.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)];
  assert.deepEqual(px(1, 1), [r, g, b]); // outline: solid colour
  assert.deepEqual(px(2, 2), [Math.round(50 + r / 2), Math.round(50 + g / 2), Math.round(50 + b / 2)]); // interior: blended
  assert.deepEqual(px(5, 4), [100, 100, 100]); // outside: untouched
});

test('denormalize inverts imagenet normalization; toPng and gridHtml produce real images', async () => {
  const data = Uint8Array.from({ length: 4 * 3 * 3 }, (_, i) => (i * 29) % 256);
  const pair = { image: { data, width: 4, height: 3, channels: 3 }, masks: { data: new Uint8Array(0), count: 0, height: 3, width: 4 } };
  const back = denormalize(normalizePair(pair, 'imagenet').image, 'imagenet');
  assert.deepEqual(back.data, data);
  const png = await toPng(back, 8);
  const meta = await sharp(png).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 8, 6]);
  const html = gridHtml([{ png, caption: 'a <b>' }], 2, 50);
  assert.ok(html.includes(`data:image/png;base64,${png.toString('base64')}`));
  assert.ok(html.includes('a &lt;b&gt;'));
});
