/**
 * Copy-move events from a prediction's regions and the copies that join them.
 *
 * A segmentation model says which pixels are forged, not which forged regions belong together: its
 * regions are the sources and copies of every event of the image, and merging them all into one
 * event (policy 'merge-all') loses every second event of a multi-event image. Block matching knows
 * what belongs together: each matched block pair joins the region holding its source to the region
 * holding its copy. So the regions are grouped by those pairs; regions no pair reaches join the
 * nearest linked group (they are fragments of an event whose copy the matching did not see). With
 * fewer than two linked groups the image is one event, exactly as 'merge-all' would give it.
 */
import { dilate } from '../classical/maskOps';
import { boxGap, connectedComponents, type Box } from '../data/components';
import type { InstancePrediction } from './types';

/** Matched block pairs of an image: source and copy centres, image pixels. */
export interface CopyLinks {
  /** x1, y1, x2, y2 per pair. */
  pairs: Float32Array;
  /** A pair's block reaches this many pixels around its centre. */
  radius: number;
}

export interface CopyLinkOptions {
  /** Regions within this many pixels of each other are one region first (as the 'overlap' policy). */
  gap: number;
  /** Two regions are one event when at least this many block pairs join them (one pair can be chance). */
  minPairs: number;
}

export const COPY_LINK_DEFAULTS: CopyLinkOptions = { gap: 3, minPairs: 2 };

/**
 * `pred`'s instances regrouped into events by `links` (called only when the prediction holds two or
 * more separate regions: computing links costs a block matching). Events come out sorted by score,
 * highest first; an event's score is the highest of the instances overlapping it.
 */
export function groupByCopyLinks(pred: InstancePrediction, links: () => CopyLinks, opts: Partial<CopyLinkOptions> = {}): InstancePrediction {
  const { gap, minPairs } = { ...COPY_LINK_DEFAULTS, ...opts };
  const { count, height, width } = pred.instances;
  const n = height * width;
  if (count === 0) return pred;
  const union = new Uint8Array(n);
  for (let i = 0; i < count; i++) {
    const m = pred.instances.data.subarray(i * n, (i + 1) * n);
    for (let p = 0; p < n; p++) if (m[p]) union[p] = 1;
  }
  const regions = connectedComponents(gap > 0 ? dilate(union, width, height, gap) : union, height, width);
  const regionScores = new Array<number>(regions.count).fill(-Infinity);
  for (let i = 0; i < count; i++) {
    const m = pred.instances.data.subarray(i * n, (i + 1) * n);
    const seen = new Set<number>();
    for (let p = 0; p < n; p++) if (m[p] && regions.labels[p]) seen.add(regions.labels[p] - 1);
    for (const r of seen) regionScores[r] = Math.max(regionScores[r], pred.scores[i]);
  }
  const group = regions.count < 2 ? new Int32Array(regions.count) : linkedGroups(regions.labels, regions.boxes, width, height, links(), minPairs);
  const events = new Map<number, { mask: Uint8Array; score: number }>();
  for (let p = 0; p < n; p++) {
    if (!union[p]) continue;
    const g = group[regions.labels[p] - 1];
    let e = events.get(g);
    if (!e) events.set(g, (e = { mask: new Uint8Array(n), score: -Infinity }));
    e.mask[p] = 1;
  }
  for (let r = 0; r < regions.count; r++) {
    const e = events.get(group[r]);
    if (e) e.score = Math.max(e.score, regionScores[r]);
  }
  const list = [...events.values()].sort((a, b) => b.score - a.score);
  const data = new Uint8Array(list.length * n);
  list.forEach((e, k) => data.set(e.mask, k * n));
  return { ...pred, instances: { data, count: list.length, height, width }, scores: list.map((e) => e.score) };
}

/**
 * A group per region (index = label - 1): regions joined by at least `minPairs` block pairs share
 * one, transitively; a region no pair reaches takes the group of the nearest linked region; with
 * fewer than two linked groups every region is group 0.
 */
export function linkedGroups(labels: Int32Array, boxes: readonly Box[], width: number, height: number, links: CopyLinks, minPairs: number): Int32Array {
  const count = boxes.length;
  const joins = new Map<number, number>();
  const { pairs, radius } = links;
  for (let k = 0; k + 3 < pairs.length; k += 4) {
    const a = regionNear(labels, width, height, pairs[k], pairs[k + 1], radius);
    const b = regionNear(labels, width, height, pairs[k + 2], pairs[k + 3], radius);
    if (a < 0 || b < 0) continue;
    const key = Math.min(a, b) * count + Math.max(a, b);
    joins.set(key, (joins.get(key) ?? 0) + 1);
  }
  const parent = Int32Array.from({ length: count }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  const linked = new Uint8Array(count);
  for (const [key, support] of joins) {
    if (support < minPairs) continue;
    const a = Math.floor(key / count);
    const b = key % count;
    linked[a] = linked[b] = 1;
    parent[find(b)] = find(a);
  }
  const roots = new Set<number>();
  for (let r = 0; r < count; r++) if (linked[r]) roots.add(find(r));
  if (roots.size < 2) return new Int32Array(count);
  const group = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    if (linked[r]) {
      group[r] = find(r);
      continue;
    }
    let best = -1;
    let bestDistance = Infinity;
    for (let s = 0; s < count; s++) {
      if (!linked[s]) continue;
      const d = boxGap(boxes[r], boxes[s]);
      if (d < bestDistance) (bestDistance = d), (best = s);
    }
    group[r] = find(best);
  }
  return group;
}

/** The region (label - 1) at (x, y), else the first region met within `radius` around it, else -1. */
function regionNear(labels: Int32Array, width: number, height: number, x: number, y: number, radius: number): number {
  const cx = Math.round(x);
  const cy = Math.round(y);
  if (cx >= 0 && cy >= 0 && cx < width && cy < height && labels[cy * width + cx]) return labels[cy * width + cx] - 1;
  const r = Math.max(0, Math.floor(radius));
  for (let yy = Math.max(0, cy - r); yy <= Math.min(height - 1, cy + r); yy++) {
    for (let xx = Math.max(0, cx - r); xx <= Math.min(width - 1, cx + r); xx++) {
      const l = labels[yy * width + xx];
      if (l) return l - 1;
    }
  }
  return -1;
}
