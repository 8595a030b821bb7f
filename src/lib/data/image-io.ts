import * as fs from 'fs';
import sharp from 'sharp';
import { DatasetError } from '../errors';
import { writeFileAtomic } from '../util/atomic';
import type { Image } from './types';

/** File extensions treated as images; sharp decodes all of them. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.webp'] as const;

export function isImageFile(file: string): boolean {
  const lower = file.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/** What an image header says, without decoding pixels. */
export interface ImageInfo {
  /** Width and height as displayed, i.e. after EXIF orientation. */
  width: number;
  height: number;
  /** Channels stored in the file (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA; palette images report 3 or 4). */
  channels: number;
  /** Bits per sample: 8 or 16 (palette images: the palette's 8). */
  bitDepth: number;
  /** 'png', 'jpeg', 'tiff', 'webp', ... */
  format: string;
  palette: boolean;
  /** EXIF orientation tag, 1 (none) to 8. */
  orientation: number;
}

const BIT_DEPTHS: Record<string, number> = { uchar: 8, char: 8, ushort: 16, short: 16, uint: 32, int: 32, float: 32, double: 64 };

function decodeError(err: unknown, file: string): DatasetError {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return new DatasetError('image file not found', file);
  const msg = (e.message ?? String(err)).split('\n')[0].trim();
  return new DatasetError(`cannot decode image: ${msg}`, file);
}

/** Header-only image facts (sharp reads the header, not the pixels). */
export async function imageInfo(file: string): Promise<ImageInfo> {
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    meta = await sharp(file).metadata();
  } catch (err) {
    throw decodeError(err, file);
  }
  if (!meta.width || !meta.height || !meta.format) throw new DatasetError('image header has no size or format', file);
  const orientation = meta.orientation ?? 1;
  const swap = orientation >= 5;
  return {
    width: swap ? meta.height : meta.width,
    height: swap ? meta.width : meta.height,
    channels: meta.channels ?? 3,
    bitDepth: BIT_DEPTHS[meta.depth ?? 'uchar'] ?? 8,
    format: meta.format,
    palette: meta.isPalette ?? false,
    orientation,
  };
}

export interface ReadImageOptions {
  /** Keep 16 bits per sample (Uint16Array) when the file has them; default false (8-bit). */
  keep16bit?: boolean;
}

/**
 * Decode any supported image to RGB, HWC, EXIF orientation applied. Gray is replicated, alpha is
 * dropped, palettes are expanded; 16-bit files become 8-bit unless `keep16bit` is set.
 */
export async function readImage(file: string, opts: ReadImageOptions = {}): Promise<Image> {
  try {
    let pipeline = sharp(file, { failOn: 'error' }).rotate().removeAlpha();
    let wide = false;
    if (opts.keep16bit) {
      const meta = await sharp(file).metadata();
      wide = BIT_DEPTHS[meta.depth ?? 'uchar'] === 16;
    }
    pipeline = pipeline.toColourspace(wide ? 'rgb16' : 'srgb');
    const { data, info } = await pipeline.raw({ depth: wide ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    const pixels = wide
      ? new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return { data: pixels, width: info.width, height: info.height, channels: 3 };
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw decodeError(err, file);
  }
}

/** PNG bytes of an in-memory image (1-4 channels; Uint16Array data gives a 16-bit PNG). */
export async function encodePng(image: Image): Promise<Buffer> {
  const { width, height, channels, data } = image;
  if (channels < 1 || channels > 4) throw new DatasetError(`cannot encode an image with ${channels} channels as PNG`);
  if (data.length !== width * height * channels) {
    throw new DatasetError(`image data has ${data.length} values, expected ${height}x${width}x${channels}`);
  }
  const wide = data instanceof Uint16Array;
  let pipeline = sharp(data, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 } });
  if (wide) pipeline = pipeline.toColourspace(channels <= 2 ? 'grey16' : 'rgb16');
  else if (channels <= 2) pipeline = pipeline.toColourspace('b-w');
  return pipeline.png().toBuffer();
}

/** Write an image as PNG, atomically (temp file + rename). */
export async function writePng(file: string, image: Image): Promise<void> {
  writeFileAtomic(file, await encodePng(image));
}

/** File size in bytes (for EDA), or a DatasetError naming the file. */
export function fileBytes(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch (err) {
    throw new DatasetError(`cannot stat: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, file);
  }
}
