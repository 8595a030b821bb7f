import type { Rng } from '../../util/random';
import type { Image, Masks } from '../types';
import { randomWobble } from './fluorescence';
import type { Box, CopyRecord, CopyTransform, ForgeryRecord, Photometric } from './manifest';

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

export interface ForgeOptions {
  /** Number of duplicated regions; default 1-3 at random (1 most often). */
  regions?: number;
  /**
   * Probability that a copy keeps the source's row or column (centre-aligned), as when a blot
   * band is duplicated into a neighbouring lane; default 0.15.
   */
  align?: number;
}

export interface ForgeResult {
  image: Image;
  /** (N,H,W): per forgery the source instance, then one instance per copy. */
  masks: Masks;
  forgeries: ForgeryRecord[];
}

const SHAPES: ForgeryRecord['shape'][] = ['rect', 'ellipse', 'blob'];

/**
 * Copy-move forgery: copy 1-3 regions of `clean` elsewhere in the same image. Every copy is
 * sampled (nearest neighbour) from the untouched image, and its mask is defined first and then
 * exactly the mask's pixels are written, so the copy mask covers the pasted pixels and nothing
 * else. Sources and copies never overlap each other, so each instance is unambiguous.
 */
export function forge(rng: Rng, clean: Image, opts: ForgeOptions = {}): ForgeResult {
  if (clean.channels !== 3 || !(clean.data instanceof Uint8Array)) throw new RangeError('forge expects an RGB uint8 image');
  const { width, height } = clean;
  const out = new Uint8Array(clean.data);
  const occupied: Box[] = [];
  const instances: Footprint[] = [];
  const forgeries: ForgeryRecord[] = [];
  const wanted = opts.regions ?? (rng.bool(0.55) ? 1 : rng.bool(0.65) ? 2 : 3);
  let shrink = 1;
  for (let attempt = 0; forgeries.length < wanted && attempt < wanted * 12; attempt++) {
    if (attempt >= 6 && forgeries.length === 0) shrink *= 0.8;
    const made = forgeOne(rng, clean, out, occupied, instances, shrink, opts.align ?? 0.15);
    if (made) forgeries.push(made);
  }
  return result(out, width, height, instances, forgeries);
}

/** Stack the instance footprints into an (N,H,W) mask. */
function result(out: Uint8Array, width: number, height: number, instances: Footprint[], forgeries: ForgeryRecord[]): ForgeResult {
  const n = width * height;
  const data = new Uint8Array(instances.length * n);
  instances.forEach((f, k) => {
    for (let y = 0; y < f.h; y++) {
      for (let x = 0; x < f.w; x++) if (f.mask[y * f.w + x]) data[k * n + (f.y + y) * width + f.x + x] = 1;
    }
  });
  return {
    image: { data: out, width, height, channels: 3 },
    masks: { data, count: instances.length, height, width },
    forgeries,
  };
}

/**
 * Panel reuse, the classic compound-figure duplication: a large crop of one panel pasted into
 * another panel of the same size (as is, or mirrored), standing in for a different condition.
 * Null when the figure has fewer than two panels of equal size.
 */
export function duplicatePanel(rng: Rng, clean: Image, panels: readonly Box[]): ForgeResult | null {
  const { width, height } = clean;
  const from = rng.int(0, panels.length - 1);
  const same = panels.filter((p, i) => i !== from && p.w === panels[from].w && p.h === panels[from].h);
  if (same.length === 0) return null;
  const a = panels[from];
  const b = rng.pick(same);
  const w = Math.max(4, Math.round(a.w * rng.uniform(0.5, 1)));
  const h = Math.max(4, Math.round(a.h * rng.uniform(0.5, 1)));
  const src: Footprint = { x: a.x + rng.int(0, a.w - w), y: a.y + rng.int(0, a.h - h), w, h, mask: new Uint8Array(w * h).fill(1) };
  const transform: CopyTransform = rng.bool(0.8) ? { type: 'translation', params: { dx: 0, dy: 0 } } : { type: 'flip', params: { axis: 'h', dx: 0, dy: 0 } };
  const copy = warp(clean, src, transform);
  if (!copy) return null;
  copy.x = b.x + rng.int(0, b.w - w);
  copy.y = b.y + rng.int(0, b.h - h);
  transform.params.dx = copy.x - src.x;
  transform.params.dy = copy.y - src.y;
  const photometric = applyPhotometric(rng, copy);
  const out = new Uint8Array(clean.data);
  paste(out, width, copy);
  const record: ForgeryRecord = {
    kind: 'panel',
    shape: 'rect',
    content: 'textured',
    source: { x: src.x, y: src.y, w, h },
    sourceInstance: 0,
    copies: [{ box: { x: copy.x, y: copy.y, w: copy.w, h: copy.h }, instance: 1, transform, photometric }],
  };
  return result(out, width, height, [src, copy], [record]);
}

/** One source region and its 1-2 copies; null when nothing fits (the caller retries). */
function forgeOne(rng: Rng, clean: Image, out: Uint8Array, occupied: Box[], instances: Footprint[], shrink: number, align: number): ForgeryRecord | null {
  const { width, height } = clean;
  const shape = rng.pick(SHAPES);
  const content: ForgeryRecord['content'] = rng.bool(0.65) ? 'textured' : 'flat';
  const side = Math.min(width, height) * rng.uniform(0.08, 0.28) * shrink;
  const aspect = Math.exp(rng.uniform(-0.7, 0.7));
  const w = Math.max(4, Math.min(Math.floor(width / 2.5), Math.round(side * Math.sqrt(aspect))));
  const h = Math.max(4, Math.min(Math.floor(height / 2.5), Math.round(side / Math.sqrt(aspect))));
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
  const copies: Array<{ patch: Patch; transform: CopyTransform; photometric: Photometric[] }> = [];
  const nCopies = rng.bool(0.8) ? 1 : 2;
  for (let k = 0; k < nCopies; k++) {
    const transform = pickTransform(rng);
    const warped = warp(clean, source, transform);
    if (!warped || warped.w >= width || warped.h >= height) continue;
    const aligned = rng.bool(align) ? rng.pick(['row', 'column'] as const) : null;
    // Most forgers put the copy where it blends in: among a few free spots, take the one whose
    // brightness is closest to the source's; otherwise the first free spot.
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
      if (collides(box, occupied) || collides(box, planned)) continue;
      candidates++;
      const score = Math.abs(meanLuminance(clean, box) - sourceLevel);
      if (score < chosenScore) {
        chosen = box;
        chosenScore = score;
      }
    }
    if (!chosen) continue;
    warped.x = chosen.x;
    warped.y = chosen.y;
    planned.push(chosen);
    if (transform.type === 'translation' || transform.type === 'flip') {
      transform.params.dx = warped.x - source.x;
      transform.params.dy = warped.y - source.y;
    }
    copies.push({ patch: warped, transform, photometric: applyPhotometric(rng, warped) });
  }
  if (copies.length === 0) return null;

  const sourceInstance = instances.length;
  instances.push(source);
  occupied.push(...planned.map((b) => ({ x: b.x, y: b.y, w: b.w, h: b.h })));
  const records: CopyRecord[] = copies.map(({ patch, transform, photometric }) => {
    paste(out, width, patch);
    instances.push(patch);
    return { box: { x: patch.x, y: patch.y, w: patch.w, h: patch.h }, instance: instances.length - 1, transform, photometric };
  });
  return { kind: 'region', shape, content, source: { x: source.x, y: source.y, w: source.w, h: source.h }, sourceInstance, copies: records };
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
 * The copy of `src` under `t`: for each pixel of the output box, the inverse map gives the source
 * pixel (nearest neighbour); the copy's footprint is exactly the pixels whose source pixel is in
 * the source footprint. Position (x, y) is set by the caller.
 */
function warp(img: Image, src: Footprint, t: CopyTransform): Patch | null {
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
      return [Math.round(u * cos + v * sin + cxS), Math.round(-u * sin + v * cos + cyS)];
    };
  } else {
    const f = Number(t.params.factor);
    tw = Math.max(1, Math.round(w * f));
    th = Math.max(1, Math.round(h * f));
    inverse = (x, y) => [Math.min(w - 1, Math.floor(((x + 0.5) * w) / tw)), Math.min(h - 1, Math.floor(((y + 0.5) * h) / th))];
  }
  const mask = new Uint8Array(tw * th);
  const values = new Float32Array(tw * th * 3);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const [sx, sy] = inverse(x, y);
      if (sx < 0 || sy < 0 || sx >= w || sy >= h || !src.mask[sy * w + sx]) continue;
      const p = y * tw + x;
      mask[p] = 1;
      const i = ((src.y + sy) * img.width + src.x + sx) * 3;
      values[p * 3] = img.data[i];
      values[p * 3 + 1] = img.data[i + 1];
      values[p * 3 + 2] = img.data[i + 2];
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

/** Sometimes alter the copy's appearance (as a forger hiding the duplication would); returns what was done. */
function applyPhotometric(rng: Rng, p: Patch): Photometric[] {
  const ops: Photometric[] = [];
  if (!rng.bool(0.35)) return ops;
  const kinds = rng.shuffle<Photometric['type']>(['brightness', 'blur', 'noise']).slice(0, rng.int(1, 2));
  for (const type of kinds) {
    if (type === 'brightness') {
      const delta = Math.round(rng.uniform(4, 20)) * (rng.bool() ? 1 : -1);
      for (let i = 0; i < p.values.length; i++) p.values[i] += delta;
      ops.push({ type, params: { delta } });
    } else if (type === 'blur') {
      const radius = rng.bool(0.75) ? 1 : 2;
      blurWithin(p, radius);
      ops.push({ type, params: { radius } });
    } else {
      const sigma = Math.round(rng.uniform(2, 6) * 10) / 10;
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

/** Write exactly the footprint's pixels (rounded, clamped) into the image. */
function paste(out: Uint8Array, width: number, p: Patch): void {
  for (let y = 0; y < p.h; y++) {
    for (let x = 0; x < p.w; x++) {
      const q = y * p.w + x;
      if (!p.mask[q]) continue;
      const i = ((p.y + y) * width + p.x + x) * 3;
      for (let k = 0; k < 3; k++) {
        const v = Math.round(p.values[q * 3 + k]);
        out[i + k] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
}
