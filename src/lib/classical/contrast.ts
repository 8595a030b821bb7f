/**
 * Contrast normalisation before keypoint detection. Blots and micrographs are often faint; ORB's
 * FAST threshold is fixed at 20 grey levels in this OpenCV.js build, so faint texture gets no
 * keypoints unless contrast is raised first.
 * - 'global': histogram equalisation. A pure function of the grey level, so a copied region stays
 *   bit-identical to its source and their descriptors agree exactly (the default).
 * - 'clahe': contrast-limited adaptive equalisation. Lifts unevenly lit areas better, but its
 *   per-tile mappings differ between a region and its copy, which perturbs binary descriptors.
 * - 'none': the grey image as is.
 */
import type { GrayImage } from './grayscale';
import { type OpenCv, release } from './opencv';

export type ContrastMode = 'global' | 'clahe' | 'none';
export const CONTRAST_MODES: readonly ContrastMode[] = ['global', 'clahe', 'none'];

export function normalizeContrast(cv: OpenCv, gray: GrayImage, mode: ContrastMode, clipLimit: number, tiles: number): GrayImage {
  if (mode === 'none') return gray;
  const src = cv.matFromArray(gray.height, gray.width, cv.CV_8UC1, gray.data);
  const dst = new cv.Mat();
  const clahe = mode === 'clahe' ? new cv.CLAHE(clipLimit, new cv.Size(tiles, tiles)) : undefined;
  try {
    if (clahe) clahe.apply(src, dst);
    else cv.equalizeHist(src, dst);
    return { data: new Uint8Array(dst.data), width: gray.width, height: gray.height };
  } finally {
    release(src, dst, clahe);
  }
}
