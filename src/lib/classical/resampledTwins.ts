/**
 * Resampled twins: copies turned by any angle or rescaled, found by the pixel values they keep.
 *
 * A region turned or rescaled with nearest-neighbour sampling (what a forger's quick edit, and
 * the synthetic generator, does) is made only of source pixels: copy pixel t carries, bit for bit,
 * the value of source pixel round(M t) for one similarity M. Exact twins (exactTwins.ts) cannot
 * see it: no block of the copy equals a block of the source. Rank features (denseMatch.ts) alone
 * rarely find the true match among a figure's look-alikes. Together they do: every copy pixel has
 * a partner with exactly its value, and among the pixels of that value the partner's disc has
 * nearly the same grey levels. So:
 *
 * 1. candidates: for anchor pixels on a grid, the few pixels with the same value (all channels)
 *    whose disc quantiles are nearest;
 * 2. hypotheses: two anchors a short baseline apart and a candidate of each fix a similarity
 *    (turn, scale, translation; mirrored or not);
 * 3. verification: around the anchor, nearly every pixel must equal its image under the fitted
 *    similarity, and clearly fewer under the same similarity moved by two pixels (a flat area
 *    equals itself under any move: that is not evidence);
 * 4. the verified region grows pixel by pixel while copy and source keep agreeing, and both the
 *    copy and its source are marked.
 *
 * Plain translations, flips and quarter turns are left to exact twins (their repeated glyphs and
 * periodic patterns are judged there). A copy whose values were changed afterwards (brightness,
 * blur, noise) or that was resampled with interpolation keeps no exact values and is not found.
 */
import type { Image } from '../data/types';
import { ConfigError } from '../errors';
import { rankFeatures } from './denseMatch';
import { pixelKeys } from './exactTwins';
import { toGray } from './grayscale';
import type { Affine } from './ransac';
import { leastSquaresSimilarity } from './similarity';

export interface ResampledTwinOptions {
  /** Disc radius of the rank features that rank candidates (default 4). */
  radius?: number;
  /**
   * Discs with a grey-level standard deviation below this are flat: never anchors (default 1.5:
   * the exact values of a dark, faintly noisy background still tell copy from look-alike, and the
   * two-pixel move rejects what is truly flat; on the seed-5 tuning set 1.5 found more rescaled
   * flat copies than 3, with no more marks on authentic figures).
   */
  minContrast?: number;
  /**
   * Anchors every this many pixels in x and y (default: 2, and more on images over 2^18 pixels so
   * that their count stays near 2^16: a large figure's copies are large too, and this is where the
   * time goes).
   */
  anchorStride?: number;
  /** Candidates kept per anchor (default 4). */
  candidates?: number;
  /** Same-valued pixels examined per anchor, nearest in disc median first (default 64). */
  scan?: number;
  /** Pixels between the two anchors of a hypothesis (default 6). */
  baseline?: number;
  /** Copy and source closer than this (pixels) are one structure, not a copy (default 10). */
  minDistance?: number;
  /** Scale range of a copy relative to its source (default 0.5 to 2). */
  minScale?: number;
  maxScale?: number;
  /** Radius of the disc a hypothesis is verified on (default 5: copies 11 px across still hold it). */
  verifyRadius?: number;
  /** Share of the verification disc that must agree exactly (default 0.75). */
  minAgreement?: number;
  /** How much more must agree than under the similarity moved by two pixels (default 0.35). */
  minSpecificity?: number;
  /** Pixels a grown copy needs (default 40). */
  minArea?: number;
  /** Hypotheses tried per image at most: bounds the time on large or repetitive figures (default 200000). */
  maxHypotheses?: number;
}

const DEFAULTS: Omit<Required<ResampledTwinOptions>, 'anchorStride'> = {
  radius: 4,
  minContrast: 1.5,
  candidates: 4,
  scan: 64,
  baseline: 6,
  minDistance: 10,
  minScale: 0.5,
  maxScale: 2,
  verifyRadius: 5,
  minAgreement: 0.75,
  minSpecificity: 0.35,
  minArea: 40,
  maxHypotheses: 200000,
};

/** A similarity p -> (m0 x + m1 y + m2, m3 x + m4 y + m5), mirrored when m0 m4 - m1 m3 < 0. */
type Similarity = Affine;

/** Turns or scales that a block twin (translation, flip, quarter turn) already explains. */
function isBlockSymmetry(m: Similarity): boolean {
  const scale = Math.hypot(m[0], m[3]);
  const angle = Math.atan2(m[3], m[0]);
  const quarter = Math.PI / 2;
  const off = Math.abs(angle - Math.round(angle / quarter) * quarter);
  return Math.abs(scale - 1) < 0.03 && off < (1.5 * Math.PI) / 180;
}

function check(o: Required<ResampledTwinOptions>): void {
  const ints: (keyof ResampledTwinOptions)[] = ['radius', 'anchorStride', 'candidates', 'scan', 'baseline', 'verifyRadius', 'minArea', 'maxHypotheses'];
  for (const k of ints) if (!Number.isInteger(o[k]) || (o[k] as number) < 1) throw new ConfigError(`resampled twins: ${k} must be an integer >= 1, got ${o[k]}`);
  if (!(o.minContrast >= 0)) throw new ConfigError(`resampled twins: minContrast must be >= 0, got ${o.minContrast}`);
  if (!(o.minDistance >= 0)) throw new ConfigError(`resampled twins: minDistance must be >= 0, got ${o.minDistance}`);
  if (!(o.minScale > 0 && o.maxScale > o.minScale)) throw new ConfigError(`resampled twins: need 0 < minScale < maxScale, got ${o.minScale} and ${o.maxScale}`);
  for (const k of ['minAgreement', 'minSpecificity'] as const) if (!(o[k] >= 0 && o[k] <= 1)) throw new ConfigError(`resampled twins: ${k} must be in [0, 1], got ${o[k]}`);
}

/** Offsets (dx, dy) of a disc of radius r, the centre left out. */
function discOffsets(r: number): Int32Array {
  const out: number[] = [];
  for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) if ((dx || dy) && dx * dx + dy * dy <= r * r + r) out.push(dx, dy);
  return Int32Array.from(out);
}

/**
 * 0/1 map (H*W) of the pixels of copies that are a nearest-neighbour turn or rescale of another
 * region of the image, and of their sources.
 */
export function resampledTwinMap(image: Image, opts: ResampledTwinOptions = {}): Uint8Array {
  return resampledTwinPairs(image, opts).map;
}

/** One verified copy: its pixels, its source's pixels (indices y * W + x) and the similarity copy -> source. */
export interface ResampledTwinPair {
  copy: Int32Array;
  source: Int32Array;
  similarity: Similarity;
}

/** resampledTwinMap's map plus the pairs that make it up, in the order they were found. */
export function resampledTwinPairs(image: Image, opts: ResampledTwinOptions = {}): { map: Uint8Array; pairs: ResampledTwinPair[] } {
  const { width: W, height: H } = image;
  const n = W * H;
  const o: Required<ResampledTwinOptions> = { anchorStride: Math.max(2, Math.round(Math.sqrt(n / 2 ** 16))), ...DEFAULTS, ...opts };
  check(o);
  const out = new Uint8Array(n);
  const pairs: ResampledTwinPair[] = [];
  const R = o.verifyRadius;
  const margin = Math.max(R, o.radius) + 1;
  if (W <= 2 * margin + o.baseline || H <= 2 * margin + o.baseline) return { map: out, pairs };

  const keys = pixelKeys(image);
  const feat = rankFeatures(toGray(image), o.radius, o.minContrast);
  const F = feat.data;
  const D = feat.dims;
  const MID = 4; // the outer disc's median: orders each value's pixels so near features sit together

  // Valid pixels grouped by exact value, ordered by disc median inside a group.
  const listed: number[] = [];
  for (let p = 0; p < n; p++) if (feat.valid[p]) listed.push(p);
  const order = Int32Array.from(listed).sort((a, b) => keys[a] - keys[b] || F[a * D + MID] - F[b * D + MID]);
  const pos = new Int32Array(n).fill(-1);
  for (let i = 0; i < order.length; i++) pos[order[i]] = i;

  const K = o.candidates;
  const memo = new Map<number, Int32Array>();
  const bestIdx = new Int32Array(K);
  const bestDist = new Float64Array(K);
  /** The K same-valued pixels, far enough away, whose disc quantiles are nearest a's. */
  const candidatesOf = (a: number): Int32Array => {
    const cached = memo.get(a);
    if (cached) return cached;
    let found = 0;
    const i = pos[a];
    const ax = a % W;
    const ay = (a - ax) / W;
    // Returns false once q's disc median alone is as far as the K-th best distance: the scan is in
    // median order, so nothing further in this direction can enter (exact pruning, as is the early
    // exit of the distance sum).
    const consider = (q: number): boolean => {
      const worst = found === K ? bestDist[K - 1] : Infinity;
      if (Math.abs(F[q * D + MID] - F[a * D + MID]) >= worst) return false;
      const qx = q % W;
      const qy = (q - qx) / W;
      if (Math.max(Math.abs(qx - ax), Math.abs(qy - ay)) < o.minDistance) return true;
      let d = 0;
      for (let k = 0; k < D && d < worst; k++) d += Math.abs(F[a * D + k] - F[q * D + k]);
      if (d >= worst) return true;
      let j = found < K ? found++ : K - 1;
      while (j > 0 && bestDist[j - 1] > d) {
        bestDist[j] = bestDist[j - 1];
        bestIdx[j] = bestIdx[j - 1];
        j--;
      }
      bestDist[j] = d;
      bestIdx[j] = q;
      return true;
    };
    for (let j = i - 1; j >= 0 && i - j <= o.scan && keys[order[j]] === keys[a]; j--) if (!consider(order[j])) break;
    for (let j = i + 1; j < order.length && j - i <= o.scan && keys[order[j]] === keys[a]; j++) if (!consider(order[j])) break;
    const res = bestIdx.slice(0, found);
    memo.set(a, res);
    return res;
  };

  const disc = discOffsets(R);
  // the quick test's ring: every other pixel of the disc of radius 4 at least 3 from the centre
  const ringPts: number[] = [];
  const disc4 = discOffsets(4);
  for (let k = 0; k < disc4.length; k += 4) if (disc4[k] ** 2 + disc4[k + 1] ** 2 >= 9) ringPts.push(disc4[k], disc4[k + 1]);
  const shifts = [2, 0, -2, 0, 0, 2, 0, -2];

  /** Does the value at t appear in the 3x3 around (u, v)? Returns the nearest such pixel or -1. */
  const near = (t: number, u: number, v: number): number => {
    const cx = Math.round(u);
    const cy = Math.round(v);
    let best = -1;
    let bestD = Infinity;
    for (let dy = -1; dy <= 1; dy++) {
      const y = cy + dy;
      if (y < 0 || y >= H) continue;
      for (let dx = -1; dx <= 1; dx++) {
        const x = cx + dx;
        if (x < 0 || x >= W || keys[y * W + x] !== keys[t]) continue;
        const d = (x - u) ** 2 + (y - v) ** 2;
        if (d < bestD) {
          bestD = d;
          best = y * W + x;
        }
      }
    }
    return best;
  };
  /** Pixels of the disc around (ax, ay) whose value equals that of their image under m moved by (sx, sy). */
  const agreement = (m: Similarity, ax: number, ay: number, sx: number, sy: number): number => {
    let agree = 0;
    for (let k = 0; k < disc.length; k += 2) {
      const x = ax + disc[k];
      const y = ay + disc[k + 1];
      const u = Math.round(m[0] * x + m[1] * y + m[2] + sx);
      const v = Math.round(m[3] * x + m[4] * y + m[5] + sy);
      if (u >= 0 && v >= 0 && u < W && v < H && keys[v * W + u] === keys[y * W + x]) agree++;
    }
    return agree;
  };

  const done = new Uint8Array(n);
  const okCache = new Int8Array(n);
  const inRegion = new Uint8Array(n);
  let hypotheses = 0;

  /**
   * Least-squares similarity (mirrored or not) of the pixels `pts` to their nearest same-valued
   * pixel near m's image; null when fewer than 60% find one.
   */
  const refine = (m: Similarity, pts: ArrayLike<number>, mirrored: boolean): Similarity | null => {
    const ts: number[] = [];
    const qs: number[] = [];
    for (let k = 0; k < pts.length; k++) {
      const t = pts[k];
      const x = t % W;
      const y = (t - x) / W;
      const q = near(t, m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]);
      if (q < 0) continue;
      ts.push(x, y);
      qs.push(q % W, Math.floor(q / W));
    }
    if (ts.length / 2 < 0.6 * pts.length) return null;
    return leastSquaresSimilarity(ts, qs, mirrored);
  };

  /** Copy pixel test: its value equals its image's, far enough away, and its 3x3 is not flat. */
  const agrees = (m: Similarity, t: number): boolean => {
    if (okCache[t]) return okCache[t] > 0;
    const x = t % W;
    const y = (t - x) / W;
    const u = Math.round(m[0] * x + m[1] * y + m[2]);
    const v = Math.round(m[3] * x + m[4] * y + m[5]);
    let ok = u >= 0 && v >= 0 && u < W && v < H && Math.max(Math.abs(u - x), Math.abs(v - y)) >= o.minDistance && keys[v * W + u] === keys[t];
    if (ok) {
      let varied = false;
      for (let dy = -1; dy <= 1 && !varied; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx >= 0 && yy >= 0 && xx < W && yy < H && keys[yy * W + xx] !== keys[t]) {
            varied = true;
            break;
          }
        }
      }
      ok = varied;
    }
    okCache[t] = ok ? 1 : -1;
    return ok;
  };

  /**
   * The copy grown from the anchor over pixels that agree under m (most of their 3x3 too: rounding
   * flips single pixels of a true copy), then closed by one pass over its rim: neighbours that
   * agree themselves, and holes most of whose neighbours are in. Empty when it would swallow a
   * quarter of the image (a flat background agreeing with itself).
   */
  const growRegion = (m: Similarity, a: number): number[] => {
    const region: number[] = [];
    const queue: number[] = [];
    okCache.fill(0);
    inRegion.fill(0);
    queue.push(a);
    inRegion[a] = 1;
    const cap = n >> 2;
    while (queue.length) {
      const t = queue.pop()!;
      region.push(t);
      if (region.length > cap) return [];
      const x = t % W;
      const y = (t - x) / W;
      for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
        const xx = x + dx;
        const yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= W || yy >= H) continue;
        const q = yy * W + xx;
        if (inRegion[q] || done[q]) continue;
        // majority of the 3x3 agrees: rounding may flip single pixels of a true copy
        if (!agrees(m, q)) continue;
        let votes = 0;
        for (let ky = -1; ky <= 1; ky++) for (let kx = -1; kx <= 1; kx++) {
          const px = xx + kx;
          const py = yy + ky;
          if (px >= 0 && py >= 0 && px < W && py < H && agrees(m, py * W + px)) votes++;
        }
        if (votes < 5) continue;
        inRegion[q] = 1;
        queue.push(q);
      }
    }
    const rim: number[] = [];
    for (const t of region) {
      const x = t % W;
      const y = (t - x) / W;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 1 || yy < 1 || xx >= W - 1 || yy >= H - 1) continue;
          const q = yy * W + xx;
          if (inRegion[q] || done[q]) continue;
          let inside = 0;
          for (let ky = -1; ky <= 1; ky++) for (let kx = -1; kx <= 1; kx++) inside += inRegion[q + ky * W + kx];
          if (inside >= 6 || agrees(m, q)) {
            inRegion[q] = 2;
            rim.push(q);
          }
        }
      }
    }
    for (const q of rim) inRegion[q] = 1;
    region.push(...rim);
    return region;
  };

  /** Mark a copy and its source: every pixel whose inverse image rounds into the copy. */
  const mark = (m: Similarity, region: number[]): void => {
    inRegion.fill(0);
    for (const t of region) inRegion[t] = 1;
    let x0 = W;
    let y0 = H;
    let x1 = -1;
    let y1 = -1;
    for (const t of region) {
      out[t] = 1;
      done[t] = 1;
      const x = t % W;
      const y = (t - x) / W;
      const u = m[0] * x + m[1] * y + m[2];
      const v = m[3] * x + m[4] * y + m[5];
      x0 = Math.min(x0, Math.floor(u));
      x1 = Math.max(x1, Math.ceil(u));
      y0 = Math.min(y0, Math.floor(v));
      y1 = Math.max(y1, Math.ceil(v));
    }
    const det = m[0] * m[4] - m[1] * m[3];
    const i0 = m[4] / det;
    const i1 = -m[1] / det;
    const i3 = -m[3] / det;
    const i4 = m[0] / det;
    const source: number[] = [];
    for (let v = Math.max(0, y0); v <= Math.min(H - 1, y1); v++) {
      for (let u = Math.max(0, x0); u <= Math.min(W - 1, x1); u++) {
        const du = u - m[2];
        const dv = v - m[5];
        const x = Math.round(i0 * du + i1 * dv);
        const y = Math.round(i3 * du + i4 * dv);
        if (x < 0 || y < 0 || x >= W || y >= H || !inRegion[y * W + x]) continue;
        out[v * W + u] = 1;
        done[v * W + u] = 1;
        source.push(v * W + u);
      }
    }
    pairs.push({ copy: Int32Array.from(region), source: Int32Array.from(source), similarity: m });
  };

  const discAt = (ax: number, ay: number): number[] => {
    const pts: number[] = [];
    for (let k = 0; k < disc.length; k += 2) pts.push((ay + disc[k + 1]) * W + ax + disc[k]);
    return pts;
  };
  const need = o.minAgreement * (disc.length / 2);
  const spec = o.minSpecificity * (disc.length / 2);
  const B = o.baseline;
  const S = o.anchorStride;
  const ringMisses = Math.floor(ringPts.length / 2 / 4);
  for (let ay = margin; ay < H - margin - B && hypotheses < o.maxHypotheses; ay += S) {
    for (let ax = margin; ax < W - margin - B && hypotheses < o.maxHypotheses; ax += S) {
      const a = ay * W + ax;
      if (!feat.valid[a] || done[a]) continue;
      const ca = candidatesOf(a);
      if (ca.length === 0) continue;
      const anchorDisc = discAt(ax, ay);
      let found = false;
      for (const [ex, ey] of [[B, 0], [0, B]]) {
        const b = (ay + ey) * W + ax + ex;
        if (found || !feat.valid[b]) continue;
        const cb = candidatesOf(b);
        for (let i = 0; i < ca.length && !found; i++) {
          const a2 = ca[i];
          const a2x = a2 % W;
          const a2y = (a2 - a2x) / W;
          for (let j = 0; j < cb.length && !found; j++) {
            const b2 = cb[j];
            const ux = (b2 % W) - a2x;
            const uy = Math.floor(b2 / W) - a2y;
            const scale = Math.hypot(ux, uy) / B;
            if (scale < o.minScale / 1.25 || scale > o.maxScale * 1.25) continue;
            for (const mirrored of [false, true]) {
              hypotheses++;
              // lambda = u / e (mirrored: u / conj(e)), e = (ex, ey) real or imaginary
              const c = (ux * ex + (mirrored ? -uy * ey : uy * ey)) / (B * B);
              const s = (uy * ex + (mirrored ? ux * ey : -ux * ey)) / (B * B);
              const m1 = mirrored ? s : -s;
              const m4 = mirrored ? -c : c;
              let m: Similarity = [c, m1, a2x - c * ax - m1 * ay, s, m4, a2y - s * ax - m4 * ay];
              // quick test on a ring around the anchor: most of it must find its value near its image
              let misses = 0;
              for (let k = 0; k < ringPts.length && misses <= ringMisses; k += 2) {
                const x = ax + ringPts[k];
                const y = ay + ringPts[k + 1];
                if (near(y * W + x, m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]) < 0) misses++;
              }
              if (misses > ringMisses) continue;
              let fit: Similarity | null = m;
              for (let r = 0; r < 2 && fit; r++) fit = refine(fit, anchorDisc, mirrored);
              if (!fit) continue;
              m = fit;
              const scaleFit = Math.hypot(m[0], m[3]);
              if (scaleFit < o.minScale || scaleFit > o.maxScale || isBlockSymmetry(m)) continue;
              const agree = agreement(m, ax, ay, 0, 0);
              if (agree < need) continue;
              let shifted = 0;
              for (let k = 0; k < shifts.length; k += 2) shifted = Math.max(shifted, agreement(m, ax, ay, shifts[k], shifts[k + 1]));
              if (agree - shifted < spec) continue;
              // grow, refit on the whole copy (a disc's fit drifts at a large copy's far side), grow again
              let region = growRegion(m, a);
              if (region.length < o.minArea) continue;
              const wide = refine(m, region, mirrored);
              if (wide && isBlockSymmetry(wide)) {
                // the whole copy says translation, flip or quarter turn: exact twins' job
                for (const t of region) done[t] = 1;
                found = true;
                continue;
              }
              if (wide) {
                const again = growRegion(wide, a);
                if (again.length > region.length) {
                  region = again;
                  m = wide;
                }
              }
              mark(m, region);
              found = true;
            }
          }
        }
      }
    }
  }
  return { map: out, pairs };
}
