/**
 * Text-label suppression: panel letters, axis labels and scale-bar numbers repeat inside
 * scientific figures and match each other perfectly, but they are not copy-move forgeries.
 * A matched region is text-like when it is small, its grey levels are near-binary (ink and paper,
 * counting the anti-aliased rims of strokes as either) and its ink is thin strokes (erosion by a 5x5
 * square removes most of it).
 */
import type { GrayImage } from './grayscale';
import { erode } from './maskOps';

/** Regions larger than this fraction of the image are never treated as labels. */
const MAX_LABEL_FRACTION = 0.03;
/** Share of pixels at the two grey-level extremes above which a region is near-binary. */
const BINARY_SHARE = 0.85;
/** An intermediate grey level this close (pixels, each way) to both ink and paper is a stroke's anti-aliased rim. */
const RIM = 2;
/** Share of ink surviving the erosion below which strokes are thin. */
const THIN_SURVIVAL = 0.25;

export function isTextLike(gray: GrayImage, region: Uint8Array): boolean {
  const { width: w, height: h, data } = gray;
  let area = 0;
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  const hist = new Uint32Array(256);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!region[y * w + x]) continue;
      area++;
      hist[data[y * w + x]]++;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  if (area === 0 || area > MAX_LABEL_FRACTION * w * h) return false;
  const pct = (p: number) => {
    let acc = 0;
    for (let v = 0; v < 256; v++) if ((acc += hist[v]) >= p * area) return v;
    return 255;
  };
  const lo = pct(0.02);
  const hi = pct(0.98);
  const range = hi - lo;
  if (range < 40) return false;
  const band = 0.2 * range;
  let dark = 0;
  let light = 0;
  for (let v = 0; v < 256; v++) {
    if (v <= lo + band) dark += hist[v];
    else if (v >= hi - band) light += hist[v];
  }
  if ((dark + light + strokeEdges(gray, region, x0, y0, x1, y1, lo + band, hi - band)) / area < BINARY_SHARE) return false;
  // Ink is the minority class.
  const inkIsDark = dark <= light;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const ink = new Uint8Array(bw * bh);
  let inkCount = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const i = y * w + x;
      if (!region[i]) continue;
      const v = data[i];
      if (inkIsDark ? v <= lo + band : v >= hi - band) {
        ink[(y - y0) * bw + (x - x0)] = 1;
        inkCount++;
      }
    }
  }
  if (inkCount === 0) return false;
  let survived = 0;
  for (const v of erode(ink, bw, bh, 2)) survived += v;
  return survived / inkCount < THIN_SURVIVAL;
}

/**
 * Region pixels between the ink and paper levels with both an ink pixel (<= dark) and a paper pixel
 * (>= light) within RIM pixels: the rims of rendered, anti-aliased strokes, which belong to a
 * near-binary label as much as its ink and paper do (a blurred band's slope has no such neighbours).
 */
function strokeEdges(gray: GrayImage, region: Uint8Array, x0: number, y0: number, x1: number, y1: number, dark: number, light: number): number {
  const { width: w, data } = gray;
  let rims = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const i = y * w + x;
      if (!region[i] || data[i] <= dark || data[i] >= light) continue;
      let ink = false;
      let paper = false;
      for (let yy = Math.max(y0, y - RIM); yy <= Math.min(y1, y + RIM) && !(ink && paper); yy++) {
        for (let xx = Math.max(x0, x - RIM); xx <= Math.min(x1, x + RIM); xx++) {
          const v = data[yy * w + xx];
          if (v <= dark) ink = true;
          else if (v >= light) paper = true;
        }
      }
      if (ink && paper) rims++;
    }
  }
  return rims;
}
