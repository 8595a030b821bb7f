/**
 * The shapes the classical stages hand each other (kept apart from the modules that compute them,
 * so that parameters, stages, verification and events import no circle).
 */

/** Row-major 2x3 affine [a, b, tx, c, d, ty]: (x, y) -> (a x + b y + tx, c x + d y + ty). */
export type Affine = [number, number, number, number, number, number];

export interface CopyTransform {
  /** Maps the source region onto its copy. */
  affine: Affine;
  /** Inlier point pairs (source -> copy), working-image pixels. */
  src: Float32Array;
  dst: Float32Array;
  inliers: number;
  /** Index of the cluster it came from. */
  cluster: number;
  /** True when the copy is mirrored (negative determinant). */
  flipped: boolean;
  /** A stricter floor on verification's fine-detail correlation for this proposal (stages whose proposals are looser). */
  minDetail?: number;
}

/** One verified copy: its pixels, its source's pixels (indices y * W + x) and the similarity copy -> source. */
export interface ResampledTwinPair {
  copy: Int32Array;
  source: Int32Array;
  similarity: Affine;
}
