/**
 * Contrast normalisation by CLAHE: blots and micrographs are often faint and unevenly lit; local
 * histogram equalisation gives keypoint detectors texture to work with in those areas too.
 */
import type { GrayImage } from './grayscale';
import { type OpenCv, release } from './opencv';

export function equalize(cv: OpenCv, gray: GrayImage, clipLimit: number, tiles: number): GrayImage {
  const src = cv.matFromArray(gray.height, gray.width, cv.CV_8UC1, gray.data);
  const dst = new cv.Mat();
  const clahe = new cv.CLAHE(clipLimit, new cv.Size(tiles, tiles));
  try {
    clahe.apply(src, dst);
    return { data: new Uint8Array(dst.data), width: gray.width, height: gray.height };
  } finally {
    release(src, dst, clahe);
  }
}
