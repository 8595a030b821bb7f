/**
 * Copies under an involution: a flip about an axis or a half turn maps the copy back onto its
 * source (A(A(x)) = x), so dense verification, seeded on both sides, grows one "source" over the
 * source and the copy alike, and the copy mask A(source) is the same pixels again: source and copy
 * seem to touch, which is what a mirror-symmetric object looks like. What tells them apart is the
 * layout: a pasted copy lies apart from its source, so the verified region falls into pairs of
 * separate components C and A(C); a symmetric object is one component that A maps onto itself.
 * Keeping one member of each pair as the source makes source and copy disjoint again, and the
 * touching rule (detect.ts) then judges what is left.
 */
import { boxGap, connectedComponents, maskBox } from '../data/components';
import type { Affine } from './geometry';

/** Whether A(A(x)) = x within `tol` pixels at the corners of the w x h frame. */
export function isInvolution(a: Affine, w: number, h: number, tol = 1): boolean {
  for (const [x, y] of [[0, 0], [w, 0], [0, h], [w, h]]) {
    const x1 = a[0] * x + a[1] * y + a[2];
    const y1 = a[3] * x + a[4] * y + a[5];
    const x2 = a[0] * x1 + a[1] * y1 + a[2];
    const y2 = a[3] * x1 + a[4] * y1 + a[5];
    if (Math.hypot(x2 - x, y2 - y) > tol) return false;
  }
  return true;
}

/** Share of the smaller of two components that A must carry onto the other for them to pair up. */
const MIN_PAIRING = 0.5;

/**
 * The source mask (W*H, 0/1) with one member of each pair of components that A maps onto each
 * other removed (the larger stays, as the source); components A maps onto themselves, or onto
 * nothing verified, stay. A pair whose boxes lie `minGap` pixels apart or closer is the two halves
 * of one symmetric object (verification leaves out a band around the mirror axis) and stays.
 * Returns `source` itself when nothing pairs up.
 */
export function oneSidePerPair(source: Uint8Array, W: number, H: number, a: Affine, minGap: number): Uint8Array {
  const box = maskBox(source, W);
  if (!box) return source;
  const { x1: x0, y1: y0 } = box;
  const w = box.x2 - x0;
  const h = box.y2 - y0;
  const crop = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) crop.set(source.subarray((y + y0) * W + x0, (y + y0) * W + x0 + w), y * w);
  const { labels, count, boxes, areas } = connectedComponents(crop, h, w);
  if (count < 2) return source;
  // areas and boxes are indexed by label - 1
  const partner = partners(labels, count, areas, w, h, x0, y0, a);
  const drop = new Uint8Array(count + 1);
  const order = Array.from({ length: count }, (_, k) => k + 1).sort((i, j) => areas[j - 1] - areas[i - 1]);
  const done = new Uint8Array(count + 1);
  for (const k of order) {
    if (done[k]) continue;
    done[k] = 1;
    const j = partner[k];
    if (j > 0 && j !== k && !done[j] && partner[j] === k && boxGap(boxes[k - 1], boxes[j - 1]) > minGap) {
      drop[j] = 1;
      done[j] = 1;
    }
  }
  if (!drop.some((d) => d)) return source;
  const out = source.slice();
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (drop[labels[y * w + x]]) out[(y + y0) * W + x + x0] = 0;
  return out;
}

/** For each component, the component receiving most of its pixels under A (0: none, or too few for MIN_PAIRING). */
function partners(labels: Int32Array, count: number, areas: readonly number[], w: number, h: number, x0: number, y0: number, a: Affine): Int32Array {
  const hits = new Map<number, number>();
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const l = labels[y * w + x];
      if (!l) continue;
      const gx = x + x0;
      const gy = y + y0;
      const mx = Math.round(a[0] * gx + a[1] * gy + a[2]) - x0;
      const my = Math.round(a[3] * gx + a[4] * gy + a[5]) - y0;
      if (mx < 0 || my < 0 || mx >= w || my >= h) continue;
      const m = labels[my * w + mx];
      if (m) hits.set(l * (count + 1) + m, (hits.get(l * (count + 1) + m) ?? 0) + 1);
    }
  }
  const best = new Int32Array(count + 1);
  const bestHits = new Int32Array(count + 1);
  for (const [key, n] of hits) {
    const l = Math.floor(key / (count + 1));
    const m = key % (count + 1);
    if (n > bestHits[l]) {
      bestHits[l] = n;
      best[l] = m;
    }
  }
  for (let l = 1; l <= count; l++) if (best[l] && bestHits[l] < MIN_PAIRING * Math.min(areas[l - 1], areas[best[l] - 1])) best[l] = 0;
  return best;
}
