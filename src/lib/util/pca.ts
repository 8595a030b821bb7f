/**
 * The top `k` principal components of n points of dimension d (row-major) by power iteration with
 * deflation on the d x d covariance, from a fixed start (deterministic). Returns the points'
 * coordinates on them (n x k) and each component's variance. Enough for 2-D views of embeddings.
 */
export function pca(points: ArrayLike<number>, n: number, d: number, k = 2, iterations = 100): { coords: Float64Array; variance: number[] } {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += points[i * d + j] / n;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      const xa = points[i * d + a] - mean[a];
      for (let b = 0; b < d; b++) cov[a * d + b] += (xa * (points[i * d + b] - mean[b])) / Math.max(1, n - 1);
    }
  }
  const comps: Float64Array[] = [];
  const variance: number[] = [];
  for (let c = 0; c < k; c++) {
    let v = Float64Array.from({ length: d }, (_, j) => 1 + j / d);
    let lambda = 0;
    for (let it = 0; it < iterations; it++) {
      const w = new Float64Array(d);
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) w[a] += cov[a * d + b] * v[b];
      // deflate: remove the components found so far
      for (const u of comps) {
        const dot = w.reduce((s, x, j) => s + x * u[j], 0);
        for (let j = 0; j < d; j++) w[j] -= dot * u[j];
      }
      lambda = Math.hypot(...w);
      if (lambda === 0) break;
      v = w.map((x) => x / lambda);
    }
    comps.push(v);
    variance.push(lambda);
  }
  const coords = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (points[i * d + j] - mean[j]) * comps[c][j];
      coords[i * k + c] = s;
    }
  }
  return { coords, variance };
}
