/**
 * Contrast normalisation before keypoint detection. Blots and micrographs are often faint; ORB's
 * FAST threshold is fixed at 20 grey levels in this OpenCV.js build, so faint texture gets no
 * keypoints unless contrast is raised first.
 * - 'global': histogram equalisation. A pure function of the grey level, so a copied region stays
 *   bit-identical to its source and their descriptors agree exactly (the default).
 * - 'clahe': contrast-limited adaptive equalisation. Lifts unevenly lit areas better, but its
 *   per-tile mappings differ between a region and its copy, which perturbs binary descriptors.
 * - 'panels': histogram equalisation of each panel of a compound figure on its own (panels.ts),
 *   so a faint panel beside a bright one gets its own stretch; the gutters stay as they are. Each
 *   mapping is monotonic, so a copy in another panel keeps the order of its grey levels (what a
 *   binary descriptor compares).
 * - 'none': the grey image as is.
 */
import type { GrayImage } from './grayscale';
import { type OpenCv, release } from './opencv';
import { segmentPanels } from './panels';

export type ContrastMode = 'global' | 'clahe' | 'panels' | 'none';
export const CONTRAST_MODES: readonly ContrastMode[] = ['global', 'clahe', 'panels', 'none'];

export function normalizeContrast(cv: OpenCv, gray: GrayImage, mode: ContrastMode, clipLimit: number, tiles: number): GrayImage {
  if (mode === 'none') return gray;
  if (mode === 'panels') return equalizePanels(cv, gray);
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

/** Each panel of `gray` histogram-equalised on its own; a figure of one panel equalised whole. */
export function equalizePanels(cv: OpenCv, gray: GrayImage): GrayImage {
  const panels = segmentPanels(gray);
  if (panels.length < 2) return normalizeContrast(cv, gray, 'global', 0, 0);
  const out = gray.data.slice();
  for (const b of panels) {
    const crop = new Uint8Array(b.w * b.h);
    for (let y = 0; y < b.h; y++) crop.set(gray.data.subarray((b.y + y) * gray.width + b.x, (b.y + y) * gray.width + b.x + b.w), y * b.w);
    const eq = normalizeContrast(cv, { data: crop, width: b.w, height: b.h }, 'global', 0, 0);
    for (let y = 0; y < b.h; y++) out.set(eq.data.subarray(y * b.w, (y + 1) * b.w), (b.y + y) * gray.width + b.x);
  }
  return { data: out, width: gray.width, height: gray.height };
}
