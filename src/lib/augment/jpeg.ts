import sharp from 'sharp';
import type { Rng } from '../util/random';
import { ConfigError } from '../errors';
import { checkPair, range, type Pair, type Transform } from './transform';

/**
 * Re-encodes the image as JPEG at `quality` (1..100) through sharp and decodes it back: the
 * compression artefacts a re-saved figure carries. JPEG is 8-bit: uint16 images are scaled to 8 bits
 * for the round trip and scaled back (x * 257), so the dtype is kept but the low byte is lost.
 * Grey (1 channel) and RGB (3 channels) images only.
 */
export async function jpegPair(p: Pair, quality: number): Promise<Pair> {
  checkPair(p, 'jpeg');
  const { image } = p;
  const { width, height, channels } = image;
  if (channels !== 1 && channels !== 3) {
    throw new ConfigError(`jpeg: images must have 1 or 3 channels, got ${channels}`);
  }
  const wide = image.data instanceof Uint16Array;
  const bytes = wide ? Uint8Array.from(image.data, (v) => Math.round(v / 257)) : image.data;
  const encoded = await sharp(bytes, { raw: { width, height, channels } })
    .jpeg({ quality: Math.round(quality), chromaSubsampling: '4:2:0' })
    .toBuffer();
  const decoded = await sharp(encoded).toColourspace(channels === 1 ? 'b-w' : 'srgb').raw().toBuffer({ resolveWithObject: true });
  if (decoded.info.width !== width || decoded.info.height !== height || decoded.info.channels !== channels) {
    throw new ConfigError(
      `jpeg: round trip returned ${decoded.info.width}x${decoded.info.height}x${decoded.info.channels}, expected ${width}x${height}x${channels}`,
    );
  }
  const raw = new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.length);
  const data = wide ? Uint16Array.from(raw, (v) => v * 257) : Uint8Array.from(raw);
  return { image: { ...image, data }, masks: p.masks };
}

export interface JpegOptions {
  /** Quality range, drawn as an integer; default [50, 95]. */
  quality?: readonly [number, number] | number;
}

export function jpeg(opts: JpegOptions = {}): Transform {
  const q = range('jpeg.quality', opts.quality ?? [50, 95], 1, 100);
  return {
    name: 'jpeg',
    kind: 'photometric',
    apply: (p: Pair, rng: Rng) => jpegPair(p, rng.int(Math.round(q[0]), Math.round(q[1]))),
  };
}
