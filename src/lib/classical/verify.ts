/**
 * Dense verification of a copy transform: the zero-mean normalised cross-correlation (ZNCC) of a
 * window around every pixel x with the window around its image A(x) says whether x was copied.
 * Textured pixels that agree, in components touching the RANSAC inliers, grow into the source
 * mask; flat pixels (ZNCC undefined) count only inside the hull of what was found, where grey
 * levels agree. The copy's mask is the source mask mapped by A.
 *
 * Work is confined to a window around the inliers, widened while the mask reaches its edge, so
 * the cost follows the size of the copy rather than of the image.
 */
import type { GrayImage } from './grayscale';
import { connectedComponents, maskBox } from '../data/components';
import { boxMean, close, convexHull, fillConvexPolygon, fillHoles } from './maskOps';
import type { ClassicalParams } from './params';
import { type Affine, type CopyTransform, invertAffine } from './ransac';
import { isInvolution, oneSidePerPair } from './involution';
import { touchesItsCopy } from './selfContact';

export interface VerifiedCopy {
  /** Full-size (working image) 0/1 masks. */
  source: Uint8Array;
  target: Uint8Array;
  /** Mean ZNCC over the textured pixels of the source mask. */
  meanZncc: number;
  /** Fraction of the textured pixels in the source mask whose ZNCC passes the threshold. */
  support: number;
  /**
   * Correlation of the fine detail (image minus its 5x5 mean) between source and copy over the
   * source mask: a copy carries its source's noise and grain along, while independently drawn
   * look-alike structure (blot bands, lanes) only shares the smooth shape.
   */
  detail: number;
  sourceArea: number;
  targetArea: number;
}

interface Roi {
  x0: number;
  y0: number;
  w: number;
  h: number;
}

/** Maps a mask by A (forward), sampling each output pixel from A^-1 (nearest neighbour). */
export function mapMask(m: Uint8Array, w: number, h: number, a: Affine): Uint8Array {
  const out = new Uint8Array(w * h);
  const box = maskBox(m, w);
  if (!box) return out;
  // only the image of the mask's box can be on
  const xs: number[] = [];
  const ys: number[] = [];
  for (const [cx, cy] of [[box.x1, box.y1], [box.x2, box.y1], [box.x1, box.y2], [box.x2, box.y2]]) {
    xs.push(a[0] * cx + a[1] * cy + a[2]);
    ys.push(a[3] * cx + a[4] * cy + a[5]);
  }
  const x0 = Math.max(0, Math.floor(Math.min(...xs)) - 2);
  const x1 = Math.min(w, Math.ceil(Math.max(...xs)) + 2);
  const y0 = Math.max(0, Math.floor(Math.min(...ys)) - 2);
  const y1 = Math.min(h, Math.ceil(Math.max(...ys)) + 2);
  const inv = invertAffine(a);
  for (let y = y0; y < y1; y++) {
    let sx = inv[0] * x0 + inv[1] * y + inv[2];
    let sy = inv[3] * x0 + inv[4] * y + inv[5];
    for (let x = x0; x < x1; x++, sx += inv[0], sy += inv[3]) {
      const ix = Math.round(sx);
      const iy = Math.round(sy);
      if (ix >= 0 && iy >= 0 && ix < w && iy < h && m[iy * w + ix]) out[y * w + x] = 1;
    }
  }
  return out;
}

/**
 * Box means of the image alone (mean, mean square and grain over the ZNCC window, and the 5x5 mean of
 * the fine detail), computed once over the whole frame: every transform's verification reads them.
 */
export interface ImageWindows {
  mean: Float32Array;
  meanSquare: Float32Array;
  grain: Float32Array;
  fineMean: Float32Array;
}

/** Fine detail is the image minus its mean over this radius (5x5). */
const FINE_RADIUS = 2;
/** verifyCopy's first window: at least this many pixels, or this share of the inliers' extent, around them. */
const FIRST_MARGIN = 16;
const FIRST_MARGIN_SHARE = 0.5;

export function imageWindows(gray: GrayImage, params: ClassicalParams): ImageWindows {
  const { width: w, height: h, data } = gray;
  const n = w * h;
  const img = Float32Array.from(data);
  const sq = new Float32Array(n);
  const grain = new Float32Array(n);
  for (let y = 0, i = 0; y < h; y++) {
    for (let x = 0; x < w; x++, i++) {
      sq[i] = img[i] * img[i];
      grain[i] = x < w - 1 && y < h - 1 && img[i] !== img[i + 1] && img[i] !== img[i + w] ? 1 : 0;
    }
  }
  const r = (params.znccWindow - 1) / 2;
  return { mean: boxMean(img, w, h, r), meanSquare: boxMean(sq, w, h, r), grain: boxMean(grain, w, h, r), fineMean: boxMean(img, w, h, FINE_RADIUS) };
}

export function verifyCopy(gray: GrayImage, t: CopyTransform, params: ClassicalParams, windows: ImageWindows = imageWindows(gray, params)): VerifiedCopy {
  const { width: W, height: H } = gray;
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let k = 0; k < t.src.length; k += 2) {
    minX = Math.min(minX, t.src[k]);
    maxX = Math.max(maxX, t.src[k]);
    minY = Math.min(minY, t.src[k + 1]);
    maxY = Math.max(maxY, t.src[k + 1]);
  }
  // The first window reaches half the inliers' extent past them; it doubles while the mask meets
  // its edge, so a tight first window costs one more pass for the few masks that outgrow it and
  // saves about a fifth of the verification time on the many that do not.
  let margin = Math.max(FIRST_MARGIN, FIRST_MARGIN_SHARE * (maxX - minX), FIRST_MARGIN_SHARE * (maxY - minY));
  // an involution's copy verifies as source too (involution.ts): one side of each pair is the source
  const involution = isInvolution(t.affine, W, H);
  for (;;) {
    const x0 = Math.max(0, Math.floor(minX - margin));
    const y0 = Math.max(0, Math.floor(minY - margin));
    const x1 = Math.min(W, Math.ceil(maxX + margin + 1));
    const y1 = Math.min(H, Math.ceil(maxY + margin + 1));
    const roi = { x0, y0, w: x1 - x0, h: y1 - y0 };
    const whole = x0 === 0 && y0 === 0 && x1 === W && y1 === H;
    const found = verifyInRoi(gray, windows, t, params, roi);
    // a source over maxEventShare of the image is repetitive structure, which the gate drops: no need to grow it further
    const settled = whole || found.sourceArea > params.maxEventShare * W * H || !touchesInnerEdge(found.source, roi, W, H);
    if (settled || !involution) {
      const source = involution ? oneSidePerPair(found.source, W, H, t.affine, 2 * params.minDistance) : found.source;
      const target = mapMask(source, W, H, t.affine);
      // nor one that already touches its own copy (periodic or symmetric structure, which detection rejects)
      if (settled || touchesItsCopy(source, target, W, H, params.minDistance)) {
        return { ...found, source, sourceArea: countOnes(source), target, targetArea: countOnes(target) };
      }
    }
    margin *= 2;
  }
}

function countOnes(m: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < m.length; i++) n += m[i];
  return n;
}

/** Whether the mask reaches an edge of the window that is not an edge of the image. */
function touchesInnerEdge(m: Uint8Array, roi: Roi, W: number, H: number): boolean {
  const { x0, y0, w, h } = roi;
  const check = (x: number, y: number) => m[y * W + x] === 1;
  for (let x = x0; x < x0 + w; x++) {
    if (y0 > 0 && check(x, y0)) return true;
    if (y0 + h < H && check(x, y0 + h - 1)) return true;
  }
  for (let y = y0; y < y0 + h; y++) {
    if (x0 > 0 && check(x0, y)) return true;
    if (x0 + w < W && check(x0 + w - 1, y)) return true;
  }
  return false;
}

function verifyInRoi(
  gray: GrayImage,
  windows: ImageWindows,
  t: CopyTransform,
  params: ClassicalParams,
  roi: Roi,
): Omit<VerifiedCopy, 'target' | 'targetArea'> {
  // the warp is taken over the window padded by the box radius, so that its box means at the window's
  // edge cover the same pixels as the image's own (whole-frame) box means
  const pad = padRoi(roi, Math.max((params.znccWindow - 1) / 2, FINE_RADIUS), gray.width, gray.height);
  const warp = warpWindow(gray, t.affine, pad);
  const corr = localZncc(warp, windows, gray.width, t.affine, roi, pad, params);
  const local = sourceRegion(corr, t, roi);
  return measureSource(gray, windows, warp, corr, local, roi, pad);
}

function padRoi(roi: Roi, r: number, W: number, H: number): Roi {
  const x0 = Math.max(0, roi.x0 - r);
  const y0 = Math.max(0, roi.y0 - r);
  return { x0, y0, w: Math.min(W, roi.x0 + roi.w + r) - x0, h: Math.min(H, roi.y0 + roi.h + r) - y0 };
}

/** The value of v (W x H, row-major) at (x, y), 0 <= x <= W - 1 and 0 <= y <= H - 1, bilinear. */
export function bilinear(v: ArrayLike<number>, W: number, H: number, x: number, y: number): number {
  const x0 = Math.min(W - 2, Math.floor(x));
  const y0 = Math.min(H - 2, Math.floor(y));
  const fx = x - x0;
  const fy = y - y0;
  const j = y0 * W + x0;
  const top = v[j] + fx * (v[j + 1] - v[j]);
  const bottom = v[j + W] + fx * (v[j + W + 1] - v[j + W]);
  return top + fy * (bottom - top);
}

/** The window and the image under the transform over it. */
interface Warped {
  /** img(x) and warped(x) = F(A x) over the window (F: `from`, the image itself by default), bilinear; valid marks A x inside the frame. */
  img: Float32Array;
  wv: Float32Array;
  valid: Uint8Array;
}

function warpWindow(gray: GrayImage, a: Affine, roi: Roi, from: GrayImage = gray): Warped {
  const { width: W, height: H, data } = gray;
  const warped = from.data;
  const { x0, y0, w, h } = roi;
  const n = w * h;
  const img = new Float32Array(n);
  const wv = new Float32Array(n);
  const valid = new Uint8Array(n);
  for (let y = 0; y < h; y++) {
    const gy = y + y0;
    let sx = a[0] * x0 + a[1] * gy + a[2];
    let sy = a[3] * x0 + a[4] * gy + a[5];
    for (let x = 0; x < w; x++, sx += a[0], sy += a[3]) {
      const i = y * w + x;
      img[i] = data[gy * W + x + x0];
      if (sx < 0 || sy < 0 || sx > W - 1 || sy > H - 1) continue;
      wv[i] = bilinear(warped, W, H, sx, sy);
      valid[i] = 1;
    }
  }
  return { img, wv, valid };
}

/** Per-pixel ZNCC of the window with its warp, and which pixels are textured, correlated or flat but equal. */
interface Correlation {
  /** Textured and correlated. */
  agree: Uint8Array;
  textured: Uint8Array;
  flatAgree: Uint8Array;
  zncc: Float32Array;
}

/**
 * Below minVariance, ZNCC measures noise, but a window of grain (many pixels differ from both their
 * right-hand and lower neighbours) that equals its warp value for value was copied: faint noise never
 * repeats by chance, while flat rendered graphics with a faint edge (scale-bar strips, chart fills)
 * and smooth texture constant along one axis (a gel's lanes, moved along themselves) do.
 * (Grey levels are integers, so one differing pixel of a 7x7 window gives a mean squared difference of 1/49.)
 */
const MIN_EXACT_VARIANCE = 0.1;
const MIN_GRAIN = 0.35;
const MAX_EXACT_MSD = 0.01;

function localZncc(warp: Warped, windows: ImageWindows, W: number, a: Affine, roi: Roi, pad: Roi, params: ClassicalParams): Correlation {
  const { img, wv, valid } = warp;
  const { x0, y0, w, h } = roi;
  const n = w * h;
  const r = (params.znccWindow - 1) / 2;
  const np = pad.w * pad.h;
  const ww = new Float32Array(np);
  const iw = new Float32Array(np);
  const dd = new Float32Array(np);
  for (let i = 0; i < np; i++) {
    ww[i] = wv[i] * wv[i];
    iw[i] = img[i] * wv[i];
    dd[i] = (img[i] - wv[i]) * (img[i] - wv[i]);
  }
  const mW = boxMean(wv, pad.w, pad.h, r);
  const mWW = boxMean(ww, pad.w, pad.h, r);
  const mIW = boxMean(iw, pad.w, pad.h, r);
  const mDD = boxMean(dd, pad.w, pad.h, r);
  const { mean: mI, meanSquare: mII, grain: mGrain } = windows;
  const minD2 = params.minDistance * params.minDistance;

  const agree = new Uint8Array(n);
  const textured = new Uint8Array(n);
  const flatAgree = new Uint8Array(n);
  const zncc = new Float32Array(n);
  for (let y = 0, i = 0; y < h; y++) {
    const gy = y + y0;
    // g: the pixel in the frame, q: in the padded window
    for (let x = 0, g = gy * W + x0, q = (gy - pad.y0) * pad.w + x0 - pad.x0; x < w; x++, i++, g++, q++) {
      if (!valid[q]) continue;
      const gx = x + x0;
      const dx = a[0] * gx + a[1] * gy + a[2] - gx;
      const dy = a[3] * gx + a[4] * gy + a[5] - gy;
      if (dx * dx + dy * dy < minD2) continue;
      const vI = mII[g] - mI[g] * mI[g];
      const vW = mWW[q] - mW[q] * mW[q];
      if (vI > params.minVariance && vW > params.minVariance) {
        textured[i] = 1;
        const z = (mIW[q] - mI[g] * mW[q]) / Math.sqrt(vI * vW);
        zncc[i] = z;
        if (z >= params.znccThreshold) agree[i] = 1;
      } else if (vI > MIN_EXACT_VARIANCE && mGrain[g] >= MIN_GRAIN && mDD[q] < MAX_EXACT_MSD) {
        // faint texture (dark background noise, grain) copied without change: equal value for value
        textured[i] = 1;
        zncc[i] = 1;
        agree[i] = 1;
      } else if (Math.abs(mI[g] - mW[q]) < 3) {
        flatAgree[i] = 1;
      }
    }
  }
  return { agree, textured, flatAgree, zncc };
}

/**
 * The source region in the window: components of agreeing pixels that contain an inlier keypoint,
 * plus flat but equal pixels inside the hull of what was found (copied background, smooth bands),
 * closed and with holes filled.
 */
function sourceRegion(corr: Correlation, t: CopyTransform, roi: Roi): Uint8Array {
  const { agree, flatAgree } = corr;
  const { x0, y0, w, h } = roi;
  const n = w * h;
  const { labels, count } = connectedComponents(close(agree, w, h, 2), h, w);
  const keep = new Uint8Array(count + 1);
  for (let k = 0; k < t.src.length; k += 2) {
    const px = Math.round(t.src[k]) - x0;
    const py = Math.round(t.src[k + 1]) - y0;
    for (let dy = -2; dy <= 2; dy++) {
      for (let dx = -2; dx <= 2; dx++) {
        const xx = px + dx;
        const yy = py + dy;
        if (xx >= 0 && yy >= 0 && xx < w && yy < h) keep[labels[yy * w + xx]] = 1;
      }
    }
  }
  keep[0] = 0;
  const grown = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (keep[labels[i]]) grown[i] = 1;

  const hullPts: number[] = [];
  for (let k = 0; k < t.src.length; k += 2) hullPts.push(t.src[k] - x0, t.src[k + 1] - y0);
  for (let y = 0; y < h; y += 2) for (let x = 0; x < w; x += 2) if (grown[y * w + x]) hullPts.push(x, y);
  const hull = fillConvexPolygon(convexHull(hullPts), w, h);
  const source0 = new Uint8Array(n);
  for (let i = 0; i < n; i++) source0[i] = grown[i] || (hull[i] && (flatAgree[i] || agree[i])) ? 1 : 0;
  return fillHoles(close(source0, w, h, 2), w, h);
}

/** The source at the image's size, its area, mean ZNCC and support over its textured pixels, and the fine-detail correlation. */
function measureSource(
  gray: GrayImage,
  windows: ImageWindows,
  warp: Warped,
  corr: Correlation,
  local: Uint8Array,
  roi: Roi,
  pad: Roi,
): Omit<VerifiedCopy, 'target' | 'targetArea'> {
  const { width: W, height: H } = gray;
  const { img, wv, valid } = warp;
  const { agree, textured, zncc } = corr;
  const { x0, y0, w, h } = roi;
  const fineW = boxMean(wv, pad.w, pad.h, FINE_RADIUS);
  let sIW = 0;
  let sII = 0;
  let sWW = 0;
  const source = new Uint8Array(W * H);
  let texturedIn = 0;
  let agreeIn = 0;
  let zSum = 0;
  let area = 0;
  for (let y = 0, i = 0; y < h; y++) {
    for (let x = 0; x < w; x++, i++) {
      if (!local[i]) continue;
      const g = (y + y0) * W + x + x0;
      const q = (y + y0 - pad.y0) * pad.w + x + x0 - pad.x0;
      source[g] = 1;
      area++;
      if (valid[q]) {
        const di = img[q] - windows.fineMean[g];
        const dw = wv[q] - fineW[q];
        sIW += di * dw;
        sII += di * di;
        sWW += dw * dw;
      }
      if (textured[i]) {
        texturedIn++;
        zSum += zncc[i];
        if (agree[i]) agreeIn++;
      }
    }
  }
  return {
    source,
    meanZncc: texturedIn ? zSum / texturedIn : 0,
    support: texturedIn ? agreeIn / texturedIn : 0,
    detail: sII > 0 && sWW > 0 ? sIW / Math.sqrt(sII * sWW) : 0,
    sourceArea: area,
  };
}

/**
 * Mean local ZNCC (textured pixels only, as verification's meanZncc) between `image` at the pixels
 * of `region` (a 0/1 mask of the frame) and `other` at A x: with other = image, what verification
 * measured over that region; with one of them filtered, how well the copy agrees with its source
 * filtered alike. `windows` are image's (imageWindows).
 */
export function agreementOver(image: GrayImage, windows: ImageWindows, other: GrayImage, region: Uint8Array, a: Affine, params: ClassicalParams): number {
  const { width: W, height: H } = image;
  const box = maskBox(region, W);
  if (!box) return 0;
  const { x1: x0, y1: y0 } = box;
  const roi = { x0, y0, w: box.x2 - x0, h: box.y2 - y0 };
  const pad = padRoi(roi, (params.znccWindow - 1) / 2, W, H);
  const corr = localZncc(warpWindow(image, a, pad, other), windows, W, a, roi, pad, params);
  let sum = 0;
  let n = 0;
  for (let y = 0, i = 0; y < roi.h; y++) {
    for (let x = 0; x < roi.w; x++, i++) {
      if (!region[(y + y0) * W + x + x0] || !corr.textured[i]) continue;
      sum += corr.zncc[i];
      n++;
    }
  }
  return n ? sum / n : 0;
}

/** The shift (pixels) of detailDrop. */
const PEAK_SHIFT = 2;

/**
 * How much the fine-detail correlation of a verified copy falls when the transform is moved
 * PEAK_SHIFT pixels along the axis where it falls least. A copy carries its source's grain and
 * agrees with it at one registration only; look-alike structure that runs along an axis (blot
 * bands, gel lanes, chart strokes and gridlines, smooth gradients) agrees as well shifted along it.
 */
export function detailDrop(gray: GrayImage, windows: ImageWindows, source: Uint8Array, a: Affine): number {
  const box = maskBox(source, gray.width);
  const pixels: number[] = [];
  if (box) {
    for (let y = box.y1; y <= box.y2; y++) for (let x = box.x1, g = y * gray.width + x; x <= box.x2; x++, g++) if (source[g]) pixels.push(g);
  }
  return detailDropAt(gray, windows, pixels, a);
}

/** detailDrop over a list of pixels (indices y * W + x) rather than a mask. */
export function detailDropAt(gray: GrayImage, windows: ImageWindows, pixels: readonly number[], a: Affine): number {
  const shifts = [[PEAK_SHIFT, 0], [-PEAK_SHIFT, 0], [0, PEAK_SHIFT], [0, -PEAK_SHIFT]];
  const off = Math.max(...shifts.map(([sx, sy]) => detailAt(gray, windows, pixels, a, sx, sy)));
  return detailAt(gray, windows, pixels, a, 0, 0) - off;
}

/**
 * The transform moved by the whole-pixel shift (at most maxShift each way) where the fine-detail
 * correlation at the pixels peaks, by hill climbing from no shift: a proposal whose translation is
 * off by a pixel or two (near-duplicate blocks vote on a grid, and a noised copy's best block
 * twin need not be its own position) would otherwise show its peak beside itself, not at itself.
 */
export function registerByDetail(gray: GrayImage, windows: ImageWindows, pixels: readonly number[], a: Affine, maxShift: number): Affine {
  let sx = 0;
  let sy = 0;
  let best = detailAt(gray, windows, pixels, a, 0, 0);
  for (;;) {
    let next: [number, number] | undefined;
    for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
      const x = sx + dx;
      const y = sy + dy;
      if (Math.abs(x) > maxShift || Math.abs(y) > maxShift) continue;
      const c = detailAt(gray, windows, pixels, a, x, y);
      if (c > best) {
        best = c;
        next = [x, y];
      }
    }
    if (!next) break;
    [sx, sy] = next;
  }
  return sx === 0 && sy === 0 ? a : [a[0], a[1], a[2] + sx, a[3], a[4], a[5] + sy];
}

/**
 * Fine-detail correlation (image minus its 5x5 mean) between the given pixels x and the image at
 * A x + (sx, sy), bilinear (the warp's 5x5 mean is sampled from the image's).
 */
export function detailAt(gray: GrayImage, windows: ImageWindows, pixels: readonly number[], a: Affine, sx = 0, sy = 0): number {
  const { width: W, height: H, data } = gray;
  const fm = windows.fineMean;
  let sIW = 0;
  let sII = 0;
  let sWW = 0;
  for (const g of pixels) {
    const y = Math.floor(g / W);
    const x = g - y * W;
    const px = a[0] * x + a[1] * y + a[2] + sx;
    const py = a[3] * x + a[4] * y + a[5] + sy;
    if (px < 0 || py < 0 || px > W - 1 || py > H - 1) continue;
    const dw = bilinear(data, W, H, px, py) - bilinear(fm, W, H, px, py);
    const di = data[g] - fm[g];
    sIW += di * dw;
    sII += di * di;
    sWW += dw * dw;
  }
  return sII > 0 && sWW > 0 ? sIW / Math.sqrt(sII * sWW) : 0;
}
