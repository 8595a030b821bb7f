import type { Rng } from '../util/random';
import { ConfigError } from '../errors';
import type { Image, Masks } from '../data/types';

/**
 * An image with its instance masks, before normalization: pixel data keeps the dtype it was
 * decoded with (Uint8Array or Uint16Array). Every transform in this folder maps a Pair to a Pair
 * except `normalize`, the one step that turns pixels into Float32 (a FloatPair).
 */
export interface Pair {
  image: Image;
  masks: Masks;
}

/** Float32 HWC pixels, produced only by `normalize`. */
export interface FloatImage {
  data: Float32Array;
  width: number;
  height: number;
  channels: number;
}

export interface FloatPair {
  image: FloatImage;
  masks: Masks;
}

/**
 * geometric: moves pixels; image and masks move together.
 * photometric: changes pixel values only; masks are returned untouched (same object).
 */
export type TransformKind = 'geometric' | 'photometric' | 'normalize' | 'compose';

export interface Transform<In = Pair, Out = In> {
  name: string;
  kind: TransformKind;
  /** The fixed output size [height, width] when the transform produces one (resize, crops). */
  size?: readonly [number, number];
  /** Draws all its randomness from `rng`; may be async (JPEG goes through sharp). */
  apply(x: In, rng: Rng): Out | Promise<Out>;
}

/** Pixel data type of an image, with the largest value it can hold. */
export function maxValue(image: { data: Uint8Array | Uint16Array }): number {
  return image.data instanceof Uint16Array ? 65535 : 255;
}

/** An empty pixel buffer of the same dtype as `like`. */
export function allocLike(like: Uint8Array | Uint16Array, length: number): Uint8Array | Uint16Array {
  return like instanceof Uint16Array ? new Uint16Array(length) : new Uint8Array(length);
}

/** Checks that image and masks describe the same grid; transforms rely on it. */
export function checkPair(p: Pair, where: string): void {
  const { image, masks } = p;
  if (image.data.length !== image.width * image.height * image.channels) {
    throw new ConfigError(`${where}: image data has ${image.data.length} values, expected ${image.height}x${image.width}x${image.channels}`);
  }
  if (masks.data.length !== masks.count * masks.height * masks.width) {
    throw new ConfigError(`${where}: mask data has ${masks.data.length} values, expected ${masks.count}x${masks.height}x${masks.width}`);
  }
  if (masks.height !== image.height || masks.width !== image.width) {
    throw new ConfigError(`${where}: masks are ${masks.height}x${masks.width} but the image is ${image.height}x${image.width}`);
  }
}

/** A [lo, hi] range option, validated. */
export function range(name: string, r: readonly [number, number] | number, min = -Infinity, max = Infinity): [number, number] {
  const [lo, hi] = typeof r === 'number' ? [r, r] : r;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi || lo < min || hi > max) {
    throw new ConfigError(`${name}: expected a range [lo, hi] with ${min} <= lo <= hi <= ${max}, got [${lo}, ${hi}]`);
  }
  return [lo, hi];
}

/** Parses a size option (one number = square) into [height, width]. */
export function toSize(size: number | readonly [number, number], where: string): [number, number] {
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) {
    throw new ConfigError(`${where}: size must be positive integers, got ${JSON.stringify(size)}`);
  }
  return [h, w];
}
