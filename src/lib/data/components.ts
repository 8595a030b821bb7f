import { DatasetError } from '../errors';
import { maskChannel, type Masks } from './types';

/** Axis-aligned box in pixels; x2/y2 exclusive. */
export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** Gap between two boxes in pixels (the free pixels between them; 0 when they touch or overlap), Chebyshev. */
export function boxGap(a: Box, b: Box): number {
  const dx = Math.max(0, a.x1 - b.x2, b.x1 - a.x2);
  const dy = Math.max(0, a.y1 - b.y2, b.y1 - a.y2);
  return Math.max(dx, dy);
}

/** Bounding box of the on pixels of a 0/1 plane of the given width, or null when none is on. */
export function maskBox(m: Uint8Array, width: number): Box | null {
  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = -1;
  let y2 = -1;
  for (let p = 0; p < m.length; p++) {
    if (!m[p]) continue;
    const y = (p / width) | 0;
    const x = p - y * width;
    if (x < x1) x1 = x;
    if (x >= x2) x2 = x + 1;
    if (y < y1) y1 = y;
    y2 = y + 1;
  }
  return x2 < 0 ? null : { x1, y1, x2, y2 };
}

/** Connected components of one binary plane, 8-connectivity. */
export interface Components {
  /** (H,W) labels: 0 background, 1..count components, numbered in raster order of their first pixel. */
  labels: Int32Array;
  count: number;
  /** Per component (index = label - 1): pixel count and bounding box. */
  areas: number[];
  boxes: Box[];
}

/**
 * Label the 8-connected components of a 0/1 plane (H,W) with one flood fill per component
 * (an explicit stack, so large regions cannot overflow the call stack).
 */
export function connectedComponents(plane: Uint8Array, height: number, width: number): Components {
  if (plane.length !== height * width) {
    throw new DatasetError(`plane has ${plane.length} pixels, expected ${height}x${width}`);
  }
  const labels = new Int32Array(height * width);
  const areas: number[] = [];
  const boxes: Box[] = [];
  const stack = new Int32Array(height * width);
  let count = 0;
  for (let start = 0; start < plane.length; start++) {
    if (!plane[start] || labels[start]) continue;
    count++;
    let top = 0;
    stack[top++] = start;
    labels[start] = count;
    let area = 0;
    const box = { x1: width, y1: height, x2: 0, y2: 0 };
    while (top > 0) {
      const p = stack[--top];
      const y = (p / width) | 0;
      const x = p - y * width;
      area++;
      if (x < box.x1) box.x1 = x;
      if (y < box.y1) box.y1 = y;
      if (x + 1 > box.x2) box.x2 = x + 1;
      if (y + 1 > box.y2) box.y2 = y + 1;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (plane[q] && !labels[q]) {
            labels[q] = count;
            stack[top++] = q;
          }
        }
      }
    }
    areas.push(area);
    boxes.push(box);
  }
  return { labels, count, areas, boxes };
}

/** Pixel count and bounding box of each instance; `box` is null for an empty instance. */
export interface InstanceStats {
  area: number;
  box: Box | null;
  /** Connected pieces of this instance (a copied region may be split by occlusion). */
  components: number;
}

export function instanceStats(masks: Masks): InstanceStats[] {
  const out: InstanceStats[] = [];
  for (let i = 0; i < masks.count; i++) {
    const cc = connectedComponents(maskChannel(masks, i), masks.height, masks.width);
    const area = cc.areas.reduce((a, b) => a + b, 0);
    const box = cc.count === 0
      ? null
      : cc.boxes.reduce((a, b) => ({ x1: Math.min(a.x1, b.x1), y1: Math.min(a.y1, b.y1), x2: Math.max(a.x2, b.x2), y2: Math.max(a.y2, b.y2) }));
    out.push({ area, box, components: cc.count });
  }
  return out;
}

/** Bounding boxes of each instance as [x1, y1, x2, y2] (x2/y2 exclusive); empty instances are left out. */
export function instanceBoxes(masks: Masks): Array<[number, number, number, number]> {
  return instanceStats(masks)
    .filter((s) => s.box !== null)
    .map((s) => [s.box!.x1, s.box!.y1, s.box!.x2, s.box!.y2]);
}

/** Split every instance into its connected components: one output instance per component. */
export function splitComponents(masks: Masks): Masks {
  const plane = masks.height * masks.width;
  const parts: Uint8Array[] = [];
  for (let i = 0; i < masks.count; i++) {
    const cc = connectedComponents(maskChannel(masks, i), masks.height, masks.width);
    for (let c = 1; c <= cc.count; c++) {
      const part = new Uint8Array(plane);
      for (let p = 0; p < plane; p++) if (cc.labels[p] === c) part[p] = 1;
      parts.push(part);
    }
  }
  const data = new Uint8Array(parts.length * plane);
  parts.forEach((p, i) => data.set(p, i * plane));
  return { data, count: parts.length, height: masks.height, width: masks.width };
}

/** Union of all instances, (H,W) 0/1. */
export function unionMask(masks: Masks): Uint8Array {
  const plane = masks.height * masks.width;
  const out = new Uint8Array(plane);
  for (let i = 0; i < masks.count; i++) {
    const ch = maskChannel(masks, i);
    for (let p = 0; p < plane; p++) if (ch[p]) out[p] = 1;
  }
  return out;
}
