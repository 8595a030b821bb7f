/**
 * The cascade's stage 2, when density clustering finds no event: how far the image's most
 * outlying tokens lie from its background. Per token, the outlier distance 1 - cos(e, centre of the
 * background) in [0, 2] (1 = orthogonal, where the separation loss puts events); the image's
 * suspicion score is the mean of the `k` largest, capped to [0, 1]; the outliers are the tokens at or
 * beyond `distance`.
 */
export interface Suspicion {
  score: number;
  /** 0/1 per token: outlier distance >= `distance`. */
  outliers: Uint8Array;
  /** Outlier distance per token. */
  distances: Float32Array;
}

export function suspicionScore(simBackground: Float32Array, k: number, distance: number): Suspicion {
  const distances = Float32Array.from(simBackground, (s) => 1 - s);
  const outliers = Uint8Array.from(distances, (v) => (v >= distance ? 1 : 0));
  const top = Array.from(distances).sort((a, b) => b - a).slice(0, Math.max(1, k));
  const score = top.length ? top.reduce((a, b) => a + b, 0) / top.length : 0;
  return { score: Math.min(1, Math.max(0, score)), outliers, distances };
}
