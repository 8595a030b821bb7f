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
  /** The proposal stage that found it (stages.ts), set by the detector. */
  stage?: string;
  /** A stricter floor on verification's fine-detail correlation for this proposal (stages whose proposals are looser). */
  minDetail?: number;
  /**
   * Backed by pixel-exact twin blocks with grain (exactTwins.ts): noise that never repeats by chance,
   * so verification does not ask its detail to peak at the transform (it may be moved along a band).
   */
  pixelExact?: boolean;
  /**
   * Its inliers are the centres of many matched blocks (near blocks): the detail-peak test
   * (minDetailDrop) runs on those blocks before dense verification. Look-alike structure votes for
   * many offsets, and verifying each would cost more than the rest of a detection.
   */
  peakFirst?: boolean;
  /**
   * A lower gate for this proposal's copy when its detail peaks at the transform: with a detail drop
   * of at least `drop` (minDetailDrop's measure), its event passes the gate from score `score`
   * instead of minEventScore (near blocks: re-encoding noise lowers the ZNCC of a true copy, and
   * the peak tells it from look-alike structure).
   */
  peakedGate?: { drop: number; score: number };
}

/** One verified copy: its pixels, its source's pixels (indices y * W + x) and the similarity copy -> source. */
export interface ResampledTwinPair {
  copy: Int32Array;
  source: Int32Array;
  similarity: Affine;
}
