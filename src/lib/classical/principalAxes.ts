/**
 * The leading principal axes of a set of descriptors (covariance + subspace iteration) and the
 * projection onto them. Projected onto orthonormal axes, a pair's distance can only shrink, and
 * on the leading axes it keeps most of itself: a cheap lower bound that lets brute-force matching
 * (match.ts) skip most pairs before their full distance.
 */

/** `m` orthonormal rows (m x dims), the directions of largest variance first (approximately). */
export function principalAxes(desc: Float32Array, n: number, dims: number, m: number, iterations = 12): Float64Array {
  const cov = covariance(desc, n, dims);
  // Deterministic start: unit vectors spread over the dimensions.
  let q = new Float64Array(m * dims);
  for (let r = 0; r < m; r++) for (let t = 0; t < dims; t++) q[r * dims + t] = Math.cos((r + 1) * (t + 1) * 0.7) + (t % m === r ? 1 : 0);
  orthonormalise(q, m, dims);
  for (let it = 0; it < iterations; it++) {
    const next = new Float64Array(m * dims);
    for (let r = 0; r < m; r++) {
      for (let a = 0; a < dims; a++) {
        let s = 0;
        for (let b = 0; b < dims; b++) s += cov[a * dims + b] * q[r * dims + b];
        next[r * dims + a] = s;
      }
    }
    orthonormalise(next, m, dims);
    q = next;
  }
  return q;
}

function covariance(desc: Float32Array, n: number, dims: number): Float64Array {
  // A subsample is plenty for the axes, and keeps this O(dims^2) per image rather than per keypoint.
  const step = Math.max(1, Math.floor(n / 512));
  const mean = new Float64Array(dims);
  let count = 0;
  for (let i = 0; i < n; i += step, count++) for (let t = 0; t < dims; t++) mean[t] += desc[i * dims + t];
  for (let t = 0; t < dims; t++) mean[t] /= Math.max(1, count);
  const cov = new Float64Array(dims * dims);
  const row = new Float64Array(dims);
  for (let i = 0; i < n; i += step) {
    for (let t = 0; t < dims; t++) row[t] = desc[i * dims + t] - mean[t];
    for (let a = 0; a < dims; a++) {
      const ra = row[a];
      for (let b = a; b < dims; b++) cov[a * dims + b] += ra * row[b];
    }
  }
  for (let a = 0; a < dims; a++) for (let b = 0; b < a; b++) cov[a * dims + b] = cov[b * dims + a];
  return cov;
}

/** Modified Gram-Schmidt on the rows, in place. */
function orthonormalise(q: Float64Array, m: number, dims: number): void {
  for (let r = 0; r < m; r++) {
    const o = r * dims;
    for (let s = 0; s < r; s++) {
      let dot = 0;
      for (let t = 0; t < dims; t++) dot += q[o + t] * q[s * dims + t];
      for (let t = 0; t < dims; t++) q[o + t] -= dot * q[s * dims + t];
    }
    let norm = 0;
    for (let t = 0; t < dims; t++) norm += q[o + t] * q[o + t];
    norm = Math.sqrt(norm) || 1;
    for (let t = 0; t < dims; t++) q[o + t] /= norm;
  }
}

/** Descriptors projected onto the axes: n x m. */
export function project(desc: Float32Array, n: number, dims: number, axes: Float64Array): Float32Array {
  const m = axes.length / dims;
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    const d = i * dims;
    for (let r = 0; r < m; r++) {
      let s = 0;
      const b = r * dims;
      for (let t = 0; t < dims; t++) s += axes[b + t] * desc[d + t];
      out[i * m + r] = s;
    }
  }
  return out;
}
