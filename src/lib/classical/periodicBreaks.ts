/**
 * Copies that break a periodic pattern. In a figure that repeats exactly on a 2-D lattice (a
 * checkerboard or calibration target, a rendered grid of wells or spots) every region has twins at
 * the lattice's offsets, so matching cannot tell a copy from the pattern's own repeats, and the gate
 * drops such matches as repetitive structure (maxEventShare, minEventEntropy). A region pasted at an
 * offset off the lattice, or turned or rescaled, disagrees with the pattern around it instead: its
 * pixels differ from their lattice neighbours, where every other pixel equals them.
 * 1. The lattice: shifts under which the figure's edge pixels (a sample of them) keep their grey
 *    step, sharply (shifted 2 px further they do not), at least `minPeriod` long; the two shortest
 *    that are not parallel.
 * 2. Broken pixels: those that differ from three of their four lattice neighbours (x +- v1, x +- v2).
 * 3. Regions: broken pixels closed over a quarter period, holes filled, each component an event.
 * A copy's source is one of the pattern's lattice twins, any of them: an event holds the copy alone.
 */
import { connectedComponents } from '../data/components';
import { ConfigError } from '../errors';
import { Rng } from '../util/random';
import type { ResampledTwinPair } from './geometry';
import type { GrayImage } from './grayscale';
import { close, fillHoles } from './maskOps';

export interface PeriodicBreakOptions {
  /** Grey levels (0-255) within which two pixels agree. */
  tolerance: number;
  /** Share of the sampled edge pixels a lattice shift keeps. */
  minAgreement: number;
  /** How much that share must fall 2 px off the shift: smooth content agrees at every short shift. */
  minPeak: number;
  /** Shortest lattice period (px, along the longer axis of the shift). */
  minPeriod: number;
  /** Longest lattice period searched (px); at most a third of the shorter side. */
  maxPeriod: number;
  /** Edge pixels sampled for the lattice search. */
  samples: number;
  /** Smallest region kept (px). */
  minArea: number;
  /** Smallest share of its bounding box a region fills. */
  minFill: number;
  /** Broken regions covering more than this share of the figure mean the lattice does not hold: none kept. */
  maxShare: number;
  seed: number;
}

export const PERIODIC_DEFAULTS: Readonly<PeriodicBreakOptions> = Object.freeze({
  tolerance: 12,
  minAgreement: 0.7,
  minPeak: 0.2,
  minPeriod: 6,
  maxPeriod: 128,
  samples: 1500,
  minArea: 64,
  minFill: 0.3,
  maxShare: 0.25,
  seed: 1,
});

/** Two non-parallel lattice vectors (dx, dy), the shorter first. */
export interface Lattice {
  v1: [number, number];
  v2: [number, number];
}

/**
 * The figure's lattice, or null when it does not repeat exactly in two directions. Edge pixels
 * (a grey step over `tolerance` to the right or below) carry the evidence: in flat areas every
 * shift agrees.
 */
export function findLattice(gray: GrayImage, opts: Partial<PeriodicBreakOptions> = {}): Lattice | null {
  const o = resolve(opts);
  const { width: W, height: H, data } = gray;
  const maxPeriod = Math.min(o.maxPeriod, Math.floor(Math.min(W, H) / 3));
  if (maxPeriod < o.minPeriod) return null;
  // each edge pixel with the neighbour across its larger step (right: 1, below: W)
  const edges: number[] = [];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      const right = x + 1 < W ? Math.abs(data[p + 1] - data[p]) : 0;
      const below = y + 1 < H ? Math.abs(data[p + W] - data[p]) : 0;
      if (Math.max(right, below) > o.tolerance) edges.push(right >= below ? p : -p - 1);
    }
  }
  if (edges.length < 0.01 * W * H) return null;
  // a random sample of them, in random order (the first n of a partial Fisher-Yates shuffle)
  const rng = new Rng(o.seed);
  const n = Math.min(o.samples, edges.length);
  for (let i = 0; i < n; i++) {
    const j = rng.int(i, edges.length - 1);
    [edges[i], edges[j]] = [edges[j], edges[i]];
  }
  const sx = new Int32Array(n);
  const sy = new Int32Array(n);
  const sv = new Int32Array(n);
  const across = new Int32Array(n);
  const sn = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = edges[i] >= 0 ? edges[i] : -edges[i] - 1;
    sx[i] = p % W;
    sy[i] = (p - sx[i]) / W;
    across[i] = edges[i] >= 0 ? 1 : W;
    sv[i] = data[p];
    sn[i] = data[p + across[i]];
  }
  // Share of the samples (of those whose shifted pixel is inside) that keep their grey step; -1 when
  // under 30% are inside or, with `stopBelow`, as soon as the share cannot reach it. The samples are in
  // random order: a shift whose first 32 agree at under 0.6 of stopBelow, or its first 256 at under
  // 0.85 of it, is not a lattice shift (most shifts stop at 32, the look-alike lanes of a gel at 256).
  const agreement = (dx: number, dy: number, stopBelow = 0): number => {
    const maxMisses = (1 - stopBelow) * n;
    let inside = 0;
    let agree = 0;
    for (let i = 0; i < n; i++) {
      const x = sx[i] + dx;
      const y = sy[i] + dy;
      if (x >= 0 && y >= 0 && x + (across[i] === 1 ? 1 : 0) < W && y + (across[i] === 1 ? 0 : 1) < H) {
        inside++;
        const q = y * W + x;
        // the pixel and its step: flat areas and smooth look-alikes seldom repeat a step by chance
        if (Math.abs(data[q] - sv[i]) <= o.tolerance && Math.abs(data[q + across[i]] - sn[i]) <= o.tolerance) agree++;
        else if (stopBelow > 0 && inside - agree > maxMisses) return -1;
      }
      if (stopBelow > 0 && (i === 31 || i === 255) && inside >= (i + 1) / 2 && agree < (i === 31 ? 0.6 : 0.85) * stopBelow * inside) return -1;
    }
    return inside >= 0.3 * n ? agree / inside : -1;
  };
  const found: Array<{ dx: number; dy: number; length: number }> = [];
  for (let dy = 0; dy <= maxPeriod; dy++) {
    for (let dx = -maxPeriod; dx <= maxPeriod; dx++) {
      // one of each pair of opposite shifts
      if ((dy === 0 && dx <= 0) || Math.max(Math.abs(dx), dy) < o.minPeriod) continue;
      const a = agreement(dx, dy, o.minAgreement);
      if (a < o.minAgreement) continue;
      const ring = Math.max(agreement(dx + 2, dy), agreement(dx - 2, dy), agreement(dx, dy + 2), agreement(dx, dy - 2));
      if (a - ring >= o.minPeak) found.push({ dx, dy, length: dx * dx + dy * dy });
    }
  }
  found.sort((a, b) => a.length - b.length);
  if (found.length === 0) return null;
  const v1 = found[0];
  const v2 = found.find((v) => v1.dx * v.dy - v1.dy * v.dx !== 0);
  return v2 ? { v1: [v1.dx, v1.dy], v2: [v2.dx, v2.dy] } : null;
}

/** 0/1 map of the pixels that differ (beyond `tolerance`) from three of their four lattice neighbours (all three inside the figure, at its edge). */
export function latticeBreaks(gray: GrayImage, lattice: Lattice, tolerance = PERIODIC_DEFAULTS.tolerance): Uint8Array {
  const { width: W, height: H, data } = gray;
  const [[ax, ay], [bx, by]] = [lattice.v1, lattice.v2];
  const steps = [[ax, ay], [-ax, -ay], [bx, by], [-bx, -by]];
  const out = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      let inside = 0;
      let differ = 0;
      for (const [dx, dy] of steps) {
        const u = x + dx;
        const v = y + dy;
        if (u < 0 || v < 0 || u >= W || v >= H) continue;
        inside++;
        if (Math.abs(data[v * W + u] - data[p]) > tolerance) differ++;
      }
      // three neighbours at least: a figure's outermost rows and columns often differ from the pattern (a frame, a crop)
      if (inside >= 3 && differ >= Math.ceil(0.75 * inside)) out[p] = 1;
    }
  }
  return out;
}

/**
 * Regions pasted into a periodic figure (native resolution), as region-stage pairs with the copy
 * alone (no source: any lattice twin of it would do), and the lattice they break (null: none found).
 */
export function periodicBreakRegions(gray: GrayImage, opts: Partial<PeriodicBreakOptions> = {}): { map: Uint8Array; pairs: ResampledTwinPair[]; lattice: Lattice | null } {
  const o = resolve(opts);
  const { width: W, height: H } = gray;
  const map = new Uint8Array(W * H);
  const lattice = findLattice(gray, o);
  if (!lattice) return { map, pairs: [], lattice };
  const period = Math.min(Math.hypot(...lattice.v1), Math.hypot(...lattice.v2));
  const regions = fillHoles(close(latticeBreaks(gray, lattice, o.tolerance), W, H, Math.max(2, Math.round(period / 4))), W, H);
  const cc = connectedComponents(regions, H, W);
  // a pasted region is compact; strokes that cross a periodic grid (a chart's curves over its grid lines) are not
  const minArea = Math.max(o.minArea, 0.001 * W * H);
  const keptLabel = new Int32Array(cc.count + 1).fill(-1);
  let kept = 0;
  let area = 0;
  cc.areas.forEach((a, c) => {
    const { x1, y1, x2, y2 } = cc.boxes[c];
    if (a < minArea || a < o.minFill * (x2 - x1) * (y2 - y1)) return;
    keptLabel[c + 1] = kept++;
    area += a;
  });
  if (kept === 0 || area > o.maxShare * W * H) return { map, pairs: [], lattice };
  const copies = Array.from({ length: kept }, () => [] as number[]);
  for (let p = 0; p < W * H; p++) {
    const k = keptLabel[cc.labels[p]];
    if (k < 0) continue;
    copies[k].push(p);
    map[p] = 1;
  }
  const pairs = copies.map((c) => ({ copy: Int32Array.from(c), source: new Int32Array(0), similarity: [1, 0, 0, 0, 1, 0] as ResampledTwinPair['similarity'] }));
  return { map, pairs, lattice };
}

function resolve(opts: Partial<PeriodicBreakOptions>): PeriodicBreakOptions {
  const o = { ...PERIODIC_DEFAULTS, ...opts };
  for (const [k, v] of Object.entries(o)) {
    if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new ConfigError(`periodic breaks: ${k} must be a finite number >= 0, got ${String(v)}`);
  }
  if (o.minAgreement > 1 || o.maxShare > 1 || o.minFill > 1) throw new ConfigError('periodic breaks: minAgreement, minFill and maxShare are shares in [0, 1]');
  if (!Number.isInteger(o.samples) || o.samples < 16) throw new ConfigError(`periodic breaks: samples must be an integer >= 16, got ${o.samples}`);
  return o;
}
