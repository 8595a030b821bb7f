import type { Rng } from '../../util/random';
import type { Image, Masks } from '../types';
import { randomWobble } from './fluorescence';
import { COMPETITION_REFERENCE as REAL } from '../competition-reference';
import type { Box, CopyRecord, CopyTransform, ForgeryRecord, GeneratorName, Photometric, Resample } from './manifest';

/** A binary region: `mask` (h*w, 0/1) whose top-left pixel sits at (x, y) in the image. */
interface Footprint {
  x: number;
  y: number;
  w: number;
  h: number;
  mask: Uint8Array;
}

/** A footprint plus the RGB values (h*w*3, float) to paste where the mask is 1. */
interface Patch extends Footprint {
  values: Float32Array;
}

/** How a generator forges: what real editors do (realistic) or the first generator's habits (classic). */
export interface ForgeStyle {
  /** Relative weights of the interpolation used for rotated and scaled copies. */
  resample: Record<Resample, number>;
  /** Probability that a copy's rim is feathered into its surroundings. */
  softEdge: number;
  /** Probability that a copy gets appearance changes, and which kinds. */
  photometric: number;
  photometricKinds: readonly Photometric['type'][];
  /** Relative weights of 1, 2, 3, 4 copies per event (parts per event = copies + 1). */
  copies: readonly number[];
  /** Relative weights of 1..5 events per forged image. */
  events: readonly number[];
}

export const FORGE_STYLES: Record<GeneratorName, ForgeStyle> = {
  // Interpolation as image editors default to; events and parts as in the real competition masks
  // (N=1 1,869, N=2 701, N=3 174, N=4 5, N=5 2 of 2,751 forged images; 2-5 parts per channel).
  realistic: {
    resample: { nearest: 0.15, bilinear: 0.45, bicubic: 0.4 },
    softEdge: 0.35,
    photometric: 0.35,
    photometricKinds: ['brightness', 'contrast', 'blur', 'noise'],
    copies: [0.78, 0.15, 0.05, 0.02],
    events: [1, 2, 3, 4, 5].map((k) => REAL.eventCounts[k]),
  },
  classic: {
    resample: { nearest: 1, bilinear: 0, bicubic: 0 },
    softEdge: 0,
    photometric: 0.35,
    photometricKinds: ['brightness', 'blur', 'noise'],
    copies: [0.8, 0.2],
    events: [0.55, 0.45 * 0.65, 0.45 * 0.35],
  },
};

export interface ForgeOptions {
  /** Number of copy-move events (1-5); default drawn from the style's distribution. */
  regions?: number;
  /**
   * Probability that a copy keeps the source's row or column (centre-aligned), as when a blot
   * band is duplicated into a neighbouring lane; default 0.15.
   */
  align?: number;
  /** Copies per event (1-4); default drawn from the style's distribution. */
  copies?: number;
  /** Default 'realistic'. */
  style?: GeneratorName;
  /**
   * Target forged area (union of all events) as a fraction of the image; parts are sized to reach
   * it. Default: each source 8-28% of the shorter side.
   */
  areaFraction?: number;
  /** Boxes already forged (another event's parts) that new parts must not overlap or touch. */
  taken?: readonly Box[];
  /** Channel index of the first event made here (after events forged before); default 0. */
  firstInstance?: number;
}

export interface ForgeResult {
  image: Image;
  /** (N,H,W): one channel per event, its source and all of its copies merged. */
  masks: Masks;
  forgeries: ForgeryRecord[];
}

const SHAPES: ForgeryRecord['shape'][] = ['rect', 'ellipse', 'blob'];
/** Share of its box a footprint of each shape fills (blob: measured mean of `makeShape`). */
const FILL: Record<ForgeryRecord['shape'], number> = { rect: 1, ellipse: Math.PI / 4, blob: 0.55 };

/** An index drawn with probability proportional to `weights`. */
export function drawWeighted(rng: Rng, weights: readonly number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let u = rng.uniform(0, total);
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  return weights.length - 1;
}

/**
 * Copy-move forgery: 1-5 events, each a region of `clean` copied 1-4 times elsewhere in the same
 * image. Copies are warped from the untouched image (interpolated as the style says), their mask
 * is defined first and exactly the mask's pixels are written (a soft edge blends only inside it),
 * so each event's channel covers its pasted pixels and its source and nothing else. Parts of
 * different events never overlap or touch.
 */
export function forge(rng: Rng, clean: Image, opts: ForgeOptions = {}): ForgeResult {
  if (clean.channels !== 3 || !(clean.data instanceof Uint8Array)) throw new RangeError('forge expects an RGB uint8 image');
  const style = FORGE_STYLES[opts.style ?? 'realistic'];
  const { width, height } = clean;
  const out = new Uint8Array(clean.data);
  const occupied: Box[] = [...(opts.taken ?? [])];
  const events: Footprint[][] = [];
  const forgeries: ForgeryRecord[] = [];
  const wanted = opts.regions ?? drawWeighted(rng, style.events) + 1;
  const copyCounts = Array.from({ length: wanted }, () => opts.copies ?? drawWeighted(rng, style.copies) + 1);
  const parts = copyCounts.reduce((s, c) => s + c + 1, 0);
  const partArea = opts.areaFraction === undefined ? undefined : (opts.areaFraction * width * height) / parts;
  let shrink = 1;
  let misses = 0;
  for (let attempt = 0; forgeries.length < wanted && attempt < wanted * 12; attempt++) {
    // An event that keeps finding no room is drawn smaller (the later events of a crowded figure too).
    if (misses >= 6) shrink *= 0.8;
    const spec: PartSpec = { copies: copyCounts[forgeries.length], partArea, shrink, align: opts.align ?? 0.15 };
    const made = forgeOne(rng, clean, out, occupied, style, spec, (opts.firstInstance ?? 0) + events.length);
    if (made) {
      forgeries.push(made.record);
      events.push(made.parts);
      misses = 0;
    } else misses++;
  }
  return result(out, width, height, events, forgeries);
}

/** Stack each event's footprints (source and copies) into one channel of an (N,H,W) mask. */
function result(out: Uint8Array, width: number, height: number, events: Footprint[][], forgeries: ForgeryRecord[]): ForgeResult {
  const n = width * height;
  const data = new Uint8Array(events.length * n);
  events.forEach((parts, k) => {
    for (const f of parts) {
      for (let y = 0; y < f.h; y++) {
        for (let x = 0; x < f.w; x++) if (f.mask[y * f.w + x]) data[k * n + (f.y + y) * width + f.x + x] = 1;
      }
    }
  });
  return {
    image: { data: out, width, height, channels: 3 },
    masks: { data, count: events.length, height, width },
    forgeries,
  };
}

/**
 * More events on an already forged image: `later` was forged on `first.image` (its parts kept
 * clear of `first`'s), so its image is the final one and its channels follow `first`'s.
 */
export function stackForgeries(first: ForgeResult, later: ForgeResult): ForgeResult {
  const masks = new Uint8Array(first.masks.data.length + later.masks.data.length);
  masks.set(first.masks.data);
  masks.set(later.masks.data, first.masks.data.length);
  return {
    image: later.image,
    masks: { data: masks, count: first.masks.count + later.masks.count, height: first.masks.height, width: first.masks.width },
    forgeries: [...first.forgeries, ...later.forgeries],
  };
}

/** Every part's box (source and copies) of a forge result, for `ForgeOptions.taken`. */
export function forgedBoxes(result: ForgeResult): Box[] {
  return result.forgeries.flatMap((f) => [f.source, ...f.copies.map((c) => c.box)]);
}

/**
 * Panel reuse, the classic compound-figure duplication: a large crop of one panel pasted into
 * another panel of the same size (as is, or mirrored), standing in for a different condition.
 * One event (crop and copy). Null when the figure has fewer than two panels of equal size.
 */
export function duplicatePanel(rng: Rng, clean: Image, panels: readonly Box[], areaFraction?: number): ForgeResult | null {
  const { width, height } = clean;
  const from = rng.int(0, panels.length - 1);
  const same = panels.filter((p, i) => i !== from && p.w === panels[from].w && p.h === panels[from].h);
  if (same.length === 0) return null;
  const a = panels[from];
  const b = rng.pick(same);
  // Half to all of the panel; with an area target, the crop (and its copy) sized to reach it.
  const fit = areaFraction === undefined ? 1 : Math.min(1, Math.sqrt((areaFraction * width * height) / 2 / (a.w * a.h)) / 0.75);
  const w = Math.max(4, Math.round(a.w * fit * rng.uniform(0.5, 1)));
  const h = Math.max(4, Math.round(a.h * fit * rng.uniform(0.5, 1)));
  const src: Footprint = { x: a.x + rng.int(0, a.w - w), y: a.y + rng.int(0, a.h - h), w, h, mask: new Uint8Array(w * h).fill(1) };
  const transform: CopyTransform = rng.bool(0.8) ? { type: 'translation', params: { dx: 0, dy: 0 } } : { type: 'flip', params: { axis: 'h', dx: 0, dy: 0 } };
  const copy = warp(clean, src, transform, 'nearest');
  if (!copy) return null;
  copy.x = b.x + rng.int(0, b.w - w);
  copy.y = b.y + rng.int(0, b.h - h);
  return pasteReuse(rng, clean, 'panel', src, copy, transform);
}

/**
 * Lane reuse, the classic blot and gel duplication: one lane (all of its height or a part of it)
 * pasted over another lane of the same width, as is or mirrored left-right, standing in for a
 * different sample. One event (the lane and its copy; neighbouring lanes touch, which is what
 * makes this hard for matching that expects a copy apart from its source). Null when the figure
 * has fewer than two lanes of one width.
 */
export function reuseLane(rng: Rng, clean: Image, lanes: readonly Box[]): ForgeResult | null {
  const { height } = clean;
  const from = rng.int(0, lanes.length - 1);
  const a = lanes[from];
  const alike = lanes.filter((l, i) => i !== from && Math.abs(l.w - a.w) <= 1 && l.h === a.h);
  if (alike.length === 0 || a.w < 4 || a.h < 8) return null;
  const b = rng.pick(alike);
  const w = Math.min(a.w, b.w);
  const h = rng.bool(0.5) ? a.h : Math.max(8, Math.round(a.h * rng.uniform(0.5, 1)));
  const sy = a.y + rng.int(0, a.h - h);
  const src: Footprint = { x: a.x, y: sy, w, h, mask: new Uint8Array(w * h).fill(1) };
  const transform: CopyTransform = rng.bool(0.6) ? { type: 'translation', params: { dx: 0, dy: 0 } } : { type: 'flip', params: { axis: 'h', dx: 0, dy: 0 } };
  const copy = warp(clean, src, transform, 'nearest');
  if (!copy) return null;
  copy.x = b.x;
  // A lane lands at the height it had in its strip (its bands line up); in another strip
  // sometimes a few pixels off.
  const jitter = b.y !== a.y && rng.bool(0.3) ? rng.int(-3, 3) : 0;
  copy.y = Math.min(height - h, Math.max(0, b.y + (sy - a.y) + jitter));
  return pasteReuse(rng, clean, 'lane', src, copy, transform);
}

/**
 * The end of a reuse forgery (a panel crop or a lane): the placed copy gets the classic style's
 * appearance changes now and then and is pasted with a hard edge; one event, source and copy.
 */
function pasteReuse(rng: Rng, clean: Image, kind: ForgeryRecord['kind'], src: Footprint, copy: Patch, transform: CopyTransform): ForgeResult {
  const { width, height } = clean;
  transform.params.dx = copy.x - src.x;
  transform.params.dy = copy.y - src.y;
  const photometric = applyPhotometric(rng, copy, FORGE_STYLES.classic);
  const out = new Uint8Array(clean.data);
  paste(out, width, copy, 0);
  const record: ForgeryRecord = {
    kind,
    shape: 'rect',
    content: 'textured',
    source: { x: src.x, y: src.y, w: src.w, h: src.h },
    instance: 0,
    copies: [{ box: { x: copy.x, y: copy.y, w: copy.w, h: copy.h }, transform, resample: 'nearest', edge: 'hard', photometric }],
  };
  return result(out, width, height, [[src, copy]], [record]);
}

interface PartSpec {
  copies: number;
  /** Target pixels per part (source or copy), or undefined for the classic size draw. */
  partArea: number | undefined;
  shrink: number;
  align: number;
}

/** Box side lengths of a part: area-targeted when asked, else 8-28% of the shorter side. */
function partSize(rng: Rng, width: number, height: number, shape: ForgeryRecord['shape'], spec: PartSpec): { w: number; h: number } {
  const side = spec.partArea === undefined ? Math.min(width, height) * rng.uniform(0.08, 0.28) : Math.sqrt(spec.partArea / FILL[shape]);
  const aspect = Math.exp(rng.uniform(-0.7, 0.7));
  const w = Math.max(4, Math.min(Math.floor(width / 2.2), Math.round(side * spec.shrink * Math.sqrt(aspect))));
  const h = Math.max(4, Math.min(Math.floor(height / 2.2), Math.round((side * spec.shrink) / Math.sqrt(aspect))));
  return { w, h };
}

/** One event: a source region and its copies; null when nothing fits (the caller retries). */
function forgeOne(
  rng: Rng,
  clean: Image,
  out: Uint8Array,
  occupied: Box[],
  style: ForgeStyle,
  spec: PartSpec,
  instance: number,
): { record: ForgeryRecord; parts: Footprint[] } | null {
  const { width, height } = clean;
  const shape = rng.pick(SHAPES);
  const content: ForgeryRecord['content'] = rng.bool(0.65) ? 'textured' : 'flat';
  const { w, h } = partSize(rng, width, height, shape, spec);
  if (w >= width || h >= height) return null;
  const shapeMask = makeShape(rng, shape, w, h);

  let best: Box | null = null;
  let bestScore = content === 'textured' ? -Infinity : Infinity;
  for (let i = 0; i < 12; i++) {
    const box = { x: rng.int(0, width - w), y: rng.int(0, height - h), w, h };
    if (collides(box, occupied)) continue;
    const s = contrast(clean, box);
    if (content === 'textured' ? s > bestScore : s < bestScore) {
      best = box;
      bestScore = s;
    }
  }
  if (!best) return null;
  const source = tighten({ ...best, mask: shapeMask });
  if (!source) return null;

  const planned: Box[] = [source];
  const copies: Array<{ patch: Patch; transform: CopyTransform; resample: Resample }> = [];
  for (let k = 0; k < spec.copies; k++) {
    const transform = pickTransform(rng);
    const resample: Resample = transform.type === 'rotation' || transform.type === 'scale' ? RESAMPLES[drawWeighted(rng, RESAMPLES.map((r) => style.resample[r]))] : 'nearest';
    const warped = warp(clean, source, transform, resample);
    if (!warped || warped.w >= width || warped.h >= height) continue;
    const chosen = placeCopy(rng, clean, source, warped, [...occupied, ...planned], spec.align);
    if (!chosen) continue;
    warped.x = chosen.x;
    warped.y = chosen.y;
    planned.push(chosen);
    if (transform.type === 'translation' || transform.type === 'flip') {
      transform.params.dx = warped.x - source.x;
      transform.params.dy = warped.y - source.y;
    }
    copies.push({ patch: warped, transform, resample });
  }
  if (copies.length === 0) return null;

  occupied.push(...planned.map((b) => ({ x: b.x, y: b.y, w: b.w, h: b.h })));
  const records: CopyRecord[] = copies.map(({ patch, transform, resample }) => {
    const photometric = applyPhotometric(rng, patch, style);
    const edge = rng.bool(style.softEdge) ? 'soft' : 'hard';
    paste(out, width, patch, edge === 'soft' ? rng.int(1, 2) : 0);
    return { box: { x: patch.x, y: patch.y, w: patch.w, h: patch.h }, transform, resample, edge, photometric };
  });
  const record: ForgeryRecord = { kind: 'region', shape, content, source: { x: source.x, y: source.y, w: source.w, h: source.h }, instance, copies: records };
  return { record, parts: [source, ...copies.map((c) => c.patch)] };
}

const RESAMPLES: readonly Resample[] = ['nearest', 'bilinear', 'bicubic'];

/**
 * Where a copy goes: most forgers put it where it blends in (among a few free spots, the one
 * whose brightness is closest to the source's), otherwise the first free spot; sometimes on the
 * source's row or column. Null when no free spot was found.
 */
function placeCopy(rng: Rng, clean: Image, source: Box, warped: Box, taken: Box[], align: number): Box | null {
  const { width, height } = clean;
  const aligned = rng.bool(align) ? rng.pick(['row', 'column'] as const) : null;
  const blendIn = rng.bool(0.7);
  const clampTo = (v: number, hi: number) => Math.min(hi, Math.max(0, Math.round(v)));
  const sourceLevel = meanLuminance(clean, source);
  let chosen: Box | null = null;
  let chosenScore = Infinity;
  let candidates = 0;
  for (let t = 0; t < 40 && candidates < (blendIn ? 8 : 1); t++) {
    const box = { x: rng.int(0, width - warped.w), y: rng.int(0, height - warped.h), w: warped.w, h: warped.h };
    if (aligned === 'row' && t < 30) box.y = clampTo(source.y + (source.h - warped.h) / 2, height - warped.h);
    if (aligned === 'column' && t < 30) box.x = clampTo(source.x + (source.w - warped.w) / 2, width - warped.w);
    if (collides(box, taken)) continue;
    candidates++;
    const score = Math.abs(meanLuminance(clean, box) - sourceLevel);
    if (score < chosenScore) {
      chosen = box;
      chosenScore = score;
    }
  }
  return chosen;
}

/** Footprint of the given shape filling a w x h box. */
function makeShape(rng: Rng, shape: ForgeryRecord['shape'], w: number, h: number): Uint8Array {
  const m = new Uint8Array(w * h);
  if (shape === 'rect') return m.fill(1);
  const wobble = shape === 'blob' ? randomWobble(rng, 0.45) : null;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const u = (x + 0.5 - w / 2) / (w / 2);
      const v = (y + 0.5 - h / 2) / (h / 2);
      let r = 1;
      if (wobble) {
        const theta = Math.atan2(v, u);
        r = 0.78;
        for (let k = 0; k < wobble.amps.length; k++) r += 0.5 * wobble.amps[k] * Math.cos((k + 2) * theta + wobble.phases[k]);
      }
      if (u * u + v * v <= r * r) m[y * w + x] = 1;
    }
  }
  return m;
}

/** Crop a footprint to the bounding box of its 1s; null when empty. */
function tighten(f: Footprint): Footprint | null {
  let x0 = f.w;
  let y0 = f.h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < f.h; y++) {
    for (let x = 0; x < f.w; x++) {
      if (!f.mask[y * f.w + x]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  if (x1 < 0) return null;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const mask = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) mask.set(f.mask.subarray((y0 + y) * f.w + x0, (y0 + y) * f.w + x0 + w), y * w);
  return { x: f.x + x0, y: f.y + y0, w, h, mask };
}

/** Boxes overlap, keeping a 2-pixel gap so instances never touch. */
function collides(b: Box, others: Box[]): boolean {
  const gap = 2;
  return others.some((o) => b.x < o.x + o.w + gap && o.x < b.x + b.w + gap && b.y < o.y + o.h + gap && o.y < b.y + b.h + gap);
}

/** Mean luminance over a box (sampled on a grid of at most 8x8). */
function meanLuminance(img: Image, b: Box): number {
  const sx = Math.max(1, Math.floor(b.w / 8));
  const sy = Math.max(1, Math.floor(b.h / 8));
  let s = 0;
  let n = 0;
  for (let y = b.y; y < b.y + b.h; y += sy) {
    for (let x = b.x; x < b.x + b.w; x += sx) {
      const i = (y * img.width + x) * 3;
      s += 0.299 * img.data[i] + 0.587 * img.data[i + 1] + 0.114 * img.data[i + 2];
      n++;
    }
  }
  return s / n;
}

/** Luminance standard deviation over a box (sampled on a grid of at most 16x16). */
function contrast(img: Image, b: Box): number {
  const sx = Math.max(1, Math.floor(b.w / 16));
  const sy = Math.max(1, Math.floor(b.h / 16));
  let s = 0;
  let s2 = 0;
  let n = 0;
  for (let y = b.y; y < b.y + b.h; y += sy) {
    for (let x = b.x; x < b.x + b.w; x += sx) {
      const i = (y * img.width + x) * 3;
      const l = 0.299 * img.data[i] + 0.587 * img.data[i + 1] + 0.114 * img.data[i + 2];
      s += l;
      s2 += l * l;
      n++;
    }
  }
  const mean = s / n;
  return Math.sqrt(Math.max(0, s2 / n - mean * mean));
}

function pickTransform(rng: Rng): CopyTransform {
  const u = rng.next();
  if (u < 0.45) return { type: 'translation', params: { dx: 0, dy: 0 } };
  if (u < 0.6) return { type: 'flip', params: { axis: rng.pick(['h', 'v', 'hv']), dx: 0, dy: 0 } };
  if (u < 0.8) {
    const degrees = rng.bool(0.4) ? rng.pick([90, 180, 270]) : Math.round(rng.uniform(5, 355));
    return { type: 'rotation', params: { degrees } };
  }
  const factor = Number((rng.bool(0.5) ? rng.uniform(0.6, 0.92) : rng.uniform(1.08, 1.5)).toFixed(3));
  return { type: 'scale', params: { factor } };
}

/**
 * The copy of `src` under `t`: for each pixel of the output box, the inverse map gives a point of
 * the source box. The copy's footprint is exactly the pixels whose nearest source pixel is in the
 * source footprint; its values are that nearest pixel ('nearest', so translations and flips are
 * exact) or the image interpolated at the point ('bilinear', 'bicubic': an editor's resampling,
 * which also reads the pixels just outside the selection). Position (x, y) is set by the caller.
 */
function warp(img: Image, src: Footprint, t: CopyTransform, resample: Resample): Patch | null {
  const { w, h } = src;
  let tw = w;
  let th = h;
  let inverse: (x: number, y: number) => [number, number];
  if (t.type === 'translation') {
    inverse = (x, y) => [x, y];
  } else if (t.type === 'flip') {
    const fx = String(t.params.axis).includes('h');
    const fy = String(t.params.axis).includes('v');
    inverse = (x, y) => [fx ? w - 1 - x : x, fy ? h - 1 - y : y];
  } else if (t.type === 'rotation') {
    const a = (Number(t.params.degrees) * Math.PI) / 180;
    const cos = Math.cos(a);
    const sin = Math.sin(a);
    tw = Math.max(1, Math.round(Math.abs(w * cos) + Math.abs(h * sin)));
    th = Math.max(1, Math.round(Math.abs(w * sin) + Math.abs(h * cos)));
    const cxT = (tw - 1) / 2;
    const cyT = (th - 1) / 2;
    const cxS = (w - 1) / 2;
    const cyS = (h - 1) / 2;
    inverse = (x, y) => {
      const u = x - cxT;
      const v = y - cyT;
      return [u * cos + v * sin + cxS, -u * sin + v * cos + cyS];
    };
  } else {
    const f = Number(t.params.factor);
    tw = Math.max(1, Math.round(w * f));
    th = Math.max(1, Math.round(h * f));
    inverse = (x, y) => [((x + 0.5) * w) / tw - 0.5, ((y + 0.5) * h) / th - 0.5];
  }
  const mask = new Uint8Array(tw * th);
  const values = new Float32Array(tw * th * 3);
  const rgb = [0, 0, 0];
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const [fx, fy] = inverse(x, y);
      const sx = Math.min(w - 1, Math.max(-1, Math.round(fx)));
      const sy = Math.min(h - 1, Math.max(-1, Math.round(fy)));
      if (sx < 0 || sy < 0 || !src.mask[sy * w + sx]) continue;
      const p = y * tw + x;
      mask[p] = 1;
      if (resample === 'nearest') {
        const i = ((src.y + sy) * img.width + src.x + sx) * 3;
        values[p * 3] = img.data[i];
        values[p * 3 + 1] = img.data[i + 1];
        values[p * 3 + 2] = img.data[i + 2];
      } else {
        interpolate(img, src.x + fx, src.y + fy, resample === 'bicubic', rgb);
        values[p * 3] = rgb[0];
        values[p * 3 + 1] = rgb[1];
        values[p * 3 + 2] = rgb[2];
      }
    }
  }
  const tight = tighten({ x: 0, y: 0, w: tw, h: th, mask });
  if (!tight) return null;
  const cropped = new Float32Array(tight.w * tight.h * 3);
  for (let y = 0; y < tight.h; y++) {
    const from = ((tight.y + y) * tw + tight.x) * 3;
    cropped.set(values.subarray(from, from + tight.w * 3), y * tight.w * 3);
  }
  return { ...tight, x: 0, y: 0, values: cropped };
}

/** Keys' cubic convolution weight (a = -0.5, as bicubic resampling in image editors and OpenCV). */
function cubic(t: number): number {
  const a = -0.5;
  const x = Math.abs(t);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

/** RGB of `img` at the real position (x, y), bilinear or bicubic, borders replicated. */
function interpolate(img: Image, x: number, y: number, bicubic: boolean, out: number[]): void {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const radius = bicubic ? 2 : 1;
  out[0] = out[1] = out[2] = 0;
  for (let j = 1 - radius; j <= radius; j++) {
    const wy = bicubic ? cubic(y - (y0 + j)) : 1 - Math.abs(y - (y0 + j));
    if (wy === 0) continue;
    const yy = Math.min(img.height - 1, Math.max(0, y0 + j));
    for (let i = 1 - radius; i <= radius; i++) {
      const wx = bicubic ? cubic(x - (x0 + i)) : 1 - Math.abs(x - (x0 + i));
      if (wx === 0) continue;
      const xx = Math.min(img.width - 1, Math.max(0, x0 + i));
      const q = (yy * img.width + xx) * 3;
      const wgt = wx * wy;
      out[0] += wgt * img.data[q];
      out[1] += wgt * img.data[q + 1];
      out[2] += wgt * img.data[q + 2];
    }
  }
}

/** Sometimes alter the copy's appearance (as a forger hiding the duplication would); returns what was done. */
function applyPhotometric(rng: Rng, p: Patch, style: ForgeStyle): Photometric[] {
  const ops: Photometric[] = [];
  if (!rng.bool(style.photometric)) return ops;
  const realistic = style.photometricKinds.includes('contrast');
  const kinds = rng.shuffle([...style.photometricKinds]).slice(0, rng.int(1, 2));
  for (const type of kinds) {
    if (type === 'brightness') {
      const delta = Math.round(realistic ? rng.uniform(3, 15) : rng.uniform(4, 20)) * (rng.bool() ? 1 : -1);
      for (let i = 0; i < p.values.length; i++) p.values[i] += delta;
      ops.push({ type, params: { delta } });
    } else if (type === 'contrast') {
      const gain = Number(rng.uniform(0.85, 1.15).toFixed(3));
      let mean = 0;
      for (let i = 0; i < p.values.length; i++) mean += p.values[i];
      mean /= Math.max(1, p.values.length);
      for (let i = 0; i < p.values.length; i++) p.values[i] = mean + gain * (p.values[i] - mean);
      ops.push({ type, params: { gain } });
    } else if (type === 'blur') {
      const radius = realistic || rng.bool(0.75) ? 1 : 2;
      blurWithin(p, radius);
      ops.push({ type, params: { radius } });
    } else {
      const sigma = Math.round((realistic ? rng.uniform(1, 4) : rng.uniform(2, 6)) * 10) / 10;
      for (let i = 0; i < p.values.length; i++) p.values[i] += rng.normal(0, sigma);
      ops.push({ type, params: { sigma } });
    }
  }
  return ops;
}

/** Box blur that averages only footprint pixels, so background never bleeds into the copy. */
function blurWithin(p: Patch, r: number): void {
  const src = p.values.slice();
  for (let y = 0; y < p.h; y++) {
    for (let x = 0; x < p.w; x++) {
      if (!p.mask[y * p.w + x]) continue;
      let n = 0;
      let r0 = 0;
      let g0 = 0;
      let b0 = 0;
      for (let yy = Math.max(0, y - r); yy <= Math.min(p.h - 1, y + r); yy++) {
        for (let xx = Math.max(0, x - r); xx <= Math.min(p.w - 1, x + r); xx++) {
          const q = yy * p.w + xx;
          if (!p.mask[q]) continue;
          r0 += src[q * 3];
          g0 += src[q * 3 + 1];
          b0 += src[q * 3 + 2];
          n++;
        }
      }
      const o = (y * p.w + x) * 3;
      p.values[o] = r0 / n;
      p.values[o + 1] = g0 / n;
      p.values[o + 2] = b0 / n;
    }
  }
}

/**
 * Per footprint pixel, its blending weight for a feathered edge of `feather` pixels: 1 deep
 * inside, (d / (feather + 1)) for a pixel d steps (chessboard) from the outside. 0 feather: all 1.
 */
function edgeAlpha(p: Footprint, feather: number): Float32Array {
  const alpha = new Float32Array(p.w * p.h);
  for (let q = 0; q < alpha.length; q++) alpha[q] = p.mask[q] ? 1 : 0;
  if (feather === 0) return alpha;
  let inside = p.mask;
  for (let d = 1; d <= feather; d++) {
    const next = new Uint8Array(inside.length);
    for (let y = 0; y < p.h; y++) {
      for (let x = 0; x < p.w; x++) {
        const q = y * p.w + x;
        if (!inside[q]) continue;
        let rim = x === 0 || y === 0 || x === p.w - 1 || y === p.h - 1;
        for (let dy = -1; dy <= 1 && !rim; dy++) {
          for (let dx = -1; dx <= 1 && !rim; dx++) if (!inside[(y + dy) * p.w + x + dx]) rim = true;
        }
        if (rim) alpha[q] = d / (feather + 1);
        else next[q] = 1;
      }
    }
    inside = next;
  }
  return alpha;
}

/**
 * Write the footprint's pixels (rounded, clamped) into the image; with a feathered edge the rim
 * pixels blend with what was there. Nothing outside the footprint is written.
 */
function paste(out: Uint8Array, width: number, p: Patch, feather: number): void {
  const alpha = edgeAlpha(p, feather);
  for (let y = 0; y < p.h; y++) {
    for (let x = 0; x < p.w; x++) {
      const q = y * p.w + x;
      if (!p.mask[q]) continue;
      const a = alpha[q];
      const i = ((p.y + y) * width + p.x + x) * 3;
      for (let k = 0; k < 3; k++) {
        const v = Math.round(a * p.values[q * 3 + k] + (1 - a) * out[i + k]);
        out[i + k] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
}
