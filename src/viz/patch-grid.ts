/** Bappy et al.'s 64-patch tiling drawn on an image: the truth, the patches labelled manipulated, the grid. */
import sharp from 'sharp';
import { readImage } from '../lib/data/image-io';
import { readMasks } from '../lib/data/npy';
import type { Image, Masks, Sample } from '../lib/data/types';
import { PATCH_GRID, patchLabels } from '../lib/models/bappy/patches';
import { overlayMasks } from './overlay';

/**
 * Three overlay channels at size x size (overlay colours in this order: red, blue, green): the
 * patches whose IoU with the truth reaches 12.5%, the truth foreground (drawn over them), and the
 * 8x8 grid lines.
 */
export function patchGridMasks(truth: Uint8Array, size: number): Masks {
  const n = size * size;
  const data = new Uint8Array(3 * n);
  data.set(truth, n);
  const labels = patchLabels(truth, size, size);
  const side = size / PATCH_GRID;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const k = Math.floor(y / side) * PATCH_GRID + Math.floor(x / side);
      if (labels[k]) data[y * size + x] = 1;
      if (y % side === 0 || x % side === 0) data[2 * n + y * size + x] = 1;
    }
  }
  return { data, count: 3, height: size, width: size };
}

/** A sample resized to size x size (as the loader does) with its patch grid and labels; PNG bytes. */
export async function patchGridOverlay(sample: Sample, size: number): Promise<{ png: Buffer; manipulated: number }> {
  const image = await readImage(sample.imagePath);
  const { width, height } = image;
  const masks = sample.maskPath ? readMasks(sample.maskPath, { height, width }) : { data: new Uint8Array(0), count: 0, height, width };
  const union = new Uint8Array(width * height);
  for (let i = 0; i < masks.count; i++) for (let p = 0; p < union.length; p++) union[p] |= masks.data[i * union.length + p] * 255;
  const rgb = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), { raw: { width, height, channels: image.channels as 1 | 2 | 3 | 4 } })
    .resize(size, size, { fit: 'fill' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const mask = await sharp(Buffer.from(union), { raw: { width, height, channels: 1 } }).resize(size, size, { fit: 'fill', kernel: 'nearest' }).extractChannel(0).raw().toBuffer();
  const truth = Uint8Array.from(mask, (v) => (v >= 128 ? 1 : 0));
  const grid = patchGridMasks(truth, size);
  const resized: Image = { data: new Uint8Array(rgb.data), width: size, height: size, channels: rgb.info.channels };
  const labels = patchLabels(truth, size, size);
  return { png: await overlayMasks(resized, grid), manipulated: labels.reduce((a, b) => a + b, 0) };
}
