/**
 * A region that touches its own copy is structure, not a copy-move.
 */
import { maskBox } from '../data/components';
import { dilate } from './maskOps';

/**
 * A pasted copy lies apart from its source, while a periodic texture (chart grids, ladders) or a
 * mirror-symmetric object (a band, a cell) matched with itself gives a "source" and "copy" that
 * overlap or touch (the two halves of the object; verification leaves out the pixels that
 * A moves by less than minDistance, so the halves end up that far apart). Above this share of
 * the smaller region lying within minDistance of the other, a transform is structure, not a copy.
 * (A copy pasted right next to its own source is lost this way; it looks like a symmetric object.)
 */
const MAX_SELF_CONTACT = 0.02;

/** Share of the smaller of a, b lying within `r` pixels (square neighbourhood) of the other. */
function contact(a: Uint8Array, b: Uint8Array, w: number, h: number, r: number): number {
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    na += a[i];
    nb += b[i];
  }
  const [small, other] = na <= nb ? [a, b] : [b, a];
  const box = maskBox(small, w);
  if (!box) return 0;
  // only the window around the smaller mask can hold pixels of the other within r of it
  const x0 = Math.max(0, box.x1 - r);
  const y0 = Math.max(0, box.y1 - r);
  const cw = Math.min(w, box.x2 + r) - x0;
  const ch = Math.min(h, box.y2 + r) - y0;
  const crop = new Uint8Array(cw * ch);
  for (let y = 0; y < ch; y++) crop.set(other.subarray((y + y0) * w + x0, (y + y0) * w + x0 + cw), y * cw);
  const near = dilate(crop, cw, ch, r);
  let touching = 0;
  for (let y = 0; y < ch; y++) for (let x = 0; x < cw; x++) if (small[(y + y0) * w + x + x0] && near[y * cw + x]) touching++;
  return touching / Math.max(1, Math.min(na, nb));
}

/** Whether source and copy (full-frame 0/1 masks) touch: more than MAX_SELF_CONTACT of the smaller within minDistance + 1 of the other. */
export function touchesItsCopy(source: Uint8Array, copy: Uint8Array, w: number, h: number, minDistance: number): boolean {
  return contact(source, copy, w, h, minDistance + 1) > MAX_SELF_CONTACT;
}
