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
import type { GrayImage } from './grayscale';
import type { Affine, CopyTransform } from './ransac';

export interface BlockMatchParams {
  /** Quantisation step of the DCT coefficients (grey levels): larger tolerates more noise, and merges more look-alikes. */
  blockQuant: number;
  /** Votes (matched block pairs) a transform needs. */
  blockMinVotes: number;
  /** Buckets holding more blocks than this are ambiguous (flat or periodic texture) and skipped. */
  blockMaxBucket: number;
  /** Transforms kept per image, most votes first. */
  blockMaxTransforms: number;
}

/** Defaults chosen on synthetic validation figures (generator seed 2): see README, classical detector. */
export const BLOCK_DEFAULTS: Readonly<BlockMatchParams> = Object.freeze({
  blockQuant: 4,
  blockMinVotes: 64,
  blockMaxBucket: 3,
  blockMaxTransforms: 8,
});

const B = 8;
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
const PERMUTE = SYMMETRIES.map(({ t, fx, fy }) =>
  FREQS.map(([u, v]) => {
    const from = t ? FREQS.findIndex(([a, b]) => a === v && b === u) : FREQS.findIndex(([a, b]) => a === u && b === v);
    const odd = t ? u * +fy + v * +fx : u * +fx + v * +fy;
    return { from, sign: odd % 2 ? -1 : 1 };
  }),
);

/** The descriptor of block_d, from the descriptor `desc` of the block (one block's codes). */
export function symmetricDescriptor(desc: ArrayLike<number>, d: number): number[] {
  return PERMUTE[d].map(({ from, sign }) => sign * desc[from]);
}

/** Quantised DCT descriptors of every block position (row-major over (W-7) x (H-7)). */
export function blockDescriptors(gray: GrayImage, quant: number): { codes: Int16Array; cols: number; rows: number } {
  const { width: W, height: H, data } = gray;
  const cols = W - B + 1;
  const rows = H - B + 1;
  if (cols <= 0 || rows <= 0) return { codes: new Int16Array(0), cols: 0, rows: 0 };
  // Separable: horizontal 8-tap filters per u, then vertical per v.
  const horiz = [0, 1, 2, 3].map(() => new Float64Array(cols * H));
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < cols; x++) {
      const o = y * W + x;
      for (let u = 0; u < 4; u++) {
        const c = BASIS[u];
        let s = 0;
        for (let k = 0; k < B; k++) s += c[k] * data[o + k];
        horiz[u][y * cols + x] = s;
      }
    }
  }
  const codes = new Int16Array(cols * rows * D);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      const o = (y * cols + x) * D;
      for (let f = 0; f < D; f++) {
        const [u, v] = FREQS[f];
        const c = BASIS[v];
        const h = horiz[u];
        let s = 0;
        for (let k = 0; k < B; k++) s += c[k] * h[(y + k) * cols + x];
        codes[o + f] = Math.round(s / quant);
      }
    }
  }
  return { codes, cols, rows };
}

/** FNV-1a over a descriptor, read through a symmetry's permutation. */
function hashOf(codes: Int16Array, o: number, perm: { from: number; sign: number }[] | null): number {
  let h = 0x811c9dc5;
  for (let f = 0; f < D; f++) {
    const v = perm ? perm[f].sign * codes[o + perm[f].from] : codes[o + f];
    h ^= v & 0xffff;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function equal(codes: Int16Array, a: number, b: number, perm: { from: number; sign: number }[] | null): boolean {
  for (let f = 0; f < D; f++) {
    const v = perm ? perm[f].sign * codes[a + perm[f].from] : codes[a + f];
    if (v !== codes[b + f]) return false;
  }
  return true;
}

/** Source -> copy affine for symmetry d when block q (copy) equals block p (source) under d. */
function affineOf(d: number, px: number, py: number, qx: number, qy: number): Affine {
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
export function blockMatchTransforms(gray: GrayImage, p: BlockMatchParams, minDistance: number): CopyTransform[] {
  const { codes, cols, rows } = blockDescriptors(gray, p.blockQuant);
  const n = cols * rows;
  if (n === 0) return [];
  // Flat blocks (all coefficients quantise to 0) match everything: leave them out.
  const active = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < D; f++) {
      if (codes[i * D + f] !== 0) {
        active[i] = 1;
        break;
      }
    }
  }
  const buckets = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    if (!active[i]) continue;
    const h = hashOf(codes, i * D, null);
    const list = buckets.get(h);
    if (list) list.push(i);
    else buckets.set(h, [i]);
  }
  const votes = new Map<string, { d: number; affine: Affine; pairs: number[] }>();
  const minD2 = Math.max(minDistance, B) ** 2;
  for (let d = 0; d < SYMMETRIES.length; d++) {
    const perm = d === 0 ? null : PERMUTE[d];
    for (let i = 0; i < n; i++) {
      if (!active[i]) continue;
      const list = buckets.get(hashOf(codes, i * D, perm));
      if (!list || list.length > p.blockMaxBucket) continue;
      const px = i % cols;
      const py = (i - px) / cols;
      for (const j of list) {
        // The identity pairs each unordered pair once.
        if (d === 0 && j <= i) continue;
        const qx = j % cols;
        const qy = (j - qx) / cols;
        if ((qx - px) ** 2 + (qy - py) ** 2 < minD2) continue;
        if (!equal(codes, i * D, j * D, perm)) continue;
        const a = affineOf(d, px, py, qx, qy);
        const key = `${d}:${a[2]}:${a[5]}`;
        const v = votes.get(key);
        if (v) v.pairs.push(i, j);
        else votes.set(key, { d, affine: a, pairs: [i, j] });
      }
    }
  }
  // Neighbouring offsets (quantisation, a copy pasted at half-pixel phase) pool their votes.
  const all = [...votes.values()];
  const supportOf = (v: { d: number; affine: Affine }) => {
    let s = 0;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += (votes.get(`${v.d}:${v.affine[2] + dx}:${v.affine[5] + dy}`)?.pairs.length ?? 0) / 2;
    return s;
  };
  const ranked = all.map((v) => ({ v, support: supportOf(v) })).filter((r) => r.support >= p.blockMinVotes);
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
    return { affine: v.affine, src, dst, inliers: Math.round(support), cluster: -1, flipped: det < 0 };
  });
}
