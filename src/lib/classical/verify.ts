/**
 * Dense verification of a copy transform: the zero-mean normalised cross-correlation (ZNCC) of a
 * window around every pixel x with the window around its image A(x) says whether x was copied.
 * Textured pixels that agree, in components touching the RANSAC inliers, grow into the source
 * mask; flat pixels (ZNCC undefined) count only inside the inliers' hull where grey levels agree.
 * The copy's mask is the source mask mapped by A.
 */
import type { GrayImage } from './grayscale';
import { boxMean, close, components, convexHull, fillConvexPolygon, fillHoles } from './maskOps';
import type { ClassicalParams } from './params';
import { type Affine, type CopyTransform, applyAffine, invertAffine } from './ransac';

export interface VerifiedCopy {
  source: Uint8Array;
  target: Uint8Array;
  /** Mean ZNCC over the textured pixels of the source mask. */
  meanZncc: number;
  /** Fraction of the textured pixels in the source mask whose ZNCC passes the threshold. */
  support: number;
  sourceArea: number;
  targetArea: number;
}

/** I(A x) sampled bilinearly; `valid` marks x whose image lies inside the frame. */
function warp(gray: GrayImage, a: Affine): { values: Float32Array; valid: Uint8Array } {
  const { width: w, height: h, data } = gray;
  const values = new Float32Array(w * h);
  const valid = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    let sx = a[1] * y + a[2];
    let sy = a[4] * y + a[5];
    for (let x = 0; x < w; x++, sx += a[0], sy += a[3]) {
      if (sx < 0 || sy < 0 || sx > w - 1 || sy > h - 1) continue;
      const x0 = Math.min(w - 2, Math.floor(sx));
      const y0 = Math.min(h - 2, Math.floor(sy));
      const fx = sx - x0;
      const fy = sy - y0;
      const i = y0 * w + x0;
      const top = data[i] + fx * (data[i + 1] - data[i]);
      const bottom = data[i + w] + fx * (data[i + w + 1] - data[i + w]);
      values[y * w + x] = top + fy * (bottom - top);
      valid[y * w + x] = 1;
    }
  }
  return { values, valid };
}

/** Maps a mask by A (forward), sampling each output pixel from A^-1 (nearest neighbour). */
export function mapMask(m: Uint8Array, w: number, h: number, a: Affine): Uint8Array {
  const inv = invertAffine(a);
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [sx, sy] = applyAffine(inv, x, y);
      const ix = Math.round(sx);
      const iy = Math.round(sy);
      if (ix >= 0 && iy >= 0 && ix < w && iy < h && m[iy * w + ix]) out[y * w + x] = 1;
    }
  }
  return out;
}

export function verifyCopy(gray: GrayImage, t: CopyTransform, params: ClassicalParams): VerifiedCopy {
  const { width: w, height: h } = gray;
  const n = w * h;
  const a = t.affine;
  const img = Float32Array.from(gray.data);
  const { values: wv, valid } = warp(gray, a);
  const r = (params.znccWindow - 1) / 2;
  const sq = (v: Float32Array) => v.map((x) => x * x);
  const prod = new Float32Array(n);
  for (let i = 0; i < n; i++) prod[i] = img[i] * wv[i];
  const mI = boxMean(img, w, h, r);
  const mW = boxMean(wv, w, h, r);
  const mII = boxMean(sq(img), w, h, r);
  const mWW = boxMean(sq(wv), w, h, r);
  const mIW = boxMean(prod, w, h, r);
  const minD2 = params.minDistance * params.minDistance;

  const agree = new Uint8Array(n); // textured and correlated
  const textured = new Uint8Array(n);
  const flatAgree = new Uint8Array(n);
  const zncc = new Float32Array(n);
  for (let y = 0, i = 0; y < h; y++) {
    for (let x = 0; x < w; x++, i++) {
      if (!valid[i]) continue;
      const [tx, ty] = applyAffine(a, x, y);
      if ((tx - x) ** 2 + (ty - y) ** 2 < minD2) continue;
      const vI = mII[i] - mI[i] * mI[i];
      const vW = mWW[i] - mW[i] * mW[i];
      if (vI > params.minVariance && vW > params.minVariance) {
        textured[i] = 1;
        const z = (mIW[i] - mI[i] * mW[i]) / Math.sqrt(vI * vW);
        zncc[i] = z;
        if (z >= params.znccThreshold) agree[i] = 1;
      } else if (Math.abs(mI[i] - mW[i]) < 3) {
        flatAgree[i] = 1;
      }
    }
  }

  // Components of agreeing pixels that contain an inlier keypoint.
  const closed = close(agree, w, h, 2);
  const { labels, count } = components(closed, w, h);
  const keep = new Uint8Array(count + 1);
  for (let k = 0; k < t.src.length; k += 2) {
    const x = Math.round(t.src[k]);
    const y = Math.round(t.src[k + 1]);
    for (let dy = -2; dy <= 2; dy++) {
      for (let dx = -2; dx <= 2; dx++) {
        const xx = x + dx;
        const yy = y + dy;
        if (xx >= 0 && yy >= 0 && xx < w && yy < h) keep[labels[yy * w + xx]] = 1;
      }
    }
  }
  keep[0] = 0;
  const grown = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (keep[labels[i]]) grown[i] = 1;

  // Flat but equal pixels inside the hull of what was found (copied background, smooth bands).
  const hullPts: number[] = Array.from(t.src);
  for (let y = 0; y < h; y += 4) for (let x = 0; x < w; x += 4) if (grown[y * w + x]) hullPts.push(x, y);
  const hull = fillConvexPolygon(convexHull(hullPts), w, h);
  const source0 = new Uint8Array(n);
  for (let i = 0; i < n; i++) source0[i] = grown[i] || (hull[i] && (flatAgree[i] || agree[i])) ? 1 : 0;
  const source = fillHoles(close(source0, w, h, 2), w, h);

  let texturedIn = 0;
  let agreeIn = 0;
  let zSum = 0;
  let area = 0;
  for (let i = 0; i < n; i++) {
    if (!source[i]) continue;
    area++;
    if (textured[i]) {
      texturedIn++;
      zSum += zncc[i];
      if (agree[i]) agreeIn++;
    }
  }
  const target = mapMask(source, w, h, a);
  let targetArea = 0;
  for (let i = 0; i < n; i++) targetArea += target[i];
  return {
    source,
    target,
    meanZncc: texturedIn ? zSum / texturedIn : 0,
    support: texturedIn ? agreeIn / texturedIn : 0,
    sourceArea: area,
    targetArea,
  };
}
