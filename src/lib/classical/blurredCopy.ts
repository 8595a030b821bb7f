/**
 * Copies blurred to hide the paste. A forger's blur lowers the copy's ZNCC with its source to
 * ~0.85-0.94, where look-alike structure (the same bands or cells drawn twice with their own
 * noise) lies too, so the gate's score cannot keep it. But such a copy is its source blurred:
 * with the source blurred alike it agrees almost perfectly, while two look-alike regions differ
 * in more than their fine detail and do not. Which side was blurred is unknown, so both are tried.
 */
import type { Affine } from './geometry';
import type { GrayImage } from './grayscale';
import type { ClassicalParams } from './params';
import { blur } from './siftScaleSpace';
import { agreementOver, type ImageWindows, imageWindows } from './verify';

/** The blur a forger's softening is compared with (Gaussian sigma, pixels): close to a 3x3 box or a radius-1 Photoshop blur. */
export const COMPARED_BLUR_SIGMA = 1;

/** The image blurred by COMPARED_BLUR_SIGMA and its verification windows, made on first use (one per detection). */
export interface BlurredFrame {
  get(): { blurred: GrayImage; windows: ImageWindows };
}

export function blurredFrame(gray: GrayImage, params: ClassicalParams): BlurredFrame {
  let made: { blurred: GrayImage; windows: ImageWindows } | undefined;
  return {
    get() {
      if (!made) {
        const plane = blur({ data: Float32Array.from(gray.data), width: gray.width, height: gray.height }, COMPARED_BLUR_SIGMA);
        const blurred = { data: Uint8Array.from(plane.data, (v) => Math.round(v)), width: gray.width, height: gray.height };
        made = { blurred, windows: imageWindows(blurred, params) };
      }
      return made;
    },
  };
}

/**
 * The better of: the source blurred against the copy, and the source against the copy blurred
 * (mean local ZNCC over the verified `source` region, which A maps onto the copy).
 */
export function blurredAgreement(gray: GrayImage, windows: ImageWindows, frame: BlurredFrame, source: Uint8Array, a: Affine, params: ClassicalParams): number {
  const { blurred, windows: blurredWindows } = frame.get();
  const copyBlurred = agreementOver(blurred, blurredWindows, gray, source, a, params);
  const sourceBlurred = agreementOver(gray, windows, blurred, source, a, params);
  return Math.max(copyBlurred, sourceBlurred);
}
