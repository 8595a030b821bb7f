/**
 * Rotation-invariant dense copy-move matching, after Cozzolino, Poggi & Verdoliva ("Efficient
 * dense-field copy-move forgery detection", TIFS 2015): a feature per pixel that does not change
 * when the patch around it turns or mirrors, a nearest-neighbour field by PatchMatch, and a test
 * that the matches of a region move as one piece. It proposes the copies that neither keypoints
 * (too few corners on a small region) nor block matching (no block-aligned twin after a turn by
 * an odd angle) can find; verify.ts then decides, as for every other proposal.
 *
 * Features are grey-level quantiles of a small disc (rankFeatures). Low-order rotation-invariant
 * moments (magnitudes of Gaussian-windowed complex moments, the Zernike family) were tried first:
 * on the small stochastic textures of scientific figures they blur together, and the true match
 * was rarely the nearest one.
 */
import { ConfigError } from '../errors';
import { Rng } from '../util/random';
import type { GrayImage } from './grayscale';
import { boxDownscale, downscaleFactor } from './blockMatch';
import { type Affine, type CopyTransform, applyAffine, rescaleTransform, singularValues } from './ransac';
import { leastSquaresSimilarity } from './similarity';

/**
 * Default pixels matched at native resolution (362x362); larger images are box-downscaled first, a
 * 1 MP figure by 3. Twice this (a 1 MP figure by 2) costs ~0.5 s per 1 MP figure (docs/results.md).
 */
export const DENSE_MAX_PIXELS = 1 << 17;

export interface DenseMatchOptions {
  /** Disc radius of the rank features (default 4: 9x9 discs, small enough for small copies). */
  radius?: number;
  /** Matches closer than this many pixels are the same structure, not a copy (default 12). */
  minDistance?: number;
  /** PatchMatch iterations (default 3; 5 found 2 more true copies of 104 on the tuning set at 1.4x the time). */
  iterations?: number;
  /** A copied pixel's match lies within this many pixels of its region's affine fit (default 2). */
  maxFitError?: number;
  /** Discs whose grey-level standard deviation is below this are flat and never match (default 4). */
  minContrast?: number;
  /**
   * Coherent regions need this many matching pixels (default 100: on the seed-5 tuning set, 104 of
   * 130 true proposals and 25 of 161 false ones, 8 of them on authentic figures, were this large).
   */
  minArea?: number;
  /** Proposals returned, largest first (default 12): verification costs far more than matching. */
  maxCandidates?: number;
  /** Seed of the hashing and of PatchMatch's random search. */
  seed?: number;
  /** Pixel budget (default DENSE_MAX_PIXELS): larger images are box-downscaled by an integer factor first. */
  maxPixels?: number;
}

const DEFAULTS: Required<DenseMatchOptions> = {
  radius: 4,
  minDistance: 12,
  iterations: 3,
  maxFitError: 2,
  minContrast: 4,
  minArea: 100,
  maxCandidates: 12,
  seed: 1,
  maxPixels: DENSE_MAX_PIXELS,
};

/** Features per pixel (interleaved, `dims` per pixel) and which pixels carry them. */
export interface PixelFeatures {
  data: Float32Array;
  dims: number;
  /** 1 where the disc lies inside the image and is not flat. */
  valid: Uint8Array;
  width: number;
  height: number;
}

/**
 * Rank features: quantiles of the grey levels in a disc of radius `r` and in the disc of radius
 * r/2 around each pixel. The set of values in a disc does not change when the disc turns or
 * mirrors, and its quantiles hardly change when the copy was resampled, so they stay distinctive
 * on small stochastic textures where low-order moments blur together. A rescaled copy's discs
 * hold a different share of its texture: such copies are mostly missed.
 */
export function rankFeatures(gray: GrayImage, r = DEFAULTS.radius, minContrast = DEFAULTS.minContrast): PixelFeatures {
  const { width: W, height: H, data } = gray;
  const QO = 9;
  const QI = 5;
  const D = QO + QI;
  const n = W * H;
  const out = new Float32Array(n * D);
  const valid = new Uint8Array(n);
  if (W <= 2 * r || H <= 2 * r) return { data: out, dims: D, valid, width: W, height: H };
  // Each disc is a histogram slid along the row (Huang's running median): a step right removes
  // the disc's left edge and adds its right edge, and the quantiles come from a walk over 16
  // coarse then 16 fine bins. The same values as sorting every disc, several times faster.
  const halfWidths = (bound: number) => {
    const hw = new Int32Array(2 * r + 1).fill(-1);
    for (let dy = -r; dy <= r; dy++) for (let dx = 0; dx <= r; dx++) if (dx * dx + dy * dy <= bound) hw[dy + r] = dx;
    return hw;
  };
  const discs = [
    { hw: halfWidths(r * r + r), q: QO, at: 0, fine: new Int32Array(256), coarse: new Int32Array(16), size: 0, ranks: new Int32Array(QO) },
    { hw: halfWidths((r * r) / 4 + r / 2), q: QI, at: QO, fine: new Int32Array(256), coarse: new Int32Array(16), size: 0, ranks: new Int32Array(QI) },
  ];
  for (const d of discs) {
    for (const w of d.hw) d.size += w >= 0 ? 2 * w + 1 : 0;
    for (let q = 0; q < d.q; q++) d.ranks[q] = Math.floor(((q + 0.5) / d.q) * d.size);
  }
  const outer = discs[0];
  const minVar = minContrast * minContrast;
  for (let y = r; y < H - r; y++) {
    let s = 0;
    let s2 = 0;
    for (const d of discs) {
      d.fine.fill(0);
      d.coarse.fill(0);
    }
    for (let x = r; x < W - r; x++) {
      for (const d of discs) {
        for (let dy = -r; dy <= r; dy++) {
          const w = d.hw[dy + r];
          if (w < 0) continue;
          const row = (y + dy) * W;
          if (x === r) {
            for (let dx = -w; dx <= w; dx++) {
              const v = data[row + x + dx];
              d.fine[v]++;
              d.coarse[v >> 4]++;
              if (d === outer) {
                s += v;
                s2 += v * v;
              }
            }
          } else {
            const vo = data[row + x - 1 - w];
            const vi = data[row + x + w];
            d.fine[vo]--;
            d.coarse[vo >> 4]--;
            d.fine[vi]++;
            d.coarse[vi >> 4]++;
            if (d === outer) {
              s += vi - vo;
              s2 += vi * vi - vo * vo;
            }
          }
        }
      }
      if (s2 / outer.size - (s / outer.size) ** 2 < minVar) continue;
      const p = y * W + x;
      valid[p] = 1;
      for (const d of discs) {
        // the q-th quantile is the smallest value v with more than ranks[q] values <= v
        let below = 0;
        let c = 0;
        for (let q = 0; q < d.q; q++) {
          const rank = d.ranks[q];
          while (below + d.coarse[c] <= rank) below += d.coarse[c++];
          let v = c << 4;
          let cum = below;
          while (cum + d.fine[v] <= rank) cum += d.fine[v++];
          out[p * D + d.at + q] = v;
        }
      }
    }
  }
  return { data: out, dims: D, valid, width: W, height: H };
}

/** Locality-sensitive hashing that seeds PatchMatch: tables, projections per table, cell width (x spread), pairs tried per cell. */
const LSH_TABLES = 6;
const LSH_BITS = 4;
const LSH_CELL = 0.35;
const LSH_ALL_PAIRS = 8;
const LSH_SAMPLES = 4;

/**
 * Indices 0..n-1 into `order`, sorted by unsigned code, equal codes by index: an LSD radix sort,
 * 8 bits a pass (stable), several times faster than a comparison sort of packed keys.
 */
export function sortByCode(codes: Int32Array, order: Int32Array, swap: Int32Array): void {
  const n = codes.length;
  const counts = new Int32Array(256);
  let from = order;
  let to = swap;
  for (let i = 0; i < n; i++) from[i] = i;
  for (let shift = 0; shift < 32; shift += 8) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(codes[from[i]] >>> shift) & 255]++;
    for (let b = 0, sum = 0; b < 256; b++) {
      const c = counts[b];
      counts[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = from[i];
      to[counts[(codes[k] >>> shift) & 255]++] = k;
    }
    [from, to] = [to, from];
  }
  // four passes: the result is back in `order`
}

/** Nearest-neighbour field: per pixel the offset (dx, dy) to its best match and the feature distance. */
export interface OffsetField {
  dx: Int32Array;
  dy: Int32Array;
  cost: Float32Array;
}

/**
 * PatchMatch over invariant features. Propagation also tries the neighbour's offset moved by one
 * pixel, because the offsets of a rotated or rescaled copy drift from pixel to pixel (by
 * 2 sin(phi/2) pixels per pixel for a turn by phi).
 */
export function patchMatch(feat: PixelFeatures, minDistance: number, iterations: number, seed: number): OffsetField {
  const { width: W, height: H, data, dims: D, valid } = feat;
  const n = W * H;
  const dx = new Int32Array(n);
  const dy = new Int32Array(n);
  const cost = new Float32Array(n).fill(Infinity);
  const rng = new Rng(seed);
  // The tens of millions of draws of the search (sampling in buckets, random search) use an inline
  // xorshift32: the shared generator's method calls cost more than the distances they pick.
  let state = rng.int(1, 0x7fffffff);
  const below = (m: number) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state & 0x7fffffff) % m;
  };
  const minD2 = minDistance * minDistance;
  // The features are grey levels (integers): as bytes, 16 per pixel here, the distance loop is cheap and
  // exact. An offset equal to the pixel's current one cannot beat it and is not measured again.
  const S = 16 * Math.ceil(D / 16);
  const f8 = new Uint8Array(n * S);
  for (let p = 0; p < n; p++) for (let k = 0; k < D; k++) f8[p * S + k] = data[p * D + k];
  const tryOffset = (p: number, x: number, y: number, ox: number, oy: number) => {
    const tx = x + ox;
    const ty = y + oy;
    if (tx < 0 || ty < 0 || tx >= W || ty >= H || ox * ox + oy * oy < minD2) return;
    const q = ty * W + tx;
    if (!valid[q] || (ox === dx[p] && oy === dy[p])) return;
    // stop summing once the distance cannot beat the current match
    const limit = cost[p];
    let c = 0;
    for (let a = p * S, b = q * S, end = a + D; a < end && c < limit; a++, b++) {
      const d = f8[a] - f8[b];
      c += d * d;
    }
    if (c < limit) {
      cost[p] = c;
      dx[p] = ox;
      dy[p] = oy;
    }
  };
  // Seeds by locality-sensitive hashing: pixels whose features fall in the same cell of a few
  // random projections (cells a fraction of each projection's spread wide) are candidate twins.
  // Random offsets alone seldom land on a small copy; a near-twin shares a cell in most tables.
  const pixels = Int32Array.from({ length: n }, (_, p) => p).filter((p) => valid[p]);
  const codes = new Int32Array(pixels.length);
  const order = new Int32Array(pixels.length);
  const swap = new Int32Array(pixels.length);
  const proj = new Float64Array(pixels.length);
  const seedPair = (p: number, q: number) => {
    const x = p % W;
    const y = (p - x) / W;
    const qx = q % W;
    const qy = (q - qx) / W;
    tryOffset(p, x, y, qx - x, qy - y);
    tryOffset(q, qx, qy, x - qx, y - qy);
  };
  for (let t = 0; t < LSH_TABLES && pixels.length > 1; t++) {
    codes.fill(0);
    for (let j = 0; j < LSH_BITS; j++) {
      const dir = Float64Array.from({ length: D }, () => rng.normal(0, 1));
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < pixels.length; i++) {
        const a = pixels[i] * D;
        let v = 0;
        for (let k = 0; k < D; k++) v += dir[k] * data[a + k];
        proj[i] = v;
        s += v;
        s2 += v * v;
      }
      const sd = Math.sqrt(Math.max(1e-12, s2 / pixels.length - (s / pixels.length) ** 2));
      const w = LSH_CELL * sd;
      const b = rng.next() * w;
      for (let i = 0; i < pixels.length; i++) codes[i] = (Math.imul(codes[i], 0x9e3779b1) + Math.floor((proj[i] + b) / w)) | 0;
    }
    sortByCode(codes, order, swap);
    for (let lo = 0; lo < order.length; ) {
      let hi = lo + 1;
      while (hi < order.length && codes[order[hi]] === codes[order[lo]]) hi++;
      const size = hi - lo;
      if (size <= LSH_ALL_PAIRS) {
        for (let i = lo; i < hi; i++) for (let j = i + 1; j < hi; j++) seedPair(pixels[order[i]], pixels[order[j]]);
      } else {
        for (let i = lo; i < hi; i++) for (let k = 0; k < LSH_SAMPLES; k++) seedPair(pixels[order[i]], pixels[order[lo + below(size)]]);
      }
      lo = hi;
    }
  }
  for (const p of pixels) {
    const x = p % W;
    const y = (p - x) / W;
    tryOffset(p, x, y, below(W) - x, below(H) - y);
  }
  const propagate = (p: number, x: number, y: number, q: number) => {
    const ox = dx[q];
    const oy = dy[q];
    tryOffset(p, x, y, ox, oy);
    tryOffset(p, x, y, ox + 1, oy);
    tryOffset(p, x, y, ox - 1, oy);
    tryOffset(p, x, y, ox, oy + 1);
    tryOffset(p, x, y, ox, oy - 1);
  };
  const maxRadius = Math.max(W, H);
  for (let it = 0; it < iterations; it++) {
    const step = it % 2 === 0 ? 1 : -1;
    for (let i = 0; i < n; i++) {
      const p = step > 0 ? i : n - 1 - i;
      if (!valid[p]) continue;
      const x = p % W;
      const y = (p - x) / W;
      // the previous pixel in scan order (same row) and the one a row back
      const xq = x - step;
      if (xq >= 0 && xq < W && valid[p - step]) propagate(p, x, y, p - step);
      const yq = y - step;
      if (yq >= 0 && yq < H && valid[p - step * W]) propagate(p, x, y, p - step * W);
      for (let r = maxRadius; r >= 1; r >>= 1) tryOffset(p, x, y, dx[p] + below(2 * r + 1) - r, dy[p] + below(2 * r + 1) - r);
    }
  }
  return { dx, dy, cost };
}

/**
 * Smallest ratio of a fitted affine's singular values: on a tuning set (synthetic seed 5), 0.85
 * kept 120 of 130 true proposals and 67 of 161 false ones.
 */
const MIN_ISOTROPY = 0.85;

/** Pixels: how far the matches of two neighbouring pixels of one copied region may lie apart. */
const MATCH_SLACK = 3;

/**
 * Pixels whose match moves with its neighbours': at least `need` of the 8 neighbours match within
 * `slack` pixels (Chebyshev) of where this pixel matches. A copied region maps neighbours to
 * neighbours (a turn or a mild rescale moves them by at most ~1.5 px, rounding by one more);
 * chance matches scatter.
 */
export function coherentMatches(field: OffsetField, valid: Uint8Array, width: number, height: number, slack = MATCH_SLACK, need = 4): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const p = y * width + x;
      if (!valid[p] || !Number.isFinite(field.cost[p])) continue;
      const mx = x + field.dx[p];
      const my = y + field.dy[p];
      let agree = 0;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const q = p + dy * width + dx;
          if (q === p || !valid[q]) continue;
          if (Math.abs(x + dx + field.dx[q] - mx) <= slack && Math.abs(y + dy + field.dy[q] - my) <= slack) agree++;
        }
      }
      if (agree >= need) out[p] = 1;
    }
  }
  return out;
}

/** Least-squares affine p -> match(p) over `pts` (pixel indices); null when degenerate. */
function fitAffine(pts: Int32Array, field: OffsetField, width: number): Affine | null {
  const n = pts.length;
  if (n < 3) return null;
  let sx = 0;
  let sy = 0;
  for (const p of pts) {
    sx += p % width;
    sy += Math.floor(p / width);
  }
  const cx = sx / n;
  const cy = sy / n;
  let xx = 0;
  let xy = 0;
  let yy = 0;
  const bx = [0, 0, 0];
  const by = [0, 0, 0];
  for (const p of pts) {
    const x = (p % width) - cx;
    const y = Math.floor(p / width) - cy;
    const tx = x + field.dx[p];
    const ty = y + field.dy[p];
    xx += x * x;
    xy += x * y;
    yy += y * y;
    bx[0] += x * tx;
    bx[1] += y * tx;
    bx[2] += tx;
    by[0] += x * ty;
    by[1] += y * ty;
    by[2] += ty;
  }
  const det = xx * yy - xy * xy;
  if (!(det > 1e-6)) return null;
  const solve = (b: number[]): [number, number, number] => {
    const a = (yy * b[0] - xy * b[1]) / det;
    const c = (xx * b[1] - xy * b[0]) / det;
    return [a, c, b[2] / n];
  };
  const [a, b0, t0] = solve(bx);
  const [d, e, t1] = solve(by);
  // back to image coordinates: match = A (p - c) + t + c
  return [a, b0, t0 + cx - a * cx - b0 * cy, d, e, t1 + cy - d * cx - e * cy];
}

/**
 * Copy transforms from the coherent matches: each connected component gets a robust affine fit
 * (least squares, then twice again without the pixels whose match misses the fit by more than
 * `tolerance`, 3x that the first time). Components whose inliers reach `minArea` with a plausible
 * scale (singular values in [0.5, 2]) become transforms with their inliers as point pairs.
 * Propagation makes chance matches coherent too, so these are proposals: verify.ts decides.
 */
function componentTransforms(coherent: Uint8Array, field: OffsetField, width: number, minArea: number, tolerance: number): CopyTransform[] {
  const n = coherent.length;
  const labels = new Int32Array(n);
  const members = new Int32Array(n);
  const found: CopyTransform[] = [];
  let next = 0;
  for (let s = 0; s < n; s++) {
    if (!coherent[s] || labels[s]) continue;
    next++;
    let count = 0;
    let head = 0;
    members[count++] = s;
    labels[s] = next;
    while (head < count) {
      const p = members[head++];
      const x = p % width;
      for (const q of [p - 1, p + 1, p - width, p + width]) {
        if (q < 0 || q >= n || labels[q] || !coherent[q] || Math.abs((q % width) - x) > 1) continue;
        // one region moves as one piece: neighbours join only when their matches are neighbours
        if (Math.abs(field.dx[q] - field.dx[p]) > MATCH_SLACK || Math.abs(field.dy[q] - field.dy[p]) > MATCH_SLACK) continue;
        labels[q] = next;
        members[count++] = q;
      }
    }
    if (count < minArea) continue;
    let pts: Int32Array = members.slice(0, count);
    let fit: Affine | null = null;
    for (let round = 0; round < 3 && pts.length >= minArea; round++) {
      fit = fitAffine(pts, field, width);
      if (!fit) break;
      const f = fit;
      const limit = round === 0 ? 3 * tolerance : tolerance;
      pts = pts.filter((p) => {
        const x = p % width;
        const y = (p - x) / width;
        const [tx, ty] = applyAffine(f, x, y);
        return Math.hypot(tx - x - field.dx[p], ty - y - field.dy[p]) <= limit;
      });
    }
    if (!fit || pts.length < minArea) continue;
    // a copy is a similarity (turn, uniform scale, mirror); propagation artefacts come out squashed
    const [s0, s1] = singularValues(fit);
    if (!(s1 >= 0.5 && s0 <= 2 && s1 >= MIN_ISOTROPY * s0)) continue;
    const src = new Float32Array(2 * pts.length);
    const dst = new Float32Array(2 * pts.length);
    pts.forEach((p, i) => {
      const x = p % width;
      const y = (p - x) / width;
      src[2 * i] = x;
      src[2 * i + 1] = y;
      dst[2 * i] = x + field.dx[p];
      dst[2 * i + 1] = y + field.dy[p];
    });
    // The copy's transform is the similarity nearest the matches: an affine fit to whole-pixel matches
    // shears by a few hundredths (0.91, -0.42 / 0.30, 0.91 for a turn by 19 degrees), enough to lose the
    // copy's fine detail in verification.
    const flipped = fit[0] * fit[4] - fit[1] * fit[3] < 0;
    found.push({ affine: leastSquaresSimilarity(src, dst, flipped), src, dst, inliers: pts.length, cluster: -1, flipped });
  }
  return found;
}

/**
 * Candidate copy transforms of a grey image by dense matching: invariant features, PatchMatch,
 * coherent matches, one robust affine fit per coherent region.
 */
export function denseMatchTransforms(gray: GrayImage, opts: DenseMatchOptions = {}): CopyTransform[] {
  const o = resolveDenseOptions(opts);
  // Pixel budget: larger images are box-averaged by an integer factor first, and the transforms
  // mapped back to full resolution (as block matching does).
  const factor = downscaleFactor(gray, o.maxPixels);
  if (factor > 1) {
    // minArea stays in working pixels: copies in larger figures are larger too
    const small = { ...o, minDistance: o.minDistance / factor };
    return denseMatchTransforms(boxDownscale(gray, factor), small).map((t) => rescaleTransform(t, factor, (factor - 1) / 2));
  }
  const { width: W, height: H } = gray;
  if (W <= 2 * o.radius + 2 || H <= 2 * o.radius + 2) return [];
  const feat = rankFeatures(gray, o.radius, o.minContrast);
  const field = patchMatch(feat, o.minDistance, o.iterations, o.seed);
  const found = componentTransforms(coherentMatches(field, feat.valid, W, H), field, W, o.minArea, o.maxFitError);
  return found.sort((a, b) => b.inliers - a.inliers).slice(0, o.maxCandidates);
}

function resolveDenseOptions(opts: DenseMatchOptions): Required<DenseMatchOptions> {
  const o = { ...DEFAULTS, ...opts };
  for (const [k, v] of Object.entries(o)) {
    if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new ConfigError(`dense match: ${k} must be a finite number >= 0, got ${String(v)}`);
  }
  for (const k of ['radius', 'iterations', 'maxCandidates'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new ConfigError(`dense match: ${k} must be an integer >= 1, got ${o[k]}`);
  }
  if (o.maxPixels < 1024) throw new ConfigError(`dense match: maxPixels must be at least 1024 (32x32), got ${o.maxPixels}`);
  return o;
}
