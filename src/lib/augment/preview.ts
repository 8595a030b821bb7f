import sharp from 'sharp';
import { escapeHtml } from '../../viz/html';
import type { Image, Masks } from '../data/types';

/** Distinct overlay colours, one per mask instance (cycled). */
export const INSTANCE_COLORS: readonly [number, number, number][] = [
  [255, 40, 40], [40, 200, 255], [255, 200, 0], [120, 255, 80], [230, 60, 255], [255, 130, 30],
];

/**
 * RGB uint8 copy of `image` with each mask instance blended in its colour (alpha) and its outline
 * drawn solid, so a drifted mask is visible at a glance. uint16 images are shown at 8 bits.
 */
export function overlayMasks(image: Image, masks: Masks, alpha = 0.45): Image {
  const { width: W, height: H, channels: C } = image;
  const scale = image.data instanceof Uint16Array ? 1 / 257 : 1;
  const out = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(image.data[i * C + (C >= 3 ? c : 0)] * scale);
  }
  const plane = W * H;
  for (let m = 0; m < masks.count; m++) {
    const [r, g, b] = INSTANCE_COLORS[m % INSTANCE_COLORS.length];
    const at = (x: number, y: number) => x >= 0 && y >= 0 && x < W && y < H && masks.data[m * plane + y * W + x] === 1;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        if (!at(x, y)) continue;
        const edge = !at(x - 1, y) || !at(x + 1, y) || !at(x, y - 1) || !at(x, y + 1);
        const a = edge ? 1 : alpha;
        const o = (y * W + x) * 3;
        out[o] = Math.round(out[o] * (1 - a) + r * a);
        out[o + 1] = Math.round(out[o + 1] * (1 - a) + g * a);
        out[o + 2] = Math.round(out[o + 2] * (1 - a) + b * a);
      }
    }
  }
  return { data: out, width: W, height: H, channels: 3 };
}

/** PNG bytes of an 8-bit image, optionally scaled to `width` pixels wide (nearest, to keep pixels crisp). */
export async function toPng(image: Image, width?: number): Promise<Buffer> {
  const data = image.data instanceof Uint16Array ? Uint8Array.from(image.data, (v) => Math.round(v / 257)) : image.data;
  let s = sharp(data, { raw: { width: image.width, height: image.height, channels: image.channels as 1 | 2 | 3 | 4 } });
  if (width && width !== image.width) s = s.resize({ width, kernel: 'nearest' });
  return s.png().toBuffer();
}

/** An HTML grid of PNG tiles with captions (for `display.html`); images are inlined as data URIs. */
export function gridHtml(tiles: readonly { png: Buffer; caption: string }[], columns = 4, tileWidth = 180): string {
  const cells = tiles.map(
    (t) =>
      `<figure style="margin:4px;text-align:center"><img src="data:image/png;base64,${t.png.toString('base64')}" ` +
      `style="width:${tileWidth}px;image-rendering:pixelated"/><figcaption style="font:12px sans-serif">${escapeHtml(t.caption)}</figcaption></figure>`,
  );
  return `<div style="display:grid;grid-template-columns:repeat(${columns}, ${tileWidth + 8}px)">${cells.join('')}</div>`;
}
