/**
 * Dense block matching: the copy-move candidates that keypoints miss.
 *
 * Keypoints need corners, and copied blot bands, cells and noisy background often hold too few
 * (the keypoint stage finds about half of the copied pixels of the synthetic figures). Here every
 * 8x8 block of the image at its native resolution gets a descriptor: its 15 lowest-frequency
 * orthonormal DCT coefficients, DC left out so a brightness change does not matter, quantised.
 * Equal descriptors are candidate pairs under each of the 8 symmetries of the square (a flip or a
 * quarter turn of a block only changes signs of its DCT coefficients and swaps u and v, so the
 * descriptor of every mirrored/turned block comes for free). Each pair votes for the copy
 * transform it implies (symmetry, offset), as in Fridrich's shift-vector voting; transforms with
 * enough votes leave here as CopyTransforms for the same dense ZNCC verification as the
 * keypoint ones. Native resolution matters: resampling gives a copy and its source different
 * interpolation phases, and the pixel-exact agreement is gone.
 */
import { BlockTable } from './blockTable';
import type { BlockMatchParams } from './blockParams';
import type { GrayImage } from './grayscale';
import { type Affine, type CopyTransform, rescaleTransform } from './ransac';

export { BLOCK_DEFAULTS } from './blockParams';
export type { BlockMatchParams } from './blockParams';

const B = 8;
/** Blocks that look for twins, at most (about): sets the query stride on large images. */
const QUERIES = 1 << 16;
/** Images above this many pixels are matched at a reduced size (see blockMatchTransforms). */
const MAX_PIXELS = 1 << 19;

/** The integer factor an image is box-averaged by to bring it within `maxPixels` (1: native resolution). */
export function downscaleFactor(g: GrayImage, maxPixels = MAX_PIXELS): number {
  return Math.max(1, Math.ceil(Math.sqrt((g.width * g.height) / maxPixels)));
}

/** Mean of each factor x factor cell (the last partial row/column of cells is dropped). */
export function boxDownscale(g: GrayImage, factor: number): GrayImage {
  const w = Math.floor(g.width / factor);
  const h = Math.floor(g.height / factor);
  const data = new Uint8Array(w * h);
  const norm = 1 / (factor * factor);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let dy = 0; dy < factor; dy++) {
        const row = (y * factor + dy) * g.width + x * factor;
        for (let dx = 0; dx < factor; dx++) s += g.data[row + dx];
      }
      data[y * w + x] = Math.round(s * norm);
    }
  }
  return { data, width: w, height: h };
}
/** Offsets are packed into vote keys as integers in [-OFFSETS/2, OFFSETS/2). */
const OFFSETS = 1 << 15;
/** Frequencies (u along x, v along y) of the descriptor: u, v < 4 without DC. */
const FREQS: [number, number][] = [];
for (let v = 0; v < 4; v++) for (let u = 0; u < 4; u++) if (u + v > 0) FREQS.push([u, v]);
const D = FREQS.length;

/** Orthonormal 8-point DCT-II basis, rows u = 0..3. */
const BASIS: Float64Array[] = [0, 1, 2, 3].map((u) => {
  const a = u === 0 ? Math.sqrt(1 / B) : Math.sqrt(2 / B);
  return Float64Array.from({ length: B }, (_, k) => a * Math.cos((Math.PI * (2 * k + 1) * u) / (2 * B)));
});

/**
 * The 8 symmetries of a block, as (transpose, flip x, flip y) applied in that order to local
 * coordinates: block_d(x, y) = block(phi_d(x, y)).
 */
export const SYMMETRIES: { t: boolean; fx: boolean; fy: boolean }[] = [];
for (const t of [false, true]) for (const fx of [false, true]) for (const fy of [false, true]) SYMMETRIES.push({ t, fx, fy });

/**
 * Where the descriptor of block_d takes each coefficient from, and its sign:
 * t = 0: C_d(u,v) = (-1)^(u fx + v fy) C(u,v);  t = 1: C_d(u,v) = (-1)^(u fy + v fx) C(v,u).
 */
export const PERMUTE = SYMMETRIES.map(({ t, fx, fy }) => {
  const from = new Int32Array(D);
  const sign = new Int32Array(D);
  FREQS.forEach(([u, v], f) => {
    from[f] = t ? FREQS.findIndex(([a, b]) => a === v && b === u) : f;
    sign[f] = (t ? u * +fy + v * +fx : u * +fx + v * +fy) % 2 ? -1 : 1;
  });
  return { from, sign };
});

/** The descriptor of block_d, from the descriptor `desc` of the block (one block's codes). */
export function symmetricDescriptor(desc: ArrayLike<number>, d: number): number[] {
  const { from, sign } = PERMUTE[d];
  return Array.from(from, (k, f) => sign[f] * desc[k]);
}

/** Quantised DCT descriptors of every block position (row-major over (W-7) x (H-7)). */
export interface BlockCodes {
  codes: Int16Array;
  cols: number;
  rows: number;
}

/** Where a block stage gets its descriptors: blockDescriptors, or a detection's shared ones (stages.ts). */
export type BlockCodesOf = (gray: GrayImage, quant: number) => BlockCodes;

export function blockDescriptors(gray: GrayImage, quant: number): BlockCodes {
  return blockDescriptorsAt(gray, [quant])[0];
}

/** blockDescriptors at several quantisations in one pass (the DCT sums are shared; each code is rounded as alone). */
export function blockDescriptorsAt(gray: GrayImage, quants: readonly number[]): BlockCodes[] {
  const { width: W, height: H, data } = gray;
  const cols = W - B + 1;
  const rows = H - B + 1;
  if (cols <= 0 || rows <= 0) return quants.map(() => ({ codes: new Int16Array(0), cols: 0, rows: 0 }));
  // Separable: horizontal 8-tap filters per u, then vertical per v, row by row (contiguous reads).
  const horiz = [0, 1, 2, 3].map(() => new Float64Array(cols * H));
  for (let u = 0; u < 4; u++) {
    const c = BASIS[u];
    const out = horiz[u];
    for (let y = 0; y < H; y++) {
      const row = y * W;
      const o = y * cols;
      for (let x = 0; x < cols; x++) {
        const r = row + x;
        out[o + x] = c[0] * data[r] + c[1] * data[r + 1] + c[2] * data[r + 2] + c[3] * data[r + 3] + c[4] * data[r + 4] + c[5] * data[r + 5] + c[6] * data[r + 6] + c[7] * data[r + 7];
      }
    }
  }
  const out = quants.map(() => new Int16Array(cols * rows * D));
  const invs = quants.map((q) => 1 / q);
  const sums = new Float64Array(cols);
  // row by row, every coefficient of the row: its codes and the 8 filtered rows it reads stay in cache
  for (let y = 0; y < rows; y++) {
    for (let f = 0; f < D; f++) {
      const [u, v] = FREQS[f];
      const [c0, c1, c2, c3, c4, c5, c6, c7] = BASIS[v];
      const h = horiz[u];
      for (let x = 0, i = y * cols; x < cols; x++, i++) {
        sums[x] = c0 * h[i] + c1 * h[i + cols] + c2 * h[i + 2 * cols] + c3 * h[i + 3 * cols] + c4 * h[i + 4 * cols] + c5 * h[i + 5 * cols] + c6 * h[i + 6 * cols] + c7 * h[i + 7 * cols];
      }
      const o = y * cols * D + f;
      out.forEach((codes, q) => {
        const inv = invs[q];
        for (let x = 0; x < cols; x++) codes[o + x * D] = Math.round(sums[x] * inv);
      });
    }
  }
  return out.map((codes) => ({ codes, cols, rows }));
}

/** FNV-1a over a descriptor, read through a symmetry's permutation. */
type Permutation = { from: Int32Array; sign: Int32Array };
const IDENTITY: Permutation = PERMUTE[0];

function hashOf(codes: Int16Array, o: number, perm: Permutation): number {
  const { from, sign } = perm;
  let h = 0x811c9dc5;
  for (let f = 0; f < D; f++) {
    h ^= (sign[f] * codes[o + from[f]]) & 0xffff;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function equal(codes: Int16Array, a: number, b: number, perm: Permutation): boolean {
  const { from, sign } = perm;
  for (let f = 0; f < D; f++) if (sign[f] * codes[a + from[f]] !== codes[b + f]) return false;
  return true;
}

/** Source -> copy affine for symmetry d when block q (copy) equals block p (source) under d. */
export function affineOf(d: number, px: number, py: number, qx: number, qy: number): Affine {
  const { t, fx, fy } = SYMMETRIES[d];
  // phi_d(l) = F P l + o; the copy of source pixel s is c = q + (F P)^-1 (s - p - o), (F P)^-1 = P F.
  const ox = fx ? B - 1 : 0;
  const oy = fy ? B - 1 : 0;
  const sx = fx ? -1 : 1;
  const sy = fy ? -1 : 1;
  // F = diag(sx, sy); P F maps (a, b) -> t ? (sy b, sx a) : (sx a, sy b).
  const lin = t ? [0, sy, sx, 0] : [sx, 0, 0, sy];
  const ax = px + ox;
  const ay = py + oy;
  return [lin[0], lin[1], qx - (lin[0] * ax + lin[1] * ay), lin[2], lin[3], qy - (lin[2] * ax + lin[3] * ay)];
}

/**
 * Copy transforms supported by many equal block pairs, with the pairs' block centres as inlier
 * points (image pixels of `gray`). `minDistance` drops pairs whose blocks nearly coincide.
 */
export function blockMatchTransforms(gray: GrayImage, p: BlockMatchParams, minDistance: number, codesOf: BlockCodesOf = blockDescriptors): CopyTransform[] {
  // Pixel budget: larger images are box-averaged by an integer factor first (cost, at the price
  // of pixel-exact agreement), and the transforms mapped back to full resolution.
  const factor = downscaleFactor(gray);
  if (factor > 1) {
    const small = boxDownscale(gray, factor);
    return blockMatchTransforms(small, p, minDistance / factor, codesOf).map((t) => rescaleTransform(t, factor, (factor - 1) / 2));
  }
  const { codes, cols, rows } = codesOf(gray, p.blockQuant);
  const n = cols * rows;
  if (n === 0) return [];
  // Flat blocks (all coefficients quantise to 0) match everything: leave them out.
  const active = new Uint8Array(n);
  const hashes = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < D; f++) {
      if (codes[i * D + f] !== 0) {
        active[i] = 1;
        break;
      }
    }
    if (active[i]) hashes[i] = hashOf(codes, i * D, IDENTITY);
  }
  const table = new BlockTable(hashes, active);
  // Every block is in the table, but on large images only every stride-th block (each way) asks
  // for its twins: a copy still meets its source at the exact offset, with stride^2 fewer votes.
  const stride = Math.max(1, Math.round(Math.sqrt(n / QUERIES)));
  const minVotes = p.blockMinVotes / (stride * stride);
  const votes = new Map<number, { d: number; affine: Affine; pairs: number[] }>();
  const voteKey = (d: number, tx: number, ty: number) => (d * OFFSETS + tx + OFFSETS / 2) * OFFSETS + ty + OFFSETS / 2;
  const minD2 = Math.max(minDistance, B) ** 2;
  const twins = new Int32Array(p.blockMaxBucket);
  for (let d = 0; d < SYMMETRIES.length; d++) {
    const perm = PERMUTE[d];
    for (let py = 0; py < rows; py += stride) {
      for (let px = 0; px < cols; px += stride) {
        const i = py * cols + px;
        if (!active[i]) continue;
        const found = table.find(d === 0 ? hashes[i] : hashOf(codes, i * D, perm), twins, d === 0);
        for (let k = 0; k < found; k++) {
          const j = twins[k];
          if (j === i) continue;
          const qx = j % cols;
          const qy = (j - qx) / cols;
          if ((qx - px) ** 2 + (qy - py) ** 2 < minD2) continue;
          if (!equal(codes, i * D, j * D, perm)) continue;
          // A translation is one transform whichever end asked: the earlier block is the source.
          const [s, c] = d === 0 && j < i ? [j, i] : [i, j];
          const a = affineOf(d, s % cols, Math.floor(s / cols), c % cols, Math.floor(c / cols));
          const key = voteKey(d, a[2], a[5]);
          const v = votes.get(key);
          if (v) v.pairs.push(s, c);
          else votes.set(key, { d, affine: a, pairs: [s, c] });
        }
      }
    }
  }
  // Neighbouring offsets (quantisation, a copy pasted at half-pixel phase) pool their votes.
  const all = [...votes.values()];
  const supportOf = (v: { d: number; affine: Affine }) => {
    let s = 0;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += (votes.get(voteKey(v.d, v.affine[2] + dx, v.affine[5] + dy))?.pairs.length ?? 0) / 2;
    return s;
  };
  const ranked = all.map((v) => ({ v, support: supportOf(v) })).filter((r) => r.support >= minVotes);
  ranked.sort((a, b) => b.support - a.support);
  const kept: typeof ranked = [];
  for (const r of ranked) {
    if (kept.length >= p.blockMaxTransforms) break;
    const near = kept.some((k) => k.v.d === r.v.d && Math.abs(k.v.affine[2] - r.v.affine[2]) <= 2 && Math.abs(k.v.affine[5] - r.v.affine[5]) <= 2);
    if (!near) kept.push(r);
  }
  const half = (B - 1) / 2;
  return kept.map(({ v, support }) => {
    const m = v.pairs.length / 2;
    const src = new Float32Array(2 * m);
    const dst = new Float32Array(2 * m);
    for (let k = 0; k < m; k++) {
      const i = v.pairs[2 * k];
      const j = v.pairs[2 * k + 1];
      src[2 * k] = (i % cols) + half;
      src[2 * k + 1] = Math.floor(i / cols) + half;
      dst[2 * k] = (j % cols) + half;
      dst[2 * k + 1] = Math.floor(j / cols) + half;
    }
    const det = v.affine[0] * v.affine[4] - v.affine[1] * v.affine[3];
    return { affine: v.affine, src, dst, inliers: Math.round(support * stride * stride), cluster: -1, flipped: det < 0 };
  });
}

/**
 * The matched block pairs behind the block-matching transforms: source and copy block centres
 * (x1, y1, x2, y2 per pair, image pixels) and the half side of a block there (copy-move events are
 * grouped by them: infer/copy-link-events.ts).
 */
export function blockPairs(gray: GrayImage, p: BlockMatchParams, minDistance: number): { pairs: Float32Array; radius: number } {
  const transforms = blockMatchTransforms(gray, p, minDistance);
  const pairs = new Float32Array(transforms.reduce((s, t) => s + 2 * t.src.length, 0));
  let o = 0;
  for (const t of transforms) {
    for (let k = 0; k < t.src.length; k += 2) {
      pairs[o++] = t.src[k];
      pairs[o++] = t.src[k + 1];
      pairs[o++] = t.dst[k];
      pairs[o++] = t.dst[k + 1];
    }
  }
  return { pairs, radius: (B * downscaleFactor(gray)) / 2 };
}

/**
 * 0/1 map (H*W) of the blocks behind the block-matching transforms, source and copy: dense
 * copy-move evidence that, unlike pixel-exact twins (exactTwins.ts), survives a brightness change
 * (light noise or blur only sometimes: on a synthetic tuning set it and exact twins together cover
 * 3 of 35 such copies), at the price of coarser outlines (8x8 blocks) and a vote threshold.
 */
export function blockTwinMap(gray: GrayImage, p: BlockMatchParams, minDistance: number): Uint8Array {
  const { width: W, height: H } = gray;
  const out = new Uint8Array(W * H);
  // inlier points are block centres at full resolution; a block spans B x factor pixels
  const side = B * downscaleFactor(gray);
  const half = (side - 1) / 2;
  for (const t of blockMatchTransforms(gray, p, minDistance)) {
    for (const pts of [t.src, t.dst]) {
      for (let k = 0; k < pts.length; k += 2) {
        const x0 = Math.round(pts[k] - half);
        const y0 = Math.round(pts[k + 1] - half);
        for (let y = Math.max(0, y0); y < Math.min(H, y0 + side); y++) out.fill(1, y * W + Math.max(0, x0), y * W + Math.min(W, x0 + side));
      }
    }
  }
  return out;
}
