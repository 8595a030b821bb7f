/**
 * The rim of a verified copy. Verification marks a pixel copied when the ZNCC of the window around
 * it agrees, and a window that straddles the copy's edge also reads what lies outside it, where
 * source and copy differ: the verified region stops up to half a window (3 px) inside the pasted
 * footprint all around, which costs a 40 px copy a quarter of its pixels. Here the region grows
 * back outwards pixel by pixel, as far as half a window, through pixels whose value equals the value
 * at their image under the transform within the copy's own noise (measured inside the region):
 * inside the footprint they agree, outside it they differ (on flat surroundings equal in both
 * places the growth can overshoot by at most the radius).
 */
import type { Affine } from './geometry';
import type { GrayImage } from './grayscale';
import { type Box, maskBox } from '../data/components';
import { bilinear, mapMask } from './verify';

/** Pixel differences below this are always within the noise (grey levels). */
const MIN_TOLERANCE = 2;
/** The tolerance is this many times the median absolute difference inside the region. */
const NOISE_FACTOR = 3;

/**
 * `source` grown by up to `radius` pixels through pixels that agree with their image under `affine`,
 * and its copy under `affine`; `target` is the copy of `source` as verified (the growth never enters it).
 */
export function growCopyRim(gray: GrayImage, source: Uint8Array, target: Uint8Array, affine: Affine, radius: number): { source: Uint8Array; target: Uint8Array } {
  const { width: W, height: H, data } = gray;
  const box = maskBox(source, W);
  if (!box || radius <= 0) return { source, target };
  const diffAt = (i: number): number => {
    const x = i % W;
    const y = (i - x) / W;
    const u = affine[0] * x + affine[1] * y + affine[2];
    const v = affine[3] * x + affine[4] * y + affine[5];
    if (!(u >= 0 && v >= 0 && u <= W - 1 && v <= H - 1)) return Infinity;
    return Math.abs(data[i] - bilinear(data, W, H, u, v));
  };
  const tol = Math.max(MIN_TOLERANCE, NOISE_FACTOR * medianInside(source, box, W, diffAt));
  const grown = source.slice();
  let front: number[] = [];
  for (let y = box.y1; y < box.y2; y++) {
    for (let x = box.x1, i = y * W + box.x1; x < box.x2; x++, i++) if (grown[i] && isEdge(grown, i, W, H)) front.push(i);
  }
  let added = 0;
  for (let step = 0; step < radius && front.length > 0; step++) {
    const next: number[] = [];
    for (const i of front) {
      const x = i % W;
      for (const j of [x > 0 ? i - 1 : -1, x < W - 1 ? i + 1 : -1, i - W, i + W]) {
        if (j < 0 || j >= grown.length || grown[j] || target[j]) continue;
        if (diffAt(j) > tol) continue;
        grown[j] = 1;
        next.push(j);
      }
    }
    added += next.length;
    front = next;
  }
  return added === 0 ? { source, target } : { source: grown, target: mapMask(grown, W, H, affine) };
}

/** Median of `diffAt` over (at most about 4,096 evenly spaced) pixels of the region, read inside its box. */
function medianInside(region: Uint8Array, box: Box, W: number, diffAt: (i: number) => number): number {
  let area = 0;
  for (let y = box.y1; y < box.y2; y++) for (let i = y * W + box.x1; i < y * W + box.x2; i++) area += region[i];
  const step = Math.max(1, Math.floor(area / 4096));
  const diffs: number[] = [];
  let k = 0;
  for (let y = box.y1; y < box.y2; y++) {
    for (let i = y * W + box.x1; i < y * W + box.x2; i++) {
      if (!region[i] || k++ % step !== 0) continue;
      const d = diffAt(i);
      if (Number.isFinite(d)) diffs.push(d);
    }
  }
  if (diffs.length === 0) return 0;
  diffs.sort((a, b) => a - b);
  return diffs[diffs.length >> 1];
}

function isEdge(m: Uint8Array, i: number, W: number, H: number): boolean {
  const x = i % W;
  const y = (i - x) / W;
  return (x > 0 && !m[i - 1]) || (x < W - 1 && !m[i + 1]) || (y > 0 && !m[i - W]) || (y < H - 1 && !m[i + W]);
}
