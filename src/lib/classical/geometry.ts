/**
 * The shapes the classical stages hand each other (kept apart from the modules that compute them,
 * so that parameters, stages, verification and events import no circle), and the one comparison of
 * transforms that verification and events share.
 */

/** Row-major 2x3 affine [a, b, tx, c, d, ty]: (x, y) -> (a x + b y + tx, c x + d y + ty). */
export type Affine = [number, number, number, number, number, number];

/** Whether a and b move every corner of the box (x0, y0)-(x1, y1) to within `tolerance` pixels of each other. */
export function cornersMoveAlike(a: Affine, b: Affine, x0: number, y0: number, x1: number, y1: number, tolerance: number): boolean {
  for (const [x, y] of [[x0, y0], [x1, y0], [x0, y1], [x1, y1]]) {
    const du = a[0] * x + a[1] * y + a[2] - (b[0] * x + b[1] * y + b[2]);
    const dv = a[3] * x + a[4] * y + a[5] - (b[3] * x + b[4] * y + b[5]);
    if (!(Math.hypot(du, dv) <= tolerance)) return false;
  }
  return true;
}

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
   * the peak tells it from look-alike structure; dense matching and keypoints: turned copies with
   * noise of their own). `kind` names the copy in the gate's note ('peaked near-block copy'). From a
   * drop of `sharpDrop`, the score compared is the mean ZNCC without the inlier factor.
   */
  peakedGate?: { drop: number; score: number; kind: string; sharpDrop?: number };
}

/** One verified copy: its pixels, its source's pixels (indices y * W + x) and the similarity copy -> source. */
export interface ResampledTwinPair {
  copy: Int32Array;
  source: Int32Array;
  similarity: Affine;
}

/** A region's box, corners inclusive. */
export interface PixelBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The box of a region given as pixel indices (y * width + x); x1 = y1 = -1 for none. */
export function pixelBox(pixels: Int32Array, width: number): PixelBox {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -1, -1];
  for (const q of pixels) {
    const x = q % width;
    const y = (q - x) / width;
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
  }
  return { x0, y0, x1, y1 };
}
