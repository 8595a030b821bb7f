import * as tf from '@tensorflow/tfjs';
import type { Masks } from '../../data/types';

/**
 * torchvision's `GeneralizedRCNNTransform` for a batch of same-size images (what sifd's loader
 * yields): optional ImageNet normalisation, a bilinear resize so the short side is `minSize` unless
 * the long side would pass `maxSize` (the seed: both 256), zero padding to a multiple of 32, and the
 * way back: boxes scaled to the input size. sifd's loader normalises already (the augmentation
 * preset), so `normalize` defaults to false in sifd and true only when imitating torchvision on raw
 * [0,1] images (the parity fixture).
 */
export interface TransformConfig {
  minSize: number;
  maxSize: number;
  normalize: boolean;
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];
const SIZE_DIVISIBLE = 32;

export interface Transformed {
  /** [B, padH, padW, C]. */
  images: tf.Tensor4D;
  /** Height and width after the resize, before the padding (torchvision `image_sizes`). */
  height: number;
  width: number;
  /** resized / input, per axis. */
  scaleY: number;
  scaleX: number;
}

/** The resized size of an h x w image (torchvision `_resize_image_and_masks`, recompute_scale_factor). */
export function resizedSize(h: number, w: number, cfg: TransformConfig): [number, number] {
  const scale = Math.min(cfg.minSize / Math.min(h, w), cfg.maxSize / Math.max(h, w));
  return [Math.floor(h * scale), Math.floor(w * scale)];
}

export function transformImages(images: tf.Tensor4D, cfg: TransformConfig): Transformed {
  const [, h, w] = images.shape;
  const [nh, nw] = resizedSize(h, w, cfg);
  const out = tf.tidy(() => {
    let x = images;
    if (cfg.normalize) x = x.sub(tf.tensor1d(IMAGENET_MEAN)).div(tf.tensor1d(IMAGENET_STD));
    if (nh !== h || nw !== w) x = tf.image.resizeBilinear(x, [nh, nw], false, true);
    const ph = Math.ceil(nh / SIZE_DIVISIBLE) * SIZE_DIVISIBLE - nh;
    const pw = Math.ceil(nw / SIZE_DIVISIBLE) * SIZE_DIVISIBLE - nw;
    return ph || pw ? tf.pad(x, [[0, 0], [0, ph], [0, pw], [0, 0]]) : x.clone();
  });
  return { images: out, height: nh, width: nw, scaleY: nh / h, scaleX: nw / w };
}

/** Boxes at the input size -> at the resized size (torchvision `resize_boxes`), new array. */
export function scaleBoxes(boxes: Float32Array, sx: number, sy: number): Float32Array {
  return boxes.map((v, i) => v * (i % 2 === 0 ? sx : sy));
}

/** Masks at the input size -> nearest-neighbour at height x width (torchvision resizes target masks so). */
export function resizeMasksNearest(m: Masks, height: number, width: number): Masks {
  if (m.height === height && m.width === width) return m;
  const data = new Uint8Array(m.count * height * width);
  for (let k = 0; k < m.count; k++) {
    for (let y = 0; y < height; y++) {
      const sy = Math.min(Math.floor((y * m.height) / height), m.height - 1);
      for (let x = 0; x < width; x++) {
        const sx = Math.min(Math.floor((x * m.width) / width), m.width - 1);
        data[(k * height + y) * width + x] = m.data[(k * m.height + sy) * m.width + sx];
      }
    }
  }
  return { data, count: m.count, height, width };
}
