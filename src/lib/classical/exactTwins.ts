/**
 * Pixel-exact block twins: a dense copy-move evidence map at native resolution.
 *
 * A region copied by translation, a flip or a quarter turn and pasted without photometric change
 * agrees with its source bit for bit, noise included, while two honest regions of a noisy figure
 * never do. So every B x B block of the image (all channels) is hashed under the 8 symmetries of
 * the square; a block that equals another one under some symmetry (verified pixel by pixel, not
 * only by hash), far enough away, marks both blocks. The map is what a network cannot recover
 * from a resized image (resampling gives copy and source different interpolation phases): the
 * SegFormer copy-move model takes it as an extra input channel (see `computeEvidence` in
 * evidence/index.ts).
 *
 * Blocks that are constant, and hashes shared by more than `maxBucket` blocks (flat gradients,
 * repeated glyphs, periodic texture), are left out: they are ambiguous, not evidence.
 */
import type { Image } from '../data/types';
import { ConfigError } from '../errors';
import { BlockTable, possiblyRepeated } from './blockTable';
import type { Affine, CopyTransform } from './geometry';

export interface ExactTwinOptions {
  /** Block side in pixels (default 6). */
  block?: number;
  /** Twins closer than this (Chebyshev distance of block corners, pixels) are ignored; default = block. */
  minDistance?: number;
  /** Hash buckets holding more blocks than this are ambiguous and skipped (default 4). */
  maxBucket?: number;
  /**
   * Twin pairs a copy transform (symmetry + translation) needs before its blocks count (default 1:
   * every twin counts). A pasted region yields many pairs under one transform; a repeated glyph or
   * a chance twin, a few.
   */
  minVotes?: number;
}

/** The 8 symmetries as (transpose, flip rows, flip columns) of the block's index grid. */
const SYMS: { t: boolean; fi: boolean; fj: boolean }[] = [];
for (const t of [false, true]) for (const fi of [false, true]) for (const fj of [false, true]) SYMS.push({ t, fi, fj });

/** One 32-bit key per pixel over all channels (16-bit data keeps its full value). */
export function pixelKeys(image: Image): Int32Array {
  const { data, width, height, channels: C } = image;
  const n = width * height;
  const keys = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    let h = 0x9e3779b9 | 0;
    for (let c = 0; c < C; c++) h = Math.imul(h ^ data[p * C + c], 0x85ebca6b) ^ (h >>> 13);
    keys[p] = h;
  }
  return keys;
}

/**
 * 0/1 map (H*W) of the pixels covered by a block that has an exact twin elsewhere in the image
 * under a translation, flip or quarter turn.
 */
export function exactTwinMap(image: Image, opts: ExactTwinOptions = {}): Uint8Array {
  const { B, minDistance, maxBucket, minVotes } = resolveExactTwinOptions(opts);
  const { width: W, height: H } = image;
  const out = new Uint8Array(W * H);
  const cols = W - B + 1;
  const rows = H - B + 1;
  if (cols < 1 || rows < 1) return out;
  const keys = pixelKeys(image);
  const grid: BlockGrid = { keys, W, H, B, cols, rows };
  const hashes = blockHashes(grid);
  const active = activeBlocks(grid);
  const { pairA, pairB, pairKey, votes } = verifiedTwinPairs(grid, hashes, active, minDistance, maxBucket);
  const matched = new Uint8Array(rows * cols);
  for (let k = 0; k < pairA.length; k++) if (votes.get(pairKey[k])! >= minVotes) matched[pairA[k]] = matched[pairB[k]] = 1;
  paintBlocks(grid, matched, out);
  return out;
}

/**
 * The copy transforms behind the exact twins, as proposals for the detector's verification (its
 * `exactTwins` stage): every symmetry + offset that at least `minVotes` verified twin pairs share,
 * most votes first, at most `maxTransforms`, each with its block centres as inlier points (native
 * pixels). Unlike the DCT block matching (blockMatch.ts), which box-averages large images and
 * queries every few blocks there, this stays at native resolution with every block: a small copy
 * pasted at an odd offset keeps all of its votes.
 */
export function exactTwinTransforms(image: Image, opts: ExactTwinOptions & { maxTransforms?: number } = {}, pairs: TwinPairs = twinPairs(image, opts)): CopyTransform[] {
  const maxTransforms = opts.maxTransforms ?? 8;
  const kept: TwinTransform[] = [];
  for (const r of rankedTwinTransforms(opts, pairs)) {
    if (kept.length >= maxTransforms) break;
    if (!kept.some((k) => sameAffine(k.affine, invertSymmetry(r.affine)))) kept.push(r);
  }
  return kept.map((r) => toCopyTransform(r, image.width - r.B + 1));
}

/** One symmetry + offset that twin pairs share, with those pairs (block indices, source -> copy). */
export interface TwinTransform {
  affine: Affine;
  votes: number;
  /** Block side, and the upper-left corners (index y * cols + x) of each pair's source and copy block. */
  B: number;
  blocksA: number[];
  blocksB: number[];
}

/**
 * Every symmetry + offset that at least `minVotes` of an image's verified twin pairs (twinPairs) share, most votes first, a
 * transform and its inverse both (the same pairs seen from the other block). An involution (a half
 * turn, a flip across an axis) finds each pair twice: its pairs and votes are counted once.
 */
export function rankedTwinTransforms(opts: ExactTwinOptions, found: TwinPairs): TwinTransform[] {
  const { B, minVotes } = resolveExactTwinOptions(opts);
  if (!found) return [];
  const { pairA, pairB, pairKey, votes } = found;
  const ranked = [...votes.entries()]
    .map(([key, v]) => {
      const affine = keyAffine(B, key);
      const involution = sameAffine(affine, invertSymmetry(affine));
      return { key, affine, involution, votes: involution ? v / 2 : v };
    })
    .filter((r) => r.votes >= minVotes)
    .sort((a, b) => b.votes - a.votes);
  const index = new Map(ranked.map((r, k) => [r.key, k]));
  const out: TwinTransform[] = ranked.map((r) => ({ affine: r.affine, votes: r.votes, B, blocksA: [], blocksB: [] }));
  for (let k = 0; k < pairKey.length; k++) {
    const at = index.get(pairKey[k]);
    if (at === undefined || (ranked[at].involution && pairA[k] > pairB[k])) continue;
    out[at].blocksA.push(pairA[k]);
    out[at].blocksB.push(pairB[k]);
  }
  return out;
}

/** A twin transform as a proposal for verification: its block centres as inlier points (native pixels). */
function toCopyTransform(r: TwinTransform, cols: number): CopyTransform {
  const half = (r.B - 1) / 2;
  const src: number[] = [];
  const dst: number[] = [];
  for (let k = 0; k < r.blocksA.length; k++) {
    src.push((r.blocksA[k] % cols) + half, Math.floor(r.blocksA[k] / cols) + half);
    dst.push((r.blocksB[k] % cols) + half, Math.floor(r.blocksB[k] / cols) + half);
  }
  const det = r.affine[0] * r.affine[4] - r.affine[1] * r.affine[3];
  return { affine: r.affine, src: Float32Array.from(src), dst: Float32Array.from(dst), inliers: src.length / 2, cluster: -1, flipped: det < 0, pixelExact: true };
}

/** Every verified twin pair of an image (undefined when it is smaller than a block). */
export type TwinPairs = ReturnType<typeof verifiedTwinPairs> | undefined;

/**
 * The verified twin pairs of an image under the options' block, minDistance and maxBucket (minVotes
 * applies later). Two detection stages read them, exact twins and exact regions: a detection
 * computes them once (StageInput.memo with twinPairsKey).
 */
export function twinPairs(image: Image, opts: ExactTwinOptions = {}): TwinPairs {
  const { B, minDistance, maxBucket } = resolveExactTwinOptions(opts);
  const { width: W, height: H } = image;
  const cols = W - B + 1;
  const rows = H - B + 1;
  if (cols < 1 || rows < 1) return undefined;
  const grid: BlockGrid = { keys: pixelKeys(image), W, H, B, cols, rows };
  const hashes = blockHashes(grid);
  const active = activeBlocks(grid);
  return verifiedTwinPairs(grid, hashes, active, minDistance, maxBucket);
}

/** What twinPairs depends on among the options, as a memo key. */
export function twinPairsKey(opts: ExactTwinOptions = {}): string {
  const { B, minDistance, maxBucket } = resolveExactTwinOptions(opts);
  return `twin pairs ${B}/${minDistance}/${maxBucket}`;
}

/**
 * The affine (P's pixels -> Q's) of a twin key (originKey). Pixel (x, y) of P's block lands at
 * (qx + j, qy + i) with (i, j) = t ? (l', k') : (k', l'), k' = fi ? B-1-(y-py) : y-py, l' likewise in x.
 */
function keyAffine(B: number, key: number): Affine {
  const Y0 = (key % 65536) - 32768;
  const rest = (key - (Y0 + 32768)) / 65536;
  const X0 = (rest % 65536) - 32768;
  const s = (rest - (X0 + 32768)) / 65536;
  const { t, fi, fj } = SYMS[s];
  const sx = fj ? -1 : 1;
  const sy = fi ? -1 : 1;
  return t ? [0, sy, X0, sx, 0, Y0] : [sx, 0, X0, 0, sy, Y0];
}

/** The inverse of an integer symmetry + offset (its linear part is orthogonal: inverse = transpose). */
export function invertSymmetry(a: Affine): Affine {
  const [p, q, tx, r, s, ty] = a;
  return [p, r, -(p * tx + r * ty), q, s, -(q * tx + s * ty)];
}

export function sameAffine(a: Affine, b: Affine): boolean {
  return a.every((v, i) => Math.abs(v - b[i]) < 1e-9);
}

function resolveExactTwinOptions(opts: ExactTwinOptions): { B: number; minDistance: number; maxBucket: number; minVotes: number } {
  const B = opts.block ?? 6;
  const minDistance = opts.minDistance ?? B;
  const maxBucket = opts.maxBucket ?? 4;
  const minVotes = opts.minVotes ?? 1;
  if (!Number.isInteger(B) || B < 2 || B > 32) throw new ConfigError(`exact twins: block must be an integer in [2, 32], got ${B}`);
  if (!(minDistance >= 0)) throw new ConfigError(`exact twins: minDistance must be >= 0, got ${minDistance}`);
  if (!Number.isInteger(maxBucket) || maxBucket < 2) throw new ConfigError(`exact twins: maxBucket must be an integer >= 2, got ${maxBucket}`);
  if (!Number.isInteger(minVotes) || minVotes < 1) throw new ConfigError(`exact twins: minVotes must be an integer >= 1, got ${minVotes}`);
  return { B, minDistance, maxBucket, minVotes };
}

/** An image's pixel keys and its grid of B x B blocks (cols x rows block positions). */
interface BlockGrid {
  keys: Int32Array;
  W: number;
  H: number;
  B: number;
  cols: number;
  rows: number;
}

// Polynomial block hash h(Q) = sum Q[i][j] a^i b^j (mod 2^32). A symmetry only moves which power
// multiplies which pixel, so the hash of every symmetric variant of a block comes from four
// horizontal passes (powers of b or a, forwards or reversed) and eight vertical ones.
const A = 0x2f0b3a49;
const Bm = 0x6c8e9cf5;

function pow(base: number, e: number): number {
  let r = 1;
  for (let k = 0; k < e; k++) r = Math.imul(r, base);
  return r;
}

/**
 * Sliding window sums of B values over `count` windows of `src` (element stride `step`), O(1) per
 * window: forward coefficients base^j (scanned right to left), reversed base^(B-1-j) (left to right).
 */
function slide(B: number, src: Int32Array, s0: number, step: number, count: number, out: Int32Array, o0: number, ostep: number, base: number, reversed: boolean): void {
  const top = pow(base, reversed ? B - 1 : B);
  if (reversed) {
    let h = 0;
    for (let j = 0; j < B; j++) h = (Math.imul(h, base) + src[s0 + j * step]) | 0;
    out[o0] = h;
    for (let x = 1; x < count; x++) {
      h = (Math.imul((h - Math.imul(src[s0 + (x - 1) * step], top)) | 0, base) + src[s0 + (x + B - 1) * step]) | 0;
      out[o0 + x * ostep] = h;
    }
  } else {
    let h = 0;
    for (let j = B - 1; j >= 0; j--) h = (Math.imul(h, base) + src[s0 + (count - 1 + j) * step]) | 0;
    out[o0 + (count - 1) * ostep] = h;
    for (let x = count - 2; x >= 0; x--) {
      h = (src[s0 + x * step] + Math.imul(h, base) - Math.imul(src[s0 + (x + B) * step], top)) | 0;
      out[o0 + x * ostep] = h;
    }
  }
}

interface BlockHashes {
  /** The identity's hash of every block. */
  ident: Int32Array;
  /** The smallest of the hashes of the block's 8 symmetric variants: the same for a block and each of its twins. */
  canonical: Int32Array;
}

function blockHashes(g: BlockGrid): BlockHashes {
  const { keys, W, H, B, cols, rows } = g;
  // Horizontal passes: powers of b or a, forwards or reversed.
  const rowPass = [
    [Bm, false],
    [Bm, true],
    [A, false],
    [A, true],
  ].map(([base, reversed]) => {
    const r = new Int32Array(H * cols);
    for (let y = 0; y < H; y++) slide(B, keys, y * W, 1, cols, r, y * cols, 1, base as number, reversed as boolean);
    return r;
  });
  // variant s of block P has P[k][l] at (i, j) = t ? (l', k') : (k', l') with k' = fi ? B-1-k : k, l' = fj ? B-1-l : l
  // (i indexes rows of the variant): coefficient a^i b^j.
  // One symmetry's hashes at a time (memory: the identity's, the running minimum, and one more).
  const variant = (sym: number, out: Int32Array): Int32Array => {
    const { t, fi, fj } = SYMS[sym];
    // non-transposed: row pass over l with b^{l'}, column pass over k with a^{k'};
    // transposed: row pass over l with a^{l'}, column pass over k with b^{k'}.
    slideRows(B, rowPass[(t ? 2 : 0) + (fj ? 1 : 0)], cols, rows, out, t ? Bm : A, fi);
    return out;
  };
  const ident = variant(0, new Int32Array(rows * cols));
  const canonical = Int32Array.from(ident);
  const scratch = new Int32Array(rows * cols);
  for (let sym = 1; sym < SYMS.length; sym++) {
    variant(sym, scratch);
    for (let i = 0; i < canonical.length; i++) if (scratch[i] < canonical[i]) canonical[i] = scratch[i];
  }
  return { ident, canonical };
}

/**
 * `slide` down every column of `src` (cols wide) at once, a row at a time: the same sums, with the
 * memory read in order rather than a column's stride apart.
 */
function slideRows(B: number, src: Int32Array, cols: number, count: number, out: Int32Array, base: number, reversed: boolean): void {
  const top = pow(base, reversed ? B - 1 : B);
  const h = new Int32Array(cols);
  if (reversed) {
    for (let j = 0; j < B; j++) for (let x = 0, o = j * cols; x < cols; x++) h[x] = (Math.imul(h[x], base) + src[o + x]) | 0;
    out.set(h, 0);
    for (let y = 1; y < count; y++) {
      const drop = (y - 1) * cols;
      const add = (y + B - 1) * cols;
      const o = y * cols;
      for (let x = 0; x < cols; x++) out[o + x] = h[x] = (Math.imul((h[x] - Math.imul(src[drop + x], top)) | 0, base) + src[add + x]) | 0;
    }
  } else {
    for (let j = B - 1; j >= 0; j--) for (let x = 0, o = (count - 1 + j) * cols; x < cols; x++) h[x] = (Math.imul(h[x], base) + src[o + x]) | 0;
    out.set(h, (count - 1) * cols);
    for (let y = count - 2; y >= 0; y--) {
      const add = y * cols;
      const drop = (y + B) * cols;
      for (let x = 0; x < cols; x++) out[add + x] = h[x] = (src[add + x] + Math.imul(h[x], base) - Math.imul(src[drop + x], top)) | 0;
    }
  }
}

/** Blocks that are not constant: constant blocks match any other constant block of the same value, which is not evidence. */
function activeBlocks(g: BlockGrid): Uint8Array {
  const { keys, W, B, cols, rows } = g;
  const active = new Uint8Array(rows * cols);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      const k0 = keys[y * W + x];
      let varied = false;
      for (let k = 0; k < B && !varied; k++) {
        const o = (y + k) * W + x;
        for (let j = 0; j < B; j++) {
          if (keys[o + j] !== k0) {
            varied = true;
            break;
          }
        }
      }
      active[y * cols + x] = varied ? 1 : 0;
    }
  }
  return active;
}

/**
 * Verified twin pairs, each with the copy transform it implies: the symmetry and where the image
 * origin lands, which all block pairs of one pasted region share (`votes` counts them per key).
 *
 * A block and its twin under any symmetry have the same set of 8 variant hashes, so they share the
 * smallest of them (the block's canonical hash): one lookup per block finds the few blocks that
 * can have a twin at all, instead of one lookup per block and symmetry in a table of every block
 * (8 random reads of a large table, most of this stage's time). Only those candidates are then
 * looked up symmetry by symmetry, in a table of the candidates alone.
 */
function verifiedTwinPairs(
  g: BlockGrid,
  hashes: BlockHashes,
  active: Uint8Array,
  minDistance: number,
  maxBucket: number,
): { pairA: number[]; pairB: number[]; pairKey: number[]; votes: Map<number, number> } {
  const { cols } = g;
  const pairA: number[] = [];
  const pairB: number[] = [];
  const pairKey: number[] = [];
  const votes = new Map<number, number>();
  const { blocks, isCandidate } = twinCandidates(hashes, active);
  const table = new BlockTable(hashes.ident, isCandidate);
  const power = hashPowers(g.B);
  const twins = new Int32Array(maxBucket);
  for (let s = 0; s < SYMS.length; s++) {
    for (const i of blocks) {
      const px = i % cols;
      const py = (i - px) / cols;
      // the identity finds the block itself: a twin needs the hash twice
      const found = table.find(variantHash(g, power, s, px, py), twins, s === 0);
      if (found <= 0) continue;
      for (let f = 0; f < found; f++) {
        const q = twins[f];
        const qx = q % cols;
        const qy = (q - qx) / cols;
        if (Math.max(Math.abs(qx - px), Math.abs(qy - py)) < minDistance) continue;
        if (!sameUnder(g, s, px, py, qx, qy)) continue;
        const key = originKey(g.B, s, px, py, qx, qy);
        votes.set(key, (votes.get(key) ?? 0) + 1);
        pairA.push(i);
        pairB.push(q);
        pairKey.push(key);
      }
    }
  }
  return { pairA, pairB, pairKey, votes };
}

/**
 * The active blocks whose canonical hash another active block shares, the only ones that can have a
 * twin: ascending, and as a 0/1 mask.
 */
function twinCandidates(hashes: BlockHashes, active: Uint8Array): { blocks: number[]; isCandidate: Uint8Array } {
  const { canonical } = hashes;
  // usually few blocks pass the filter, so only they need a table (one of every block costs a cache miss per block)
  const isCandidate = possiblyRepeated(canonical, active);
  const table = new BlockTable(canonical, isCandidate);
  const probe = new Int32Array(2);
  const blocks: number[] = [];
  for (let i = 0; i < isCandidate.length; i++) {
    if (!isCandidate[i]) continue;
    // 2, or -1 past two: another block shares the hash; 1: the block alone
    const found = table.find(canonical[i], probe, true);
    if (found === 2 || found === -1) blocks.push(i);
    else isCandidate[i] = 0;
  }
  return { blocks, isCandidate };
}

/** a^k and b^k for k < B: the hash's coefficients. */
function hashPowers(B: number): { a: Int32Array; b: Int32Array } {
  const a = new Int32Array(B);
  const b = new Int32Array(B);
  for (let k = 0; k < B; k++) {
    a[k] = pow(A, k);
    b[k] = pow(Bm, k);
  }
  return { a, b };
}

/** The hash of symmetry s's variant of the block at (px, py), from its pixels: what blockHashes' passes give it. */
function variantHash(g: BlockGrid, power: { a: Int32Array; b: Int32Array }, s: number, px: number, py: number): number {
  const { keys, W, B } = g;
  const { t, fi, fj } = SYMS[s];
  let h = 0;
  for (let k = 0; k < B; k++) {
    const kk = fi ? B - 1 - k : k;
    for (let l = 0; l < B; l++) {
      const ll = fj ? B - 1 - l : l;
      const c = t ? Math.imul(power.a[ll], power.b[kk]) : Math.imul(power.a[kk], power.b[ll]);
      h = (h + Math.imul(keys[(py + k) * W + px + l], c)) | 0;
    }
  }
  return h;
}

/** Pixel by pixel: is symmetry s's variant of the block at (px, py) the block at (qx, qy)? variant[i][j] of P is Q[i][j]. */
function sameUnder(g: BlockGrid, s: number, px: number, py: number, qx: number, qy: number): boolean {
  const { keys, W, B } = g;
  const { t, fi, fj } = SYMS[s];
  for (let k = 0; k < B; k++) {
    for (let l = 0; l < B; l++) {
      const kk = fi ? B - 1 - k : k;
      const ll = fj ? B - 1 - l : l;
      const vi = t ? ll : kk;
      const vj = t ? kk : ll;
      if (keys[(py + k) * W + px + l] !== keys[(qy + vi) * W + qx + vj]) return false;
    }
  }
  return true;
}

/** The copy transform of a twin pair as one number: the symmetry, and where image pixel (0, 0) of P's block lands in Q's frame. */
function originKey(B: number, s: number, px: number, py: number, qx: number, qy: number): number {
  const { t, fi, fj } = SYMS[s];
  // Image pixel (x, y) of P's block lands at (qx + j, qy + i) of Q's: where does the origin go?
  const l0 = fj ? B - 1 + px : -px;
  const k0 = fi ? B - 1 + py : -py;
  const X0 = qx + (t ? k0 : l0);
  const Y0 = qy + (t ? l0 : k0);
  return (s * 65536 + X0 + 32768) * 65536 + Y0 + 32768;
}

/** Paint matched blocks into `out` (a 2D running count of block corners covering each pixel). */
function paintBlocks(g: BlockGrid, matched: Uint8Array, out: Uint8Array): void {
  const { W, H, B, cols } = g;
  const diff = new Int32Array((W + 1) * (H + 1));
  for (let i = 0; i < matched.length; i++) {
    if (!matched[i]) continue;
    const x = i % cols;
    const y = (i - x) / cols;
    diff[y * (W + 1) + x]++;
    diff[y * (W + 1) + x + B]--;
    diff[(y + B) * (W + 1) + x]--;
    diff[(y + B) * (W + 1) + x + B]++;
  }
  for (let y = 0; y < H; y++) {
    let run = 0;
    for (let x = 0; x <= W; x++) {
      const o = y * (W + 1) + x;
      if (y > 0) diff[o] += diff[o - (W + 1)];
    }
    for (let x = 0; x < W; x++) {
      run += diff[y * (W + 1) + x];
      if (run > 0) out[y * W + x] = 1;
    }
  }
}
