import { ConfigError } from '../errors';
import type { Image } from '../data/types';
import { checkPair, maxValue, type FloatImage, type FloatPair, type Pair, type Transform } from './transform';

/** ImageNet statistics of RGB in [0, 1] (torchvision / timm). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/**
 * 'imagenet': (v/max - mean) / std per channel (3 channels only).
 * 'per-image': each channel of each image to zero mean, unit std.
 * 'unit': v / max, in [0, 1].
 */
export type NormalizeMode = 'imagenet' | 'per-image' | 'unit';
export const NORMALIZE_MODES: readonly NormalizeMode[] = ['imagenet', 'per-image', 'unit'];

/** The one step where pixels become Float32; masks pass through unchanged. */
export function normalizePair(p: Pair, mode: NormalizeMode): FloatPair {
  checkPair(p, 'normalize');
  const { image } = p;
  const C = image.channels;
  const n = image.width * image.height;
  const max = maxValue(image);
  const out = new Float32Array(image.data.length);
  let mean: number[];
  let std: number[];
  if (mode === 'imagenet') {
    if (C !== 3) throw new ConfigError(`normalize 'imagenet' needs 3 channels (RGB), got ${C}; use 'per-image' or 'unit'`);
    mean = [...IMAGENET_MEAN];
    std = [...IMAGENET_STD];
  } else if (mode === 'unit') {
    mean = new Array(C).fill(0);
    std = new Array(C).fill(1);
  } else if (mode === 'per-image') {
    mean = new Array(C).fill(0);
    std = new Array(C).fill(0);
    for (let i = 0; i < n; i++) for (let c = 0; c < C; c++) mean[c] += image.data[i * C + c] / max;
    for (let c = 0; c < C; c++) mean[c] /= n;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < C; c++) {
        const d = image.data[i * C + c] / max - mean[c];
        std[c] += d * d;
      }
    }
    for (let c = 0; c < C; c++) std[c] = Math.sqrt(std[c] / n) + 1e-6;
  } else {
    throw new ConfigError(`normalize mode must be one of ${NORMALIZE_MODES.join(', ')}, got '${String(mode)}'`);
  }
  const src = image.data;
  if (max === 255) {
    // 8-bit: one table per channel holding the same Float32 the formula gives for each value
    const lut = new Float32Array(256 * C);
    for (let v = 0; v < 256; v++) for (let c = 0; c < C; c++) lut[v * C + c] = (v / max - mean[c]) / std[c];
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < C; c++) out[i * C + c] = lut[src[i * C + c] * C + c];
    }
  } else {
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < C; c++) out[i * C + c] = (src[i * C + c] / max - mean[c]) / std[c];
    }
  }
  return { image: { data: out, width: image.width, height: image.height, channels: C }, masks: p.masks };
}

export function normalize(opts: { mode?: NormalizeMode } = {}): Transform<Pair, FloatPair> {
  const mode = opts.mode ?? 'imagenet';
  if (!NORMALIZE_MODES.includes(mode)) {
    throw new ConfigError(`normalize mode must be one of ${NORMALIZE_MODES.join(', ')}, got '${String(mode)}'`);
  }
  return { name: 'normalize', kind: 'normalize', apply: (p: Pair) => normalizePair(p, mode) };
}

/**
 * Back to uint8 RGB for display: exact inverse for 'imagenet' and 'unit'; 'per-image' statistics
 * are gone, so its values are stretched to the image's own min..max.
 */
export function denormalize(image: FloatImage, mode: NormalizeMode): Image {
  const C = image.channels;
  const out = new Uint8Array(image.data.length);
  if (mode === 'per-image') {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of image.data) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const span = hi > lo ? hi - lo : 1;
    for (let i = 0; i < out.length; i++) out[i] = Math.round((255 * (image.data[i] - lo)) / span);
  } else {
    for (let i = 0; i < out.length; i++) {
      const c = i % C;
      const v = mode === 'imagenet' ? image.data[i] * IMAGENET_STD[c] + IMAGENET_MEAN[c] : image.data[i];
      out[i] = Math.min(255, Math.max(0, Math.round(v * 255)));
    }
  }
  return { data: out, width: image.width, height: image.height, channels: C };
}
