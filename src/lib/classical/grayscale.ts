/**
 * Image -> working grey image: luminance, 16-bit rescaled to 8-bit, longer side at most maxSide.
 */
import type { Image } from '../data/types';
import { ModelError } from '../errors';
import { type OpenCv, release } from './opencv';

export interface GrayImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Luminance (BT.601) of an HWC image as uint8; 16-bit data is stretched by its own maximum. */
export function toGray(image: Image): GrayImage {
  const { width, height, channels, data } = image;
  if (!(width > 0 && height > 0) || data.length !== width * height * channels) {
    throw new ModelError(`image data has ${data.length} values, expected ${width}x${height}x${channels}`);
  }
  let scale = 1;
  if (data instanceof Uint16Array) {
    let max = 1;
    for (let i = 0; i < data.length; i++) if (data[i] > max) max = data[i];
    scale = 255 / max;
  }
  const n = width * height;
  const out = new Uint8Array(n);
  if (channels >= 3) {
    for (let i = 0, o = 0; i < n; i++, o += channels) {
      out[i] = Math.round((0.299 * data[o] + 0.587 * data[o + 1] + 0.114 * data[o + 2]) * scale);
    }
  } else {
    for (let i = 0, o = 0; i < n; i++, o += channels) out[i] = Math.round(data[o] * scale);
  }
  return { data: out, width, height };
}

/**
 * Resizes so the longer side lies in [minSide, maxSide]: large inputs are area-downscaled (speed),
 * small ones upscaled bilinearly so small copied regions still hold enough keypoints (ORB's
 * descriptor patch is 31 px wide). Returns the factor working/original.
 */
export function toWorkingSize(cv: OpenCv, gray: GrayImage, minSide: number, maxSide: number): { gray: GrayImage; scale: number } {
  const longer = Math.max(gray.width, gray.height);
  const target = longer > maxSide ? maxSide : longer < minSide ? minSide : longer;
  if (target === longer) return { gray, scale: 1 };
  const scale = target / longer;
  const w = Math.max(1, Math.round(gray.width * scale));
  const h = Math.max(1, Math.round(gray.height * scale));
  const src = cv.matFromArray(gray.height, gray.width, cv.CV_8UC1, gray.data);
  const dst = new cv.Mat();
  try {
    cv.resize(src, dst, new cv.Size(w, h), 0, 0, scale < 1 ? cv.INTER_AREA : cv.INTER_LINEAR);
    return { gray: { data: new Uint8Array(dst.data), width: w, height: h }, scale: w / gray.width };
  } finally {
    release(src, dst);
  }
}
