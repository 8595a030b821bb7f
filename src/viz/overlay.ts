/** Mask overlays and image grids as PNG buffers (sharp composites); notebooks show them with display.png. */
import sharp from 'sharp';
import { DatasetError } from '../lib/errors';
import { readImage } from '../lib/data/image-io';
import { readMasks } from '../lib/data/npy';
import type { Image, Masks, Sample } from '../lib/data/types';
import { escapeHtml } from './html';

/** One colour per instance (Tableau 10), cycling past ten. */
export const INSTANCE_COLOURS: ReadonlyArray<readonly [number, number, number]> = [
  [228, 26, 28], [55, 126, 184], [77, 175, 74], [152, 78, 163], [255, 127, 0],
  [255, 221, 51], [166, 86, 40], [247, 129, 191], [0, 206, 209], [140, 140, 140],
];

export interface OverlayOptions {
  /** Fill opacity inside each instance, 0..1; default 0.45. Outlines are opaque. */
  alpha?: number;
  /** Downscale so the longer side is at most this many pixels (after compositing); default: no resize. */
  maxSize?: number;
}

function to8bitRgb(image: Image): Buffer {
  const { width, height, channels, data } = image;
  if (data.length !== width * height * channels) {
    throw new DatasetError(`image data has ${data.length} values, expected ${height}x${width}x${channels}`);
  }
  const out = Buffer.alloc(width * height * 3);
  const shift = data instanceof Uint16Array ? 8 : 0;
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) out[p * 3 + c] = data[p * channels + (channels >= 3 ? c : 0)] >> shift;
  }
  return out;
}

/**
 * The image with each instance filled in its own colour at `alpha` and outlined (pixels of the
 * instance with a 4-neighbour outside it), composited by sharp; returns PNG bytes.
 */
export async function overlayMasks(image: Image, masks: Masks, opts: OverlayOptions = {}): Promise<Buffer> {
  const { width: W, height: H } = image;
  if (masks.count > 0 && (masks.height !== H || masks.width !== W)) {
    throw new DatasetError(`masks are ${masks.height}x${masks.width} but the image is ${H}x${W}`);
  }
  const alpha = Math.round(255 * Math.min(1, Math.max(0, opts.alpha ?? 0.45)));
  const layer = Buffer.alloc(W * H * 4); // RGBA, transparent
  const plane = W * H;
  for (let n = 0; n < masks.count; n++) {
    const [r, g, b] = INSTANCE_COLOURS[n % INSTANCE_COLOURS.length];
    const m = masks.data.subarray(n * plane, (n + 1) * plane);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const p = y * W + x;
        if (!m[p]) continue;
        const edge = x === 0 || y === 0 || x === W - 1 || y === H - 1 || !m[p - 1] || !m[p + 1] || !m[p - W] || !m[p + W];
        layer[p * 4] = r;
        layer[p * 4 + 1] = g;
        layer[p * 4 + 2] = b;
        layer[p * 4 + 3] = edge ? 255 : Math.max(layer[p * 4 + 3], alpha);
      }
    }
  }
  // Composite at full size (outlines stay exact), then drop the alpha the composite adds, then resize.
  const composed = await sharp(to8bitRgb(image), { raw: { width: W, height: H, channels: 3 } })
    .composite([{ input: layer, raw: { width: W, height: H, channels: 4 } }])
    .raw()
    .toBuffer({ resolveWithObject: true });
  let out = sharp(composed.data, { raw: { width: W, height: H, channels: composed.info.channels as 3 | 4 } }).removeAlpha();
  if (opts.maxSize && Math.max(W, H) > opts.maxSize) out = out.resize(opts.maxSize, opts.maxSize, { fit: 'inside' });
  return out.png().toBuffer();
}

export interface GridItem {
  /** Encoded image (PNG/JPEG bytes, e.g. from overlayMasks) or an in-memory image. */
  image: Buffer | Image;
  caption?: string;
}

export interface GridOptions {
  cols?: number;
  /** Each cell is cellSize x cellSize; images are fitted inside, keeping their aspect. Default 256. */
  cellSize?: number;
  /** Pixels between cells; default 4. */
  gap?: number;
}

/** Images fitted into a grid of square cells on a dark background, captions below each; returns PNG bytes. */
export async function sampleGrid(items: readonly GridItem[], opts: GridOptions = {}): Promise<Buffer> {
  if (items.length === 0) throw new DatasetError('sampleGrid needs at least one image');
  const cols = Math.max(1, Math.min(opts.cols ?? 4, items.length));
  const cell = opts.cellSize ?? 256;
  const gap = opts.gap ?? 4;
  const captionH = items.some((i) => i.caption) ? 18 : 0;
  const rows = Math.ceil(items.length / cols);
  const width = cols * cell + (cols + 1) * gap;
  const height = rows * (cell + captionH) + (rows + 1) * gap;
  const layers: Array<{ input: Buffer; left: number; top: number }> = [];
  for (let i = 0; i < items.length; i++) {
    const { image, caption } = items[i];
    const input = Buffer.isBuffer(image)
      ? sharp(image)
      : sharp(to8bitRgb(image), { raw: { width: image.width, height: image.height, channels: 3 } });
    const fitted = await input.resize(cell, cell, { fit: 'inside' }).png().toBuffer({ resolveWithObject: true });
    const col = i % cols;
    const row = Math.floor(i / cols);
    const left = gap + col * (cell + gap) + Math.floor((cell - fitted.info.width) / 2);
    const top = gap + row * (cell + captionH + gap) + Math.floor((cell - fitted.info.height) / 2);
    layers.push({ input: fitted.data, left, top });
    if (caption) {
      const text = caption.length > 40 ? `${caption.slice(0, 39)}…` : caption;
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${cell}" height="${captionH}"><text x="${cell / 2}" y="${captionH - 5}" font-family="sans-serif" font-size="12" fill="#e0e0e0" text-anchor="middle">${escapeHtml(text)}</text></svg>`;
      layers.push({ input: Buffer.from(svg), left: gap + col * (cell + gap), top: gap + row * (cell + captionH + gap) + cell });
    }
  }
  return sharp({ create: { width, height, channels: 3, background: { r: 24, g: 24, b: 24 } } })
    .composite(layers)
    .png()
    .toBuffer();
}

/** A sample's image with its masks overlaid (no mask: the plain image), as PNG bytes. */
export async function overlaySample(sample: Sample, opts: OverlayOptions = {}): Promise<Buffer> {
  const image = await readImage(sample.imagePath);
  const masks: Masks = sample.maskPath
    ? readMasks(sample.maskPath, { height: image.height, width: image.width })
    : { data: new Uint8Array(0), count: 0, height: image.height, width: image.width };
  return overlayMasks(image, masks, opts);
}
