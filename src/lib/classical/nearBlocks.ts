/**
 * Near-duplicate block matching: translated copies that were re-encoded (JPEG), lightly noised or
 * rescaled with the whole figure after the paste.
 *
 * The DCT block matching (blockMatch.ts) hashes quantised coefficients and needs all 15 of a
 * block's codes to agree; a JPEG round trip moves each low-frequency coefficient by a grey level
 * or two, so its hashes almost never meet. Here blocks are compared by distance instead, as in
 * Fridrich's lexicographic matching: the same descriptors (orthonormal DCT, 15 lowest frequencies,
 * no DC) are sorted by coarse bins of their three strongest coefficients and then by a fourth,
 * each block is compared with the next few in that order, and blocks within a noise distance vote
 * for the offset between them. Two passes over bins shifted by half a step keep twins that straddle
 * a bin edge. Translations only: mirrored and turned copies are nearSymmetric.ts's.
 */
import { blockDescriptors, type BlockCodesOf, boxDownscale, downscaleFactor } from './blockMatch';
import type { CopyTransform } from './geometry';
import type { GrayImage } from './grayscale';
import { rescaleTransform } from './ransac';

export interface NearBlockOptions {
  /** Source and copy blocks closer than this (pixels) are one region's overlapping blocks, not a copy. */
  minDistance: number;
  /** Block pairs (after pooling neighbouring offsets) an offset needs. */
  minVotes: number;
  /** Offsets proposed at most, most votes first. */
  maxTransforms: number;
}

const B = 8;
/** Bin step of the sort's coarse coefficients (grey levels of the orthonormal DCT). */
const BIN = 16;
/** How many following blocks in sort order each block is compared with. */
const WINDOW = 8;
/** Twins lie within this distance (15 coefficients) or this share of the block's own AC energy. */
export const ABS_TOLERANCE = 12;
export const REL_TOLERANCE = 0.12;
/** Blocks whose low-frequency AC energy is below this (grey levels) are flat: they match everything. */
export const MIN_ENERGY = 32;
/** Coefficients (indices into blockMatch's FREQS) binned for the sort, and the one ordering each bin. */
const BINNED = [0, 3, 4] as const; // (1,0), (0,1), (1,1)
const FINE = 1; // (2,0)
const OFFSETS = 1 << 14;
/** Bins per coarse coefficient and values of the fine one: the packed sort key stays below 2^53. */
const CELL_BINS = 128;
const FINE_RANGE = 2048;
/** A block with more twins than this in its window is ambiguous (periodic or smooth structure): it does not vote. */
export const MAX_TWINS = 2;

/** Translations supported by many near-identical block pairs, with the pairs' block centres as inliers. */
export function nearBlockTransforms(gray: GrayImage, o: NearBlockOptions, codesOf: BlockCodesOf = blockDescriptors): CopyTransform[] {
  const factor = downscaleFactor(gray);
  if (factor > 1) {
    const small = boxDownscale(gray, factor);
    return nearBlockTransforms(small, { ...o, minDistance: o.minDistance / factor }, codesOf).map((t) => rescaleTransform(t, factor, (factor - 1) / 2));
  }
  const { codes, cols, rows } = codesOf(gray, 1);
  const n = cols * rows;
  if (n === 0) return [];
  const D = codes.length / n;
  const energy = new Float32Array(n);
  const active: number[] = [];
  for (let i = 0; i < n; i++) {
    let e = 0;
    for (let f = 0; f < D; f++) e += codes[i * D + f] ** 2;
    energy[i] = Math.sqrt(e);
    if (energy[i] >= MIN_ENERGY) active.push(i);
  }
  // votes per offset key, and every voting pair (source, copy, key): pairs are gathered for the kept offsets only
  const votes = new Map<number, number>();
  const pairs: number[] = [];
  const key = (dx: number, dy: number) => (dx + OFFSETS / 2) * OFFSETS + dy + OFFSETS / 2;
  const minD2 = Math.max(o.minDistance, B) ** 2;
  const twins: number[] = [];
  forEachNearNeighbours(codes, D, active, n, (i, neighbours) => {
    twins.length = 0;
    for (const j of neighbours) {
      const [s, c] = i < j ? [i, j] : [j, i];
      const sx = s % cols;
      const sy = (s - sx) / cols;
      const cx = c % cols;
      const cy = (c - cx) / cols;
      if ((cx - sx) ** 2 + (cy - sy) ** 2 < minD2) continue;
      const tol = Math.max(ABS_TOLERANCE, REL_TOLERANCE * Math.min(energy[s], energy[c]));
      if (distance2(codes, D, s, c, tol * tol) > tol * tol) continue;
      twins.push(s, c);
    }
    // a block with many twins is periodic or smooth structure, not one copied block
    if (twins.length === 0 || twins.length > 2 * MAX_TWINS) return;
    for (let q = 0; q < twins.length; q += 2) {
      const s = twins[q];
      const c = twins[q + 1];
      const sx = s % cols;
      const cx = c % cols;
      const k = key(cx - sx, (c - cx) / cols - (s - sx) / cols);
      votes.set(k, (votes.get(k) ?? 0) + 1);
      pairs.push(s, c, k);
    }
  });
  return strongestOffsets(votes, pairs, o, cols);
}

/**
 * Calls `visit` with each of the `active` descriptors (indices into `codes`, n in all) and the ones that
 * follow it within WINDOW in the sort by bins and share its cell, in two passes over bins shifted by half
 * a step (the second pass only with those the first one's bins kept apart).
 */
export function forEachNearNeighbours(codes: Int16Array, D: number, active: readonly number[], n: number, visit: (i: number, neighbours: readonly number[]) => void): void {
  const firstCell = new Int32Array(n);
  const neighbours: number[] = [];
  for (const shift of [0, BIN / 2]) {
    const sorted = sortedByBins(codes, D, active, shift, n);
    // unpacked once: float modulo in the inner loop costs more than the comparisons
    const index = new Int32Array(sorted.length);
    const cells = new Int32Array(sorted.length);
    for (let a = 0; a < sorted.length; a++) {
      const cellFine = Math.floor(sorted[a] / n);
      index[a] = sorted[a] - cellFine * n;
      cells[a] = Math.floor(cellFine / FINE_RANGE);
    }
    for (let a = 0; a < sorted.length; a++) {
      const i = index[a];
      const cell = cells[a];
      if (shift === 0) firstCell[i] = cell;
      neighbours.length = 0;
      for (let b = a + 1; b < Math.min(sorted.length, a + 1 + WINDOW); b++) {
        if (cells[b] !== cell) break;
        const j = index[b];
        if (shift !== 0 && firstCell[i] === firstCell[j]) continue;
        neighbours.push(j);
      }
      if (neighbours.length > 0) visit(i, neighbours);
    }
  }
}

/**
 * Active blocks ordered by their cell (binned coarse coefficients, bins shifted by `shift`), then by
 * the fine coefficient, packed as (cell * FINE_RANGE + fine) * n + index in one float64 each.
 */
function sortedByBins(codes: Int16Array, D: number, active: readonly number[], shift: number, n: number): Float64Array {
  const out = new Float64Array(active.length);
  const half = CELL_BINS / 2;
  active.forEach((i, k) => {
    let cell = 0;
    for (const f of BINNED) cell = cell * CELL_BINS + Math.max(-half, Math.min(half - 1, Math.floor((codes[i * D + f] + shift) / BIN))) + half;
    const fine = Math.max(0, Math.min(FINE_RANGE - 1, codes[i * D + FINE] + FINE_RANGE / 2));
    out[k] = (cell * FINE_RANGE + fine) * n + i;
  });
  return out.sort();
}

/** Squared distance of two blocks' descriptors, stopping early once above `limit`. */
export function distance2(codes: Int16Array, D: number, a: number, b: number, limit: number): number {
  let s = 0;
  for (let f = 0; f < D && s <= limit; f++) s += (codes[a * D + f] - codes[b * D + f]) ** 2;
  return s;
}

/** Offsets whose votes, pooled with their 8 neighbours (a copy at half-pixel phase), reach minVotes; near-duplicates dropped. */
function strongestOffsets(votes: Map<number, number>, pairs: readonly number[], o: NearBlockOptions, cols: number): CopyTransform[] {
  const ranked: { k: number; dx: number; dy: number; support: number }[] = [];
  for (const k of votes.keys()) {
    const dx = Math.floor(k / OFFSETS) - OFFSETS / 2;
    const dy = (k % OFFSETS) - OFFSETS / 2;
    let support = 0;
    for (let ey = -1; ey <= 1; ey++) for (let ex = -1; ex <= 1; ex++) support += votes.get((dx + ex + OFFSETS / 2) * OFFSETS + dy + ey + OFFSETS / 2) ?? 0;
    if (support >= o.minVotes) ranked.push({ k, dx, dy, support });
  }
  ranked.sort((a, b) => b.support - a.support);
  const kept: typeof ranked = [];
  for (const r of ranked) {
    if (kept.length >= o.maxTransforms) break;
    if (!kept.some((q) => Math.abs(q.dx - r.dx) <= 2 && Math.abs(q.dy - r.dy) <= 2)) kept.push(r);
  }
  const half = (B - 1) / 2;
  return kept.map(({ k, dx, dy, support }) => {
    const src: number[] = [];
    const dst: number[] = [];
    for (let q = 0; q < pairs.length; q += 3) {
      if (pairs[q + 2] !== k) continue;
      const s = pairs[q];
      const c = pairs[q + 1];
      src.push((s % cols) + half, Math.floor(s / cols) + half);
      dst.push((c % cols) + half, Math.floor(c / cols) + half);
    }
    return { affine: [1, 0, dx, 0, 1, dy], src: Float32Array.from(src), dst: Float32Array.from(dst), inliers: Math.round(support), cluster: -1, flipped: false };
  });
}
