/**
 * g2NN matching of an image's descriptors against themselves (or against its mirror's, for
 * flipped copies): for each keypoint, its k nearest descriptors by Hamming distance (binary) or
 * L2 distance (float: SIFT, by brute force with a cheap lower bound first) are sorted and
 * neighbour t is kept while d_t < ratio * d_{t+1} (Amerini et al.'s generalised 2NN), so a region
 * copied several times yields all its copies. Neighbours spatially closer than minDistance are the
 * same structure (e.g. one corner at two pyramid levels) and are dropped before the ratio test.
 */
import { hammingKernelReady, hammingPairs } from './hammingKernel';
import type { Keypoints } from './keypoints';
import { principalAxes, project } from './principalAxes';
import type { ClassicalParams } from './params';

/** Matched point pairs in working-image pixels; `flipped` marks pairs from the mirror matching. */
export interface Matches {
  count: number;
  ax: Float32Array;
  ay: Float32Array;
  bx: Float32Array;
  by: Float32Array;
  distance: Float32Array;
  flipped: Uint8Array;
}

interface Pair {
  ax: number;
  ay: number;
  bx: number;
  by: number;
  distance: number;
  flipped: boolean;
}

/** Set bits of every 16-bit value: two table reads count a 32-bit word, faster in V8 than bit tricks. */
const POPCOUNT16 = new Uint8Array(65536);
for (let v = 1; v < 65536; v++) POPCOUNT16[v] = (v & 1) + POPCOUNT16[v >>> 1];

function popcount(v: number): number {
  return POPCOUNT16[v & 0xffff] + POPCOUNT16[v >>> 16];
}

/** Sorted k-nearest lists: ids and distances, k slots per query, filled with -1 / Infinity. */
class TopK {
  readonly ids: Int32Array;
  readonly dist: Float64Array;
  constructor(n: number, readonly k: number) {
    this.ids = new Int32Array(n * k).fill(-1);
    this.dist = new Float64Array(n * k).fill(Infinity);
  }
  push(q: number, id: number, d: number): void {
    const base = q * this.k;
    let s = base + this.k - 1;
    if (d >= this.dist[s]) return;
    while (s > base && this.dist[s - 1] > d) {
      this.dist[s] = this.dist[s - 1];
      this.ids[s] = this.ids[s - 1];
      s--;
    }
    this.dist[s] = d;
    this.ids[s] = id;
  }
}

/**
 * k nearest of every query among the candidates, skipping spatially close ones. With `self`, the
 * two sets are the same and each distance is computed once for both ends. In WebAssembly when
 * hammingKernel.ts is prepared, else in JavaScript.
 */
function nearest(q: Keypoints, c: Keypoints, k: number, minDist2: number, self: boolean, cap: number): TopK {
  const top = new TopK(q.count, k);
  if (hammingKernelReady(q.words) && c.words === q.words) {
    // the same pairs in the same order as the loop below (which also skips pairs that cannot enter a list)
    hammingPairs(q, c, self, minDist2, cap, (i, j, d) => {
      top.push(i, j, d);
      if (self) top.push(j, i, d);
    });
    return top;
  }
  const kth = top.dist;
  const last = k - 1;
  const w = q.words;
  // signed views of the same bits: V8 keeps int32 loads in registers (uint32 ones past 2^31 may not fit a small integer)
  const qd = new Int32Array(q.desc.buffer, q.desc.byteOffset, q.desc.length);
  const cd = new Int32Array(c.desc.buffer, c.desc.byteOffset, c.desc.length);
  const orb = w === 8;
  for (let i = 0; i < q.count; i++) {
    const qi = i * w;
    const xi = q.x[i];
    const yi = q.y[i];
    // ORB's 256 bits, held in locals: this loop is most of the matching time.
    const q0 = qd[qi], q1 = qd[qi + 1], q2 = qd[qi + 2], q3 = qd[qi + 3];
    const q4 = qd[qi + 4], q5 = qd[qi + 5], q6 = qd[qi + 6], q7 = qd[qi + 7];
    for (let j = self ? i + 1 : 0; j < c.count; j++) {
      const dx = c.x[j] - xi;
      const dy = c.y[j] - yi;
      if (dx * dx + dy * dy < minDist2) continue;
      // A pair past the cap, or past the k-th distance of every list it would enter, changes
      // nothing: stop counting bits as soon as the partial distance says so.
      let limit = kth[i * k + last];
      if (self && kth[j * k + last] > limit) limit = kth[j * k + last];
      if (limit > cap) limit = cap;
      const cj = j * w;
      let d: number;
      if (orb) {
        d = popcount(q0 ^ cd[cj]) + popcount(q1 ^ cd[cj + 1]) + popcount(q2 ^ cd[cj + 2]) + popcount(q3 ^ cd[cj + 3]);
        if (d > limit) continue;
        // Three random pairs in four are past the cap after 192 of 256 bits.
        d += popcount(q4 ^ cd[cj + 4]) + popcount(q5 ^ cd[cj + 5]);
        if (d > limit) continue;
        d += popcount(q6 ^ cd[cj + 6]) + popcount(q7 ^ cd[cj + 7]);
      } else {
        d = 0;
        for (let t = 0; t < w; t++) d += popcount(qd[qi + t] ^ cd[cj + t]);
      }
      if (d > limit) continue;
      top.push(i, j, d);
      if (self) top.push(j, i, d);
    }
  }
  return top;
}

/**
 * The float version of `nearest` (L2 distance of unit descriptors), by brute force with a lower
 * bound first: the distance of the pair's projections onto the descriptors' leading principal
 * axes (principalAxes.ts), which already exceeds the cap for most pairs. `symmetric`:
 * d(q_i, c_j) = d(q_j, c_i), so each pair is computed once for both ends (true for self-matching
 * and for matching against the mirrored descriptors, a permutation that is its own inverse).
 */
function nearestFloat(q: Keypoints, c: Keypoints, k: number, minDist2: number, symmetric: boolean, cap: number): TopK {
  const top = new TopK(q.count, k);
  const dims = q.dims!;
  const m = BOUND_AXES;
  const axes = principalAxes(q.fdesc!, q.count, dims, m);
  const qp = project(q.fdesc!, q.count, dims, axes);
  const cp = c.fdesc === q.fdesc ? qp : project(c.fdesc!, c.count, dims, axes);
  const qd = q.fdesc!;
  const cd = c.fdesc!;
  const cap2 = cap * cap;
  for (let i = 0; i < q.count; i++) {
    const qi = i * dims;
    const qb = i * m;
    const xi = q.x[i];
    const yi = q.y[i];
    for (let j = symmetric ? i + 1 : 0; j < c.count; j++) {
      const dx = c.x[j] - xi;
      const dy = c.y[j] - yi;
      if (dx * dx + dy * dy < minDist2) continue;
      const cb = j * m;
      let lb = 0;
      for (let t = 0; t < m; t += 4) {
        const e0 = qp[qb + t] - cp[cb + t];
        const e1 = qp[qb + t + 1] - cp[cb + t + 1];
        const e2 = qp[qb + t + 2] - cp[cb + t + 2];
        const e3 = qp[qb + t + 3] - cp[cb + t + 3];
        lb += e0 * e0 + e1 * e1 + e2 * e2 + e3 * e3;
      }
      if (lb > cap2) continue;
      const cj = j * dims;
      let d2 = 0;
      for (let t = 0; t < dims; t += 4) {
        const e0 = qd[qi + t] - cd[cj + t];
        const e1 = qd[qi + t + 1] - cd[cj + t + 1];
        const e2 = qd[qi + t + 2] - cd[cj + t + 2];
        const e3 = qd[qi + t + 3] - cd[cj + t + 3];
        d2 += e0 * e0 + e1 * e1 + e2 * e2 + e3 * e3;
      }
      if (d2 > cap2) continue;
      const d = Math.sqrt(d2);
      top.push(i, j, d);
      if (symmetric) top.push(j, i, d);
    }
  }
  return top;
}

/** Principal axes of the lower bound (a multiple of 4). */
const BOUND_AXES = 16;

function pairKey(ax: number, ay: number, bx: number, by: number): string {
  const a = `${Math.round(ax)},${Math.round(ay)}`;
  const b = `${Math.round(bx)},${Math.round(by)}`;
  return a < b ? `${a};${b}` : `${b};${a}`;
}

function g2nn(
  q: Keypoints,
  c: Keypoints,
  top: TopK,
  params: ClassicalParams,
  flipped: boolean,
  seen: Set<string>,
  out: Pair[],
): void {
  const k = top.k;
  const exact = q.fdesc ? params.exactDescDistance : params.exactHamming * q.bits;
  const max = q.fdesc ? params.maxDescDistance : params.maxHamming * q.bits;
  for (let i = 0; i < q.count; i++) {
    const base = i * k;
    for (let t = 0; t < k; t++) {
      const j = top.ids[base + t];
      const d = top.dist[base + t];
      if (j < 0 || d > max) break;
      const next = t + 1 < k ? top.dist[base + t + 1] : Infinity;
      if (!(d <= exact || d < params.g2nnRatio * next)) break;
      // Each unordered pair once: (p, q) and (q, p) describe the same copy (also across the mirror).
      const key = pairKey(q.x[i], q.y[i], c.x[j], c.y[j]);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ ax: q.x[i], ay: q.y[i], bx: c.x[j], by: c.y[j], distance: d, flipped });
    }
  }
}

/** Self-matches of `kp`, plus matches against the mirrored keypoints when given. */
export function matchKeypoints(kp: Keypoints, mirrored: Keypoints | undefined, params: ClassicalParams, softened?: Keypoints): Matches {
  const minDist2 = params.minDistance * params.minDistance;
  // Distances above this can neither match (> maxHamming) nor fail the ratio test of a match
  // (d_t <= maxHamming < ratio * d_{t+1}): such neighbours are as good as absent.
  const float = kp.fdesc !== undefined;
  const cap = (float ? params.maxDescDistance : params.maxHamming * kp.bits) / params.g2nnRatio;
  const near = float ? nearestFloat : nearest;
  const pairs: Pair[] = [];
  const seen = new Set<string>();
  if (kp.count > 1) g2nn(kp, kp, near(kp, kp, params.g2nnK, minDist2, true, cap), params, false, seen, pairs);
  if (mirrored && kp.count > 0 && mirrored.count > 0 && mirrored.words === kp.words && mirrored.dims === kp.dims) {
    // Float mirrors are a permutation of the same descriptors (an isometry and an involution), so
    // that matching is symmetric too; re-detected binary mirrors are not.
    g2nn(kp, mirrored, near(kp, mirrored, params.g2nnK, minDist2, float, cap), params, true, seen, pairs);
  }
  if (softened && kp.count > 0 && softened.count > 0 && softened.words === kp.words && softened.dims === kp.dims) {
    // a copy blurred after the paste is its source blurred: matched against the softened image's keypoints
    g2nn(kp, softened, near(kp, softened, params.g2nnK, minDist2, false, cap), params, false, seen, pairs);
  }
  const n = pairs.length;
  const m: Matches = {
    count: n,
    ax: new Float32Array(n),
    ay: new Float32Array(n),
    bx: new Float32Array(n),
    by: new Float32Array(n),
    distance: new Float32Array(n),
    flipped: new Uint8Array(n),
  };
  pairs.forEach((p, i) => {
    m.ax[i] = p.ax;
    m.ay[i] = p.ay;
    m.bx[i] = p.bx;
    m.by[i] = p.by;
    m.distance[i] = p.distance;
    m.flipped[i] = p.flipped ? 1 : 0;
  });
  return m;
}
