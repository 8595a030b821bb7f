/**
 * Binary mask operations on Uint8Array (H*W, values 0/1) used by dense verification:
 * morphology, connected components, hole filling, convex hull rasterisation, box means.
 */

/**
 * Mean over a (2r+1)^2 window clipped at the borders (separable running sums). The vertical pass
 * keeps one running sum per column and walks the rows in order: walking down columns strides by the
 * row length, which at power-of-two widths (1,024 px working images) thrashes the cache (2x slower).
 */
export function boxMean(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  // interior windows hold 2r + 1 pixels and need no clipping: the loops are split so that only the
  // r columns (rows) at each border pay for it
  const full = 2 * r + 1;
  const left = Math.min(r, w);
  const right = Math.max(left, w - r - 1);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let sum = 0;
    for (let x = 0; x <= Math.min(r, w - 1); x++) sum += src[row + x];
    let x = 0;
    for (; x < left; x++) {
      tmp[row + x] = sum / (Math.min(w - 1, x + r) + 1);
      if (x + r + 1 < w) sum += src[row + x + r + 1];
    }
    for (; x < right; x++) {
      tmp[row + x] = sum / full;
      sum += src[row + x + r + 1];
      sum -= src[row + x - r];
    }
    for (; x < w; x++) {
      tmp[row + x] = sum / (w - Math.max(0, x - r));
      if (x + r + 1 < w) sum += src[row + x + r + 1];
      if (x - r >= 0) sum -= src[row + x - r];
    }
  }
  const colSum = new Float64Array(w);
  for (let y = 0; y <= Math.min(r, h - 1); y++) for (let x = 0, j = y * w; x < w; x++, j++) colSum[x] += tmp[j];
  for (let y = 0; y < h; y++) {
    const count = Math.min(h - 1, y + r) - Math.max(0, y - r) + 1;
    const add = y + r + 1 < h ? (y + r + 1) * w : -1;
    const sub = y - r >= 0 ? (y - r) * w : -1;
    const row = y * w;
    if (add >= 0 && sub >= 0) {
      // one pass over the row: emit, then slide the column sums down (same sums, in the same order)
      for (let x = 0; x < w; x++) {
        const c = colSum[x];
        out[row + x] = c / count;
        colSum[x] = c + tmp[add + x] - tmp[sub + x];
      }
      continue;
    }
    for (let x = 0; x < w; x++) out[row + x] = colSum[x] / count;
    if (add >= 0) for (let x = 0; x < w; x++) colSum[x] += tmp[add + x];
    if (sub >= 0) for (let x = 0; x < w; x++) colSum[x] -= tmp[sub + x];
  }
  return out;
}

/**
 * Square structuring element of radius r: max (dilate) or min (erode) filter, separable. Each pass
 * keeps a running count of hit pixels in the window (O(1) per pixel whatever r), and the vertical
 * pass walks rows in order with one count per column.
 */
function morph(m: Uint8Array, w: number, h: number, r: number, dilate: boolean): Uint8Array {
  // a hit is a 1 for dilation and a 0 for erosion: m[i] ^ flip is 1 on a hit (branch-free counting)
  const flip = dilate ? 0 : 1;
  const rowHits = new Uint8Array(w * h);
  // x in [0, enter) has a pixel entering the window at x + r; x in [leave, w) one leaving at x - r - 1
  const enter = Math.max(0, w - r);
  const leave = Math.min(w, r + 1);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let count = 0;
    for (let x = 0; x < Math.min(r, w); x++) count += m[row + x] ^ flip;
    let x = 0;
    for (; x < Math.min(enter, leave); x++) {
      count += m[row + x + r] ^ flip;
      rowHits[row + x] = count > 0 ? 1 : 0;
    }
    for (; x < enter; x++) {
      count += (m[row + x + r] ^ flip) - (m[row + x - r - 1] ^ flip);
      rowHits[row + x] = count > 0 ? 1 : 0;
    }
    for (; x < w; x++) {
      if (x - r - 1 >= 0) count -= m[row + x - r - 1] ^ flip;
      rowHits[row + x] = count > 0 ? 1 : 0;
    }
  }
  const out = new Uint8Array(w * h);
  const colCount = new Int32Array(w);
  for (let y = 0; y < Math.min(r, h); y++) for (let x = 0, j = y * w; x < w; x++, j++) colCount[x] += rowHits[j];
  for (let y = 0; y < h; y++) {
    const add = y + r < h ? (y + r) * w : -1;
    const sub = y - r - 1 >= 0 ? (y - r - 1) * w : -1;
    const o = y * w;
    if (add >= 0 && sub >= 0) {
      for (let x = 0; x < w; x++) {
        const c = colCount[x] + rowHits[add + x] - rowHits[sub + x];
        colCount[x] = c;
        out[o + x] = (c > 0 ? 1 : 0) ^ flip;
      }
      continue;
    }
    if (add >= 0) for (let x = 0; x < w; x++) colCount[x] += rowHits[add + x];
    if (sub >= 0) for (let x = 0; x < w; x++) colCount[x] -= rowHits[sub + x];
    for (let x = 0; x < w; x++) out[o + x] = (colCount[x] > 0 ? 1 : 0) ^ flip;
  }
  return out;
}

export const dilate = (m: Uint8Array, w: number, h: number, r: number) => morph(m, w, h, r, true);
export const erode = (m: Uint8Array, w: number, h: number, r: number) => morph(m, w, h, r, false);
export const close = (m: Uint8Array, w: number, h: number, r: number) => erode(dilate(m, w, h, r), w, h, r);

/** Sets every background pixel not 4-connected to the border (holes) to 1. */
export function fillHoles(m: Uint8Array, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h).fill(1);
  // each pixel enters the stack at most once
  const stack = new Int32Array(w * h);
  let top = 0;
  const seed = (i: number) => {
    if (!m[i] && out[i]) {
      out[i] = 0;
      stack[top++] = i;
    }
  };
  for (let x = 0; x < w; x++) {
    seed(x);
    seed((h - 1) * w + x);
  }
  for (let y = 0; y < h; y++) {
    seed(y * w);
    seed(y * w + w - 1);
  }
  while (top > 0) {
    const p = stack[--top];
    const x = p % w;
    if (x > 0) seed(p - 1);
    if (x < w - 1) seed(p + 1);
    if (p >= w) seed(p - w);
    if (p < (h - 1) * w) seed(p + w);
  }
  return out;
}

/** Convex hull (monotone chain) of points given as [x0, y0, x1, y1, ...], counter-clockwise. */
export function convexHull(pts: ArrayLike<number>): Array<[number, number]> {
  const p: Array<[number, number]> = [];
  for (let i = 0; i + 1 < pts.length; i += 2) p.push([pts[i], pts[i + 1]]);
  p.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length < 3) return p;
  const cross = (o: [number, number], a: [number, number], b: [number, number]) =>
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Array<[number, number]> = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], q) <= 0) lower.pop();
    lower.push(q);
  }
  const upper: Array<[number, number]> = [];
  for (let i = p.length - 1; i >= 0; i--) {
    const q = p[i];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], q) <= 0) upper.pop();
    upper.push(q);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

/** Rasterises a convex polygon: pixel centres inside or on the boundary become 1. */
export function fillConvexPolygon(poly: Array<[number, number]>, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h);
  if (poly.length < 3) return out;
  const ys = poly.map((q) => q[1]);
  const y0 = Math.max(0, Math.ceil(Math.min(...ys)));
  const y1 = Math.min(h - 1, Math.floor(Math.max(...ys)));
  for (let y = y0; y <= y1; y++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < poly.length; i++) {
      const [ax, ay] = poly[i];
      const [bx, by] = poly[(i + 1) % poly.length];
      if ((ay <= y && by >= y) || (by <= y && ay >= y)) {
        if (ay === by) {
          lo = Math.min(lo, ax, bx);
          hi = Math.max(hi, ax, bx);
        } else {
          const x = ax + ((y - ay) / (by - ay)) * (bx - ax);
          lo = Math.min(lo, x);
          hi = Math.max(hi, x);
        }
      }
    }
    for (let x = Math.max(0, Math.ceil(lo)); x <= Math.min(w - 1, Math.floor(hi)); x++) out[y * w + x] = 1;
  }
  return out;
}
