/**
 * Copies blurred to hide the paste. A forger's blur lowers the copy's ZNCC with its source to
 * ~0.75-0.94, where look-alike structure (the same bands or cells drawn twice with their own
 * noise) lies too, so the gate's score cannot keep it. But such a copy is its source blurred:
 * with the source blurred alike it agrees almost perfectly, while two look-alike regions differ
 * in more than their fine detail and do not. Which side was blurred is unknown, so both are tried.
 */
import { maskBox } from '../data/components';
import type { Affine } from './geometry';
import type { GrayImage } from './grayscale';
import type { ClassicalParams } from './params';
import { blur } from './siftScaleSpace';
import { agreementOver, imageWindows } from './verify';

/** The blur a forger's softening is compared with (Gaussian sigma, pixels of the original image): close to a 3x3 box or a radius-1 Photoshop blur. */
export const COMPARED_BLUR_SIGMA = 1;
/** Margin of the crop around source and copy: the blur's taps (4 sigma) plus the ZNCC window's radius (3), and one for bilinear sampling. */
const cropMargin = (sigma: number) => Math.ceil(4 * sigma) + 4;

/**
 * The better of: the source blurred against the copy, and the source against the copy blurred, by a
 * Gaussian of `sigma` pixels of `gray` (COMPARED_BLUR_SIGMA times the working frame's scale)
 * (mean local ZNCC over the verified `source` region, a 0/1 mask of the frame, which A maps onto
 * the copy). Computed on the crop around source and copy, so its cost follows their size; their
 * pixels see the same windows and blur taps as in the whole frame.
 */
export function blurredAgreement(gray: GrayImage, source: Uint8Array, a: Affine, params: ClassicalParams, sigma = COMPARED_BLUR_SIGMA): number {
  const { width: W, height: H } = gray;
  const s = maskBox(source, W);
  if (!s) return 0;
  const xs = [s.x1, s.x2, s.x1, s.x2];
  const ys = [s.y1, s.y1, s.y2, s.y2];
  const cx = xs.map((x, k) => a[0] * x + a[1] * ys[k] + a[2]);
  const cy = xs.map((x, k) => a[3] * x + a[4] * ys[k] + a[5]);
  const margin = cropMargin(sigma);
  const x0 = Math.max(0, Math.floor(Math.min(s.x1, ...cx)) - margin);
  const y0 = Math.max(0, Math.floor(Math.min(s.y1, ...cy)) - margin);
  const x1 = Math.min(W, Math.ceil(Math.max(s.x2, ...cx)) + margin);
  const y1 = Math.min(H, Math.ceil(Math.max(s.y2, ...cy)) + margin);
  const w = x1 - x0;
  const h = y1 - y0;
  const crop: GrayImage = { data: new Uint8Array(w * h), width: w, height: h };
  const region = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    crop.data.set(gray.data.subarray((y + y0) * W + x0, (y + y0) * W + x1), y * w);
    region.set(source.subarray((y + y0) * W + x0, (y + y0) * W + x1), y * w);
  }
  // x' = x - o: A'(x') = A(x' + o) - o
  const shifted: Affine = [a[0], a[1], a[0] * x0 + a[1] * y0 + a[2] - x0, a[3], a[4], a[3] * x0 + a[4] * y0 + a[5] - y0];
  const blurred = softened(crop, sigma);
  const copyBlurred = agreementOver(blurred, imageWindows(blurred, params), crop, region, shifted, params);
  const sourceBlurred = agreementOver(crop, imageWindows(crop, params), blurred, region, shifted, params);
  return Math.max(copyBlurred, sourceBlurred);
}

/** The image blurred by a Gaussian of `sigma` pixels, rounded to grey levels. */
export function softened(g: GrayImage, sigma: number): GrayImage {
  const plane = blur({ data: Float32Array.from(g.data), width: g.width, height: g.height }, sigma).data;
  const data = new Uint8Array(plane.length);
  for (let i = 0; i < plane.length; i++) data[i] = Math.round(plane[i]);
  return { data, width: g.width, height: g.height };
}
