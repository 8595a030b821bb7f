/**
 * Near-duplicate blocks under the seven other symmetries of the square: mirrored and quarter-turned
 * copies that were re-encoded (JPEG), noised or blurred after the paste, which neither the exact
 * DCT hashes (blockMatch.ts, every code must agree) nor the near-block translations (nearBlocks.ts)
 * find.
 *
 * Each block's descriptor (15 low-frequency DCT coefficients, no DC) is brought to a canonical
 * orientation: the flip, mirror and transpose (a symmetry only permutes the coefficients and changes
 * their signs) that make the (1,0) and (0,1) coefficients non-negative and the (1,0) one at least as
 * large as the (0,1) one. A block and its mirrored or
 * turned copy then share one canonical descriptor, up to the noise; where a choice is within the
 * noise of its edge, the block enters once per orientation it might take. The canonical
 * descriptors are sorted and compared with their neighbours as the near-block translations are, and
 * each close pair votes for the symmetry and offset that map one block onto the other.
 */
import { affineOf, type BlockCodesOf, blockDescriptors, boxDownscale, downscaleFactor, PERMUTE, SYMMETRIES } from './blockMatch';
import type { CopyTransform } from './geometry';
import type { GrayImage } from './grayscale';
import { ABS_TOLERANCE, distance2, forEachNearNeighbours, MAX_TWINS, MIN_ENERGY, type NearBlockOptions, REL_TOLERANCE } from './nearBlocks';
import { rescaleTransform } from './ransac';

const B = 8;
/** A canonical choice within this many grey levels (orthonormal DCT) of its edge is ambiguous: the block enters both ways. */
const MARGIN = 4;
const OFFSETS = 1 << 14;
/** Descriptor indices (blockMatch's FREQS) of the (1,0) and (0,1) coefficients. */
const U10 = 0;
const U01 = 3;

/** How symmetries compose on descriptors: desc under a, then under b, is desc under COMPOSE[a][b]. */
const COMPOSE: number[][] = (() => {
  const probe = Array.from({ length: 15 }, (_, f) => (f + 1) * (f % 2 ? -1 : 1) * 7 + f * f);
  const of = (desc: number[], d: number) => {
    const { from, sign } = PERMUTE[d];
    return Array.from(from, (k, f) => sign[f] * desc[k]);
  };
  const key = (desc: number[]) => desc.join(',');
  const byKey = new Map(SYMMETRIES.map((_, d) => [key(of(probe, d)), d]));
  return SYMMETRIES.map((_, a) => SYMMETRIES.map((__, b) => byKey.get(key(of(of(probe, a), b)))!));
})();
/** INVERSE[d]: the symmetry that undoes d. */
const INVERSE = COMPOSE.map((row) => row.indexOf(0));

/** The orientations a block with (1,0) coefficient a and (0,1) coefficient b may take in canonical form. */
function canonicalSymmetries(a: number, b: number, out: number[]): void {
  out.length = 0;
  for (let d = 0; d < PERMUTE.length; d++) {
    const { from, sign } = PERMUTE[d];
    const c10 = sign[U10] * (from[U10] === U10 ? a : b);
    const c01 = sign[U01] * (from[U01] === U01 ? b : a);
    if (c10 >= -MARGIN && c01 >= -MARGIN && c10 >= c01 - MARGIN) out.push(d);
  }
}

/** Mirrored and turned copies (not translations) supported by many near-identical block pairs, with the pairs' block centres as inliers. */
export function nearSymmetricTransforms(gray: GrayImage, o: NearBlockOptions, codesOf: BlockCodesOf = blockDescriptors): CopyTransform[] {
  const factor = downscaleFactor(gray);
  if (factor > 1) {
    const small = boxDownscale(gray, factor);
    return nearSymmetricTransforms(small, { ...o, minDistance: o.minDistance / factor }, codesOf).map((t) => rescaleTransform(t, factor, (factor - 1) / 2));
  }
  const { codes, cols, rows } = codesOf(gray, 1);
  const n = cols * rows;
  if (n === 0) return [];
  const D = codes.length / n;
  // entries: (block, orientation) with the block's descriptor in that orientation
  const entryBlock: number[] = [];
  const entrySym: number[] = [];
  const energies = new Float32Array(n);
  const orientations: number[] = [];
  for (let i = 0; i < n; i++) {
    let e = 0;
    for (let f = 0; f < D; f++) e += codes[i * D + f] ** 2;
    if (e < MIN_ENERGY * MIN_ENERGY) continue;
    canonicalSymmetries(codes[i * D + U10], codes[i * D + U01], orientations);
    for (const d of orientations) {
      entryBlock.push(i);
      entrySym.push(d);
    }
    energies[i] = Math.sqrt(e);
  }
  const E = entryBlock.length;
  if (E === 0) return [];
  const ecodes = new Int16Array(E * D);
  for (let k = 0; k < E; k++) {
    const { from, sign } = PERMUTE[entrySym[k]];
    const o = entryBlock[k] * D;
    for (let f = 0; f < D; f++) ecodes[k * D + f] = sign[f] * codes[o + from[f]];
  }
  const all = Array.from({ length: E }, (_, k) => k);
  const votes = new Map<number, number>();
  const pairs: number[] = [];
  const key = (r: number, tx: number, ty: number) => (r * OFFSETS + tx + OFFSETS / 2) * OFFSETS + ty + OFFSETS / 2;
  const minD2 = Math.max(o.minDistance, B) ** 2;
  const twins: number[] = [];
  forEachNearNeighbours(ecodes, D, all, E, (ea, neighbours) => {
    twins.length = 0;
    const i = entryBlock[ea];
    for (const eb of neighbours) {
      const j = entryBlock[eb];
      if (j === i) continue;
      // desc_i under sym(ea) ~ desc_j under sym(eb): desc_j ~ desc_i under r
      const r = COMPOSE[entrySym[ea]][INVERSE[entrySym[eb]]];
      if (r === 0) continue; // translations: nearBlocks.ts
      const ix = i % cols;
      const jx = j % cols;
      const iy = (i - ix) / cols;
      const jy = (j - jx) / cols;
      if ((jx - ix) ** 2 + (jy - iy) ** 2 < minD2) continue;
      const tol = Math.max(ABS_TOLERANCE, REL_TOLERANCE * Math.min(energies[i], energies[j]));
      if (distance2(ecodes, D, ea, eb, tol * tol) > tol * tol) continue;
      // a block that is itself symmetric under r (a band's cross-section, a smooth ramp) says nothing of a mirrored copy
      if (selfDistance2(codes, D, i, r, tol * tol) <= tol * tol) continue;
      twins.push(i, j, r);
    }
    if (twins.length === 0 || twins.length > 3 * MAX_TWINS) return;
    for (let q = 0; q < twins.length; q += 3) {
      // the earlier block is the source, so one copy votes for one transform whichever end asked
      const [s, c, r] = twins[q] < twins[q + 1] ? [twins[q], twins[q + 1], twins[q + 2]] : [twins[q + 1], twins[q], INVERSE[twins[q + 2]]];
      const sx = s % cols;
      const cx = c % cols;
      const a = affineOf(r, sx, (s - sx) / cols, cx, (c - cx) / cols);
      const k = key(r, a[2], a[5]);
      votes.set(k, (votes.get(k) ?? 0) + 1);
      pairs.push(s, c, k);
    }
  });
  return strongest(votes, pairs, o, cols);
}

/** Squared distance between block i's descriptor and its own under symmetry d, stopping early once above `limit`. */
function selfDistance2(codes: Int16Array, D: number, i: number, d: number, limit: number): number {
  const { from, sign } = PERMUTE[d];
  const o = i * D;
  let s = 0;
  for (let f = 0; f < D && s <= limit; f++) s += (sign[f] * codes[o + from[f]] - codes[o + f]) ** 2;
  return s;
}

/** Symmetric transforms whose votes, pooled with their 8 neighbouring offsets, reach minVotes; near-duplicates dropped. */
function strongest(votes: Map<number, number>, pairs: readonly number[], o: NearBlockOptions, cols: number): CopyTransform[] {
  const ranked: { k: number; r: number; tx: number; ty: number; support: number }[] = [];
  for (const k of votes.keys()) {
    const ty = (k % OFFSETS) - OFFSETS / 2;
    const rest = Math.floor(k / OFFSETS);
    const tx = (rest % OFFSETS) - OFFSETS / 2;
    const r = Math.floor(rest / OFFSETS);
    let support = 0;
    for (let ey = -1; ey <= 1; ey++) for (let ex = -1; ex <= 1; ex++) support += votes.get((r * OFFSETS + tx + ex + OFFSETS / 2) * OFFSETS + ty + ey + OFFSETS / 2) ?? 0;
    if (support >= o.minVotes) ranked.push({ k, r, tx, ty, support });
  }
  ranked.sort((a, b) => b.support - a.support);
  const kept: typeof ranked = [];
  for (const c of ranked) {
    if (kept.length >= o.maxTransforms) break;
    if (!kept.some((q) => q.r === c.r && Math.abs(q.tx - c.tx) <= 2 && Math.abs(q.ty - c.ty) <= 2)) kept.push(c);
  }
  const half = (B - 1) / 2;
  return kept.map(({ k, r, tx, ty, support }) => {
    const src: number[] = [];
    const dst: number[] = [];
    for (let q = 0; q < pairs.length; q += 3) {
      if (pairs[q + 2] !== k) continue;
      const s = pairs[q];
      const c = pairs[q + 1];
      src.push((s % cols) + half, Math.floor(s / cols) + half);
      dst.push((c % cols) + half, Math.floor(c / cols) + half);
    }
    const lin = affineOf(r, 0, 0, 0, 0);
    return {
      affine: [lin[0], lin[1], tx, lin[3], lin[4], ty],
      src: Float32Array.from(src),
      dst: Float32Array.from(dst),
      inliers: Math.round(support),
      cluster: -1,
      flipped: lin[0] * lin[4] - lin[1] * lin[3] < 0,
    };
  });
}
