/**
 * Box arithmetic of torchvision's detection models on plain arrays (boxes carry no gradient there
 * either: proposals are detached): the box coder, IoU, clipping, small-box removal and NMS.
 * A box list is a Float32Array of N x [x1, y1, x2, y2] in image pixels.
 */

/** torchvision's `BoxCoder` weights: (1,1,1,1) in the RPN, (10,10,5,5) in the box head. */
export type CoderWeights = readonly [number, number, number, number];

/** log(1000 / 16): the clamp on dw, dh before exp (torchvision `bbox_xform_clip`). */
export const BBOX_XFORM_CLIP = Math.log(1000 / 16);

/** Deltas of `gt` w.r.t. `ref` (both N x 4): torchvision `BoxCoder.encode_single`. */
export function encodeBoxes(gt: Float32Array, ref: Float32Array, w: CoderWeights): Float32Array {
  const out = new Float32Array(gt.length);
  for (let i = 0; i < gt.length; i += 4) {
    const rw = ref[i + 2] - ref[i];
    const rh = ref[i + 3] - ref[i + 1];
    const rx = ref[i] + 0.5 * rw;
    const ry = ref[i + 1] + 0.5 * rh;
    const gw = gt[i + 2] - gt[i];
    const gh = gt[i + 3] - gt[i + 1];
    out[i] = (w[0] * (gt[i] + 0.5 * gw - rx)) / rw;
    out[i + 1] = (w[1] * (gt[i + 1] + 0.5 * gh - ry)) / rh;
    out[i + 2] = w[2] * Math.log(gw / rw);
    out[i + 3] = w[3] * Math.log(gh / rh);
  }
  return out;
}

/**
 * Boxes from deltas: `deltas` holds K x 4 values per reference box (K classes), the result too
 * (torchvision `BoxCoder.decode`).
 */
export function decodeBoxes(deltas: Float32Array, ref: Float32Array, w: CoderWeights): Float32Array {
  const n = ref.length / 4;
  const k = deltas.length / ref.length;
  const out = new Float32Array(deltas.length);
  for (let i = 0; i < n; i++) {
    const rw = ref[i * 4 + 2] - ref[i * 4];
    const rh = ref[i * 4 + 3] - ref[i * 4 + 1];
    const rx = ref[i * 4] + 0.5 * rw;
    const ry = ref[i * 4 + 1] + 0.5 * rh;
    for (let c = 0; c < k; c++) {
      const o = (i * k + c) * 4;
      const cx = (deltas[o] / w[0]) * rw + rx;
      const cy = (deltas[o + 1] / w[1]) * rh + ry;
      const pw = Math.exp(Math.min(deltas[o + 2] / w[2], BBOX_XFORM_CLIP)) * rw;
      const ph = Math.exp(Math.min(deltas[o + 3] / w[3], BBOX_XFORM_CLIP)) * rh;
      out[o] = cx - 0.5 * pw;
      out[o + 1] = cy - 0.5 * ph;
      out[o + 2] = cx + 0.5 * pw;
      out[o + 3] = cy + 0.5 * ph;
    }
  }
  return out;
}

export function boxArea(b: Float32Array, i: number): number {
  return (b[i * 4 + 2] - b[i * 4]) * (b[i * 4 + 3] - b[i * 4 + 1]);
}

/** IoU of box i of `a` and box j of `b`. */
export function iou(a: Float32Array, i: number, b: Float32Array, j: number): number {
  const w = Math.min(a[i * 4 + 2], b[j * 4 + 2]) - Math.max(a[i * 4], b[j * 4]);
  const h = Math.min(a[i * 4 + 3], b[j * 4 + 3]) - Math.max(a[i * 4 + 1], b[j * 4 + 1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (boxArea(a, i) + boxArea(b, j) - inter);
}

/** Clamp every box into a height x width image (torchvision `clip_boxes_to_image`), in place. */
export function clipBoxes(b: Float32Array, height: number, width: number): Float32Array {
  for (let i = 0; i < b.length; i += 4) {
    b[i] = Math.min(Math.max(b[i], 0), width);
    b[i + 1] = Math.min(Math.max(b[i + 1], 0), height);
    b[i + 2] = Math.min(Math.max(b[i + 2], 0), width);
    b[i + 3] = Math.min(Math.max(b[i + 3], 0), height);
  }
  return b;
}

/** Indices of boxes at least `min` wide and high (torchvision `remove_small_boxes`). */
export function bigEnough(b: Float32Array, indices: readonly number[], min: number): number[] {
  return indices.filter((i) => b[i * 4 + 2] - b[i * 4] >= min && b[i * 4 + 3] - b[i * 4 + 1] >= min);
}

/**
 * Non-maximum suppression over `indices` (torchvision `nms`): by score, highest first, a box is
 * dropped when its IoU with a kept one exceeds `threshold`; boxes of different `groups` never
 * suppress each other (`batched_nms`). Returns kept indices, highest score first.
 */
export function nms(b: Float32Array, scores: ArrayLike<number>, indices: readonly number[], threshold: number, groups?: ArrayLike<number>): number[] {
  const order = [...indices].sort((x, y) => scores[y] - scores[x] || x - y);
  const kept: number[] = [];
  const suppressed = new Set<number>();
  for (let a = 0; a < order.length; a++) {
    const i = order[a];
    if (suppressed.has(i)) continue;
    kept.push(i);
    for (let c = a + 1; c < order.length; c++) {
      const j = order[c];
      if (suppressed.has(j) || (groups && groups[i] !== groups[j])) continue;
      if (iou(b, i, b, j) > threshold) suppressed.add(j);
    }
  }
  return kept;
}

/** The boxes at `indices`, as a new list. */
export function pickBoxes(b: Float32Array, indices: readonly number[]): Float32Array {
  const out = new Float32Array(indices.length * 4);
  indices.forEach((i, k) => out.set(b.subarray(i * 4, i * 4 + 4), k * 4));
  return out;
}
