/**
 * From verified copies to copy-move events, the unit of the competition's masks: one instance is
 * a source region and all of its copies. A verified transform gives one pair (source, copy);
 * pairs that share a region (two copies of one source, a copy matched with another copy, the same
 * copy found twice) or that move pixels the same way (fragments of one copy found by separate
 * clusters) are one event. Resampled twins join the event they touch, else make events of their
 * own from their pairs. An image-level gate then drops weak events (false alarms on authentic
 * figures cost a whole point each).
 */
import { connectedComponents } from '../data/components';
import { addOrMerge, groupTouching, masksTouch, mergeDuplicates, type ScoredMask } from '../infer/postprocess';
import { type Affine, cornersMoveAlike, pixelBox, type ResampledTwinPair } from './geometry';

/** 'transform': one instance per event (source + copies); 'regions': source and copy apart (the old output). */
export type EventMode = 'transform' | 'regions';
export const EVENT_MODES: readonly EventMode[] = ['transform', 'regions'];

/** A verified transform in the working frame: source region, copy region (0/1 masks), score, source -> copy. */
export interface VerifiedPair {
  source: Uint8Array;
  target: Uint8Array;
  score: number;
  affine: Affine;
  /**
   * Why it passes the gate below minEventScore, if it does: 'peaked near-block copy', 'peaked dense copy' or
   * 'peaked keypoint copy' (its proposal's CopyTransform.peakedGate) or 'blurred copy' (minBlurredZncc).
   */
  admitted?: string;
  /** How much the fine-detail correlation falls 2 px off the transform (verify.ts detailDrop), where it was measured. */
  peak?: number;
}

/**
 * An event ('transform' mode): its mask, its best pair's score, why a pair of it passes the gate
 * below minEventScore, and the detail peak of its best pair (`peak`, where measured).
 */
export interface CopyEvent extends ScoredMask {
  admitted?: string;
  peak?: number;
  /** The verified transforms of its pairs (source -> copy, in its mask's frame): twins moved alike join it. */
  motions?: Affine[];
}

/** Regions overlapping more than this (IoU) are the same region found twice ('regions' mode). */
export const DUPLICATE_IOU = 0.5;
/** Two pairs share a region when this share of the smaller of two of their regions overlaps the other. */
const SHARED_REGION = 0.25;
/** Two transforms move alike when they place every corner of a source's box within this many working pixels. */
const SAME_MOTION_PX = 4;
/** Resampled twins within this many pixels of an event (or of each other) belong to it. */
const TWIN_GAP = 2;

/** The verified pairs as instances of the working frame: events ('transform') or regions. */
export function pairsToInstances(pairs: readonly VerifiedPair[], mode: EventMode, width: number): CopyEvent[] {
  if (mode === 'regions') return mergeDuplicates(pairs.flatMap((q) => [{ mask: q.source, score: q.score }, { mask: q.target, score: q.score }]), DUPLICATE_IOU);
  const parent = pairs.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  const info = pairs.map((q) => ({ src: stats(q.source, width), dst: stats(q.target, width) }));
  for (let i = 0; i < pairs.length; i++) {
    for (let j = i + 1; j < pairs.length; j++) {
      if (find(i) === find(j)) continue;
      const shared = [info[i].src, info[i].dst].some((a, ka) =>
        [info[j].src, info[j].dst].some((b, kb) => overlapShare(ka ? pairs[i].target : pairs[i].source, a, kb ? pairs[j].target : pairs[j].source, b, width) >= SHARED_REGION),
      );
      if (shared || sameMotion(pairs[i].affine, pairs[j].affine, info[i].src.box)) parent[find(j)] = find(i);
    }
  }
  const events = new Map<number, CopyEvent>();
  pairs.forEach((q, i) => {
    const root = find(i);
    let e = events.get(root);
    if (!e) events.set(root, (e = { mask: new Uint8Array(q.source.length), score: q.score, peak: q.peak, motions: [] }));
    e.motions!.push(q.affine);
    for (let p = 0; p < e.mask.length; p++) e.mask[p] |= q.source[p] | q.target[p];
    if (q.score > e.score) [e.score, e.peak] = [q.score, q.peak];
    e.admitted ??= q.admitted;
  });
  return [...events.values()];
}

/**
 * Adds what resampled twins found (native resolution, score 1: verified pixel for pixel) to the
 * instances at the original size, in place. 'transform': twin pairs that touch are one event
 * (fragments, several copies of one source); an event of twins joins every instance it touches
 * (those become one), else it is a new event when its copies and its sources each reach `minArea`
 * pixels. 'regions': each connected region of the twin map reaching `minArea` is an instance,
 * merged into one it repeats (the old output). Returns how many twin events joined, and how many
 * were added.
 */
export function addTwinEvents(
  instances: ScoredMask[],
  twins: { map: Uint8Array; pairs: readonly ResampledTwinPair[] },
  mode: EventMode,
  height: number,
  width: number,
  minArea: number,
): { joined: number; added: number } {
  const n = height * width;
  let joined = 0;
  let added = 0;
  if (mode === 'regions') {
    const cc = connectedComponents(twins.map, height, width);
    for (let c = 1; c <= cc.count; c++) {
      if (cc.areas[c - 1] < minArea) continue;
      const region = new Uint8Array(n);
      for (let q = 0; q < n; q++) if (cc.labels[q] === c) region[q] = 1;
      const before = instances.length;
      addOrMerge(instances, region, 1, DUPLICATE_IOU);
      if (instances.length > before) added++;
      else joined++;
    }
    return { joined, added };
  }
  const masks = twins.pairs.map((t) => {
    const m = new Uint8Array(n);
    for (const q of t.copy) m[q] = 1;
    for (const q of t.source) m[q] = 1;
    return m;
  });
  const group = groupTouching(masks, height, width, TWIN_GAP);
  for (let g = 0; g < masks.length; g++) {
    const members = twins.pairs.filter((_, i) => group[i] === g);
    if (members.length === 0) continue;
    const mask = new Uint8Array(n);
    masks.forEach((m, i) => {
      if (group[i] === g) for (let q = 0; q < n; q++) mask[q] |= m[q];
    });
    let touched = instances.map((e, k) => (masksTouch(mask, e.mask, height, width, TWIN_GAP) ? k : -1)).filter((k) => k >= 0);
    // apart from every event, twins still belong to the one whose copy they move pixels as (another fragment of it)
    if (touched.length === 0) touched = [instances.findIndex((e) => movedAlike(e, members, width))].filter((k) => k >= 0);
    if (touched.length > 0) {
      const into = instances[touched[0]];
      for (const k of touched.slice(1)) for (let q = 0; q < n; q++) into.mask[q] |= instances[k].mask[q];
      for (let q = 0; q < n; q++) into.mask[q] |= mask[q];
      into.score = 1;
      for (const k of touched.slice(1).reverse()) instances.splice(k, 1);
      joined++;
      continue;
    }
    const copies = members.reduce((s, t) => s + t.copy.length, 0);
    const sources = members.reduce((s, t) => s + t.source.length, 0);
    if (Math.min(copies, sources) < minArea) continue;
    instances.push({ mask, score: 1 });
    added++;
  }
  return { joined, added };
}

/**
 * The image-level gate against false alarms on authentic figures, part of ClassicalParams. Its
 * defaults (params.ts) were chosen on the realistic generator's tuning sets (seed
 * 'realistic-tune' and the photo set 'photo-tune'), never on the sets the README reports.
 */
export interface EventGate {
  /**
   * Events scoring below this are dropped, unless a pair of them is admitted otherwise ('transform'
   * events only): a near-block copy peaked at its transform (nearMinScore) or a blurred copy
   * (minBlurredZncc). An event's score is its best pair's: mean ZNCC of the verified copy (clamped
   * to [0, 1]) times min(1, inliers / (2 minInliers)); 1 for resampled twins.
   */
  minEventScore: number;
  /** At most this many events are kept, the best-scored first; 0: no limit. */
  maxEvents: number;
  /** Below this share of the image covered by all events together, the image is reported authentic. */
  minForgedShare: number;
  /**
   * An event covering more than this share of the image is repetitive structure (a grid, a
   * checkerboard, a ladder of bands matched with itself), not a copy-move: dropped. Real forged
   * areas have a median of 2% and a 90th percentile of 12.5% (and reach 52%). 1: off.
   */
  maxEventShare: number;
  /**
   * An event over maxEventShare is kept all the same when its best pair scores minEventScore and its
   * detail correlation falls at least this much 2 px off its transform (`peak`): a large copy of
   * textured content, which agrees with its source at one registration only, where repetitive
   * structure (a grid, lanes, a mirror-symmetric layout) agrees along an axis or is pixel-exact
   * background, whose peak is not measured. 0: no exception.
   */
  hugeEventMinPeak: number;
  /**
   * Events whose pixels' grey levels carry less than this entropy (bits, 8-bit histogram at native
   * resolution) are dropped: in binary or few-level content (silhouettes, skeletons, text, flat
   * logos) regions agree with each other by chance, so a match there says nothing. 0: off
   * (default 2.5, params.ts).
   */
  minEventEntropy: number;
}

/** Entropy (bits) of the grey levels of `gray` under the 0/1 `mask` (0 for an empty mask). */
export function maskedEntropy(gray: Uint8Array, mask: Uint8Array): number {
  const hist = new Float64Array(256);
  let n = 0;
  for (let p = 0; p < mask.length; p++) {
    if (!mask[p]) continue;
    hist[gray[p]]++;
    n++;
  }
  let h = 0;
  for (const c of hist) if (c > 0) h -= (c / n) * Math.log2(c / n);
  return h;
}

/**
 * Sorts the events by score (highest first, then largest) and applies the gate (`gray`: the image's
 * grey levels at the events' resolution, for minEventEntropy). Returns the kept events and a note
 * for each thing the gate did.
 */
export function gateEvents(events: readonly CopyEvent[], gate: EventGate, gray?: Uint8Array): { kept: CopyEvent[]; notes: string[] } {
  const notes: string[] = [];
  if (gate.minEventEntropy > 0 && gray) {
    const textured = events.filter((e) => maskedEntropy(gray, e.mask) >= gate.minEventEntropy);
    const flat = events.length - textured.length;
    if (flat > 0) notes.push(`gate: ${flat} event(s) in few-level content (grey-level entropy below minEventEntropy ${gate.minEventEntropy} bits) dropped`);
    events = textured;
  }
  const areas = new Map(events.map((e) => [e, area(e.mask)]));
  let kept = [...events].sort((a, b) => b.score - a.score || areas.get(b)! - areas.get(a)!);
  const isHuge = (e: CopyEvent) =>
    areas.get(e)! > gate.maxEventShare * e.mask.length && !(gate.hugeEventMinPeak > 0 && e.score >= gate.minEventScore && (e.peak ?? 0) >= gate.hugeEventMinPeak);
  const huge = kept.filter(isHuge).length;
  if (huge > 0) {
    kept = kept.filter((e) => !isHuge(e));
    notes.push(`gate: ${huge} event(s) covering more than ${gate.maxEventShare} of the image dropped as repetitive structure (maxEventShare)`);
  }
  const admitted = kept.filter((e) => e.score < gate.minEventScore && e.admitted);
  if (admitted.length > 0) {
    const why = [...new Set(admitted.map((e) => e.admitted))].join(', ');
    notes.push(`gate: ${admitted.length} event(s) below minEventScore ${gate.minEventScore} kept (${why})`);
  }
  const strong = (e: CopyEvent) => e.score >= gate.minEventScore || e.admitted !== undefined;
  const weak = kept.filter((e) => !strong(e)).length;
  if (weak > 0) {
    kept = kept.filter(strong);
    notes.push(`gate: ${weak} event(s) scoring below minEventScore ${gate.minEventScore} dropped`);
  }
  if (gate.maxEvents > 0 && kept.length > gate.maxEvents) {
    notes.push(`gate: kept the best ${gate.maxEvents} of ${kept.length} events (maxEvents)`);
    kept = kept.slice(0, gate.maxEvents);
  }
  if (gate.minForgedShare > 0 && kept.length > 0) {
    const n = kept[0].mask.length;
    let covered = 0;
    for (let p = 0; p < n; p++) {
      for (const e of kept) {
        if (e.mask[p]) {
          covered++;
          break;
        }
      }
    }
    if (covered / n < gate.minForgedShare) {
      notes.push(`gate: events cover ${(covered / n).toPrecision(2)} of the image < minForgedShare ${gate.minForgedShare}: reported authentic`);
      kept = [];
    }
  }
  return { kept, notes };
}

/** Whether one of the event's motions moves one of the twins' sources as that twin pair does (either way round). */
function movedAlike(event: CopyEvent, twins: readonly ResampledTwinPair[], width: number): boolean {
  if (!event.motions?.length) return false;
  return twins.some((t) => {
    const box = pixelBox(t.source, width);
    return event.motions!.some((m) => sameMotion(m, t.similarity, box));
  });
}

interface RegionStats {
  area: number;
  box: { x0: number; y0: number; x1: number; y1: number };
}

function stats(m: Uint8Array, width: number): RegionStats {
  const box = { x0: Infinity, y0: Infinity, x1: -1, y1: -1 };
  let a = 0;
  for (let p = 0; p < m.length; p++) {
    if (!m[p]) continue;
    a++;
    const y = (p / width) | 0;
    const x = p - y * width;
    if (x < box.x0) box.x0 = x;
    if (x > box.x1) box.x1 = x;
    if (y < box.y0) box.y0 = y;
    box.y1 = y;
  }
  return { area: a, box };
}

function area(m: Uint8Array): number {
  let a = 0;
  for (let p = 0; p < m.length; p++) a += m[p] ? 1 : 0;
  return a;
}

/** |a ∩ b| / min(|a|, |b|), counted inside the boxes' intersection only. */
function overlapShare(a: Uint8Array, sa: RegionStats, b: Uint8Array, sb: RegionStats, width: number): number {
  const x0 = Math.max(sa.box.x0, sb.box.x0);
  const x1 = Math.min(sa.box.x1, sb.box.x1);
  const y0 = Math.max(sa.box.y0, sb.box.y0);
  const y1 = Math.min(sa.box.y1, sb.box.y1);
  const smaller = Math.min(sa.area, sb.area);
  if (x0 > x1 || y0 > y1 || smaller === 0) return 0;
  let inter = 0;
  for (let y = y0; y <= y1; y++) for (let x = x0, p = y * width + x; x <= x1; x++, p++) inter += a[p] & b[p];
  return inter / smaller;
}

/**
 * Do transforms a and b move the corners of a's source box to the same places (within
 * SAME_MOTION_PX), or is b a's inverse (b(a(x)) back at x)? Near-identical transforms are
 * fragments of one copy, or one copy found from both ends.
 */
function sameMotion(a: Affine, b: Affine, box: RegionStats['box']): boolean {
  if (box.x1 < 0) return false;
  if (cornersMoveAlike(a, b, box.x0, box.y0, box.x1, box.y1, SAME_MOTION_PX)) return true;
  const at = (m: Affine, x: number, y: number): [number, number] => [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];
  const corners: Array<[number, number]> = [[box.x0, box.y0], [box.x1, box.y0], [box.x0, box.y1], [box.x1, box.y1]];
  return corners.every(([x, y]) => {
    const [u, v] = at(a, x, y);
    const [s, t] = at(b, u, v);
    return Math.hypot(x - s, y - t) <= SAME_MOTION_PX;
  });
}
