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
  /** Bits per sample: 8 or 16 (palette and 1/2/4-bit images report 8, as libvips does). */
  bitDepth: number;
  /** 'png', 'jpeg', 'tiff', 'webp', ... */
  format: string;
  palette: boolean;
  /** EXIF orientation tag, 1 (none) to 8. */
  orientation: number;
  /** Size of the file in bytes. */
  bytes: number;
}

const BIT_DEPTHS: Record<string, number> = { uchar: 8, char: 8, ushort: 16, short: 16, uint: 32, int: 32, float: 32, double: 64 };

function decodeError(err: unknown, file: string): DatasetError {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return new DatasetError('image file not found', file);
  const msg = (e.message ?? String(err)).split('\n')[0].trim();
  return new DatasetError(`cannot decode image: ${msg}`, file);
}

/**
 * Header-only image facts. PNG headers are parsed here from the first bytes of the file (the
 * common case, and much cheaper than a libvips call); every other format, and a PNG with an EXIF
 * chunk or an unusual header, goes through sharp's metadata, which also reads only the header.
 */
export async function imageInfo(file: string): Promise<ImageInfo> {
  let head: Buffer;
  let bytes: number;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      bytes = fs.fstatSync(fd).size;
      // IHDR and the small chunks before the first IDAT nearly always fit; otherwise sharp decides.
      head = Buffer.allocUnsafe(Math.min(bytes, 1024));
      fs.readSync(fd, head, 0, head.length, 0);
      if (isPng(head)) checkPngTail(fd, bytes, file);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    throw err instanceof DatasetError ? err : decodeError(err, file);
  }
  const png = pngHeaderInfo(head);
  if (png) return { ...png, bytes };
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
    bytes,
  };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Every complete PNG ends with this IEND chunk (length 0, type, CRC). */
const PNG_IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

function isPng(head: Buffer): boolean {
  return head.length >= 8 && head.subarray(0, 8).equals(PNG_SIGNATURE);
}

/**
 * A header-only scan would pass a PNG cut off after its header (an interrupted download or copy),
 * and the decode would fail later, mid-run. Its last 12 bytes tell: they must be the IEND chunk.
 */
function checkPngTail(fd: number, bytes: number, file: string): void {
  const tail = Buffer.alloc(PNG_IEND.length);
  const got = bytes >= tail.length ? fs.readSync(fd, tail, 0, tail.length, bytes - tail.length) : 0;
  if (got !== tail.length || !tail.equals(PNG_IEND)) {
    throw new DatasetError(`truncated PNG: the file (${bytes} bytes) does not end with the IEND chunk`, file);
  }
}
/** PNG colour type -> channels as libvips reports them (palette: 3, or 4 with a tRNS chunk). */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 3, 4: 2, 6: 4 };

/**
 * Width, height, channels and depth from a PNG's IHDR, walking the chunks before the first IDAT
 * (tRNS adds alpha). Returns null whenever sharp should decide: not a PNG, an eXIf chunk
 * (orientation), a header that does not fit in `head`, or anything unexpected.
 */
export function pngHeaderInfo(head: Buffer): Omit<ImageInfo, 'bytes'> | null {
  if (head.length < 33 || !head.subarray(0, 8).equals(PNG_SIGNATURE)) return null;
  if (head.toString('latin1', 12, 16) !== 'IHDR' || head.readUInt32BE(8) !== 13) return null;
  const width = head.readUInt32BE(16);
  const height = head.readUInt32BE(20);
  const depth = head[24];
  const colourType = head[25];
  let channels = PNG_CHANNELS[colourType];
  if (channels === undefined || width === 0 || height === 0) return null;
  let at = 33;
  for (;;) {
    if (at + 8 > head.length) return null;
    const type = head.toString('latin1', at + 4, at + 8);
    if (type === 'IDAT') break;
    if (type === 'eXIf' || type === 'IEND') return null;
    if (type === 'tRNS' && (colourType === 0 || colourType === 2 || colourType === 3)) channels += 1;
    at += 12 + head.readUInt32BE(at);
  }
  return { width, height, channels, bitDepth: depth === 16 ? 16 : 8, format: 'png', palette: colourType === 3, orientation: 1 };
}

export interface ReadImageOptions {
  /** Keep 16 bits per sample (Uint16Array) when the file has them; default false (8-bit). */
  keep16bit?: boolean;
}

/**
 * Decode any supported image to RGB, HWC, EXIF orientation applied. Gray is replicated, alpha is
 * dropped, palettes are expanded; 16-bit files become 8-bit (to8bit) unless `keep16bit` is set.
 */
export async function readImage(file: string, opts: ReadImageOptions = {}): Promise<Image> {
  if (!fs.existsSync(file)) throw new DatasetError('image file not found', file);
  try {
    // one instance: the header read for the bit depth, then the decode
    const input = sharp(file, { failOn: 'error' });
    const wide = BIT_DEPTHS[(await input.metadata()).depth ?? 'uchar'] === 16;
    const pipeline = input
      .rotate()
      .removeAlpha()
      .toColourspace(wide ? 'rgb16' : 'srgb');
    const { data, info } = await pipeline.raw({ depth: wide ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    if (!wide) return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: 3 };
    const deep = new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    return { data: opts.keep16bit ? deep : to8bit(deep), width: info.width, height: info.height, channels: 3 };
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw decodeError(err, file);
  }
}

/**
 * 16-bit samples to 8 bits by the image's effective bit depth: the bits its largest sample uses (at
 * least 8), of which the top 8 are kept. Microscopes and gel imagers write 10-14-bit data into 16-bit
 * files, which a fixed >> 8 reads as a near-black image of a few grey levels (12-bit data: 16 levels);
 * a file that uses all 16 bits is reduced by >> 8 as before, one holding 8-bit values keeps them.
 */
export function to8bit(deep: Uint16Array): Uint8Array {
  let max = 0;
  for (let i = 0; i < deep.length; i++) if (deep[i] > max) max = deep[i];
  let bits = 8;
  while (max >> bits > 0) bits++;
  const shift = bits - 8;
  const out = new Uint8Array(deep.length);
  for (let i = 0; i < deep.length; i++) out[i] = deep[i] >> shift;
  return out;
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
