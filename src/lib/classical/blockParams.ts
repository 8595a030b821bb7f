/** Parameters of dense DCT block matching (blockMatch.ts), apart from it so that params.ts imports no stage. */
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
