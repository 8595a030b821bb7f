/**
 * The classical detector's proposal stages, in the order they run. A transform stage proposes
 * candidate copy transforms, which all go through the one verification (verify.ts, via detect.ts);
 * a region stage proposes copy/source regions already verified pixel for pixel at native
 * resolution, which join the one merge into events (events.ts, addTwinEvents). A stage runs when
 * its switch in ClassicalParams is on. To add a stage: write it here and add it to STAGES.
 */
import type { Image } from '../data/types';
import { type BlockCodesOf, blockDescriptors, blockDescriptorsAt, blockMatchTransforms } from './blockMatch';
import { clusterMatches, clusterMatchesHdbscan } from './cluster';
import type { CopyTransform, ResampledTwinPair } from './geometry';
import type { GrayImage } from './grayscale';
import { detectKeypoints, detectSiftKeypoints, type Keypoints, mirrorFloatKeypoints } from './keypoints';
import { matchKeypoints, type Matches } from './match';
import type { OpenCv } from './opencv';
import type { ClassicalParams } from './params';
import { type RejectedFit, fitTransforms } from './ransac';
import { nearBlockTransforms } from './nearBlocks';
import { COMPARED_BLUR_SIGMA, softened } from './blurredCopy';
import type { NativeStageName, NativeStageResult } from './nativeStages';
import { nearSymmetricTransforms } from './nearSymmetric';
import { resampledTwinPairs } from './resampledTwins';

// the one per-detection memo, shared with the native-image stages (and their worker thread)
export { detectionMemo } from './nativeStages';

/** What every stage may read: the image at native size and in the working frame. */
export interface StageInput {
  cv: OpenCv;
  image: Image;
  /** Grey at native resolution. */
  native: GrayImage;
  /** Grey in the working frame (working = original * scale), and contrast-normalised. */
  gray: GrayImage;
  eq: GrayImage;
  scale: number;
  p: ClassicalParams;
  /** Stage timings (ms) by name; a stage records its own steps with lap(name). */
  lap(name: string): void;
  /** What several stages of this detection read, computed by the first to ask (e.g. the image's twin pairs). */
  memo<T>(key: string, compute: () => T): T;
  /** A native-image stage's result (nativeStages.ts): the stage worker's, if it ran it ahead, else computed here. */
  runNative<K extends NativeStageName>(name: K): NativeStageResult<K>;
}

/**
 * Block descriptors for the block stages (blocks at blockQuant, near blocks at 1), computed in one pass
 * for both on the first request of a detection: they read the same box-downscaled image.
 */
function sharedBlockCodes({ memo, p }: StageInput): BlockCodesOf {
  const quants = [...new Set([p.blockQuant, 1])];
  return (g, quant) => {
    const k = quants.indexOf(quant);
    if (k < 0) return blockDescriptors(g, quant);
    return memo(`block-codes:${g.width}x${g.height}:${quants.join(',')}`, () => blockDescriptorsAt(g, quants))[k];
  };
}

/** What the keypoint stage leaves for plots and notes. */
export interface KeypointTrace {
  kp: Keypoints;
  kpMirror?: Keypoints;
  matches: Matches;
  clusters: { members: number[] }[];
  clusterOf: Int32Array;
  rejected: RejectedFit[];
}

export interface TransformStage {
  kind: 'transforms';
  name: string;
  enabled(p: ClassicalParams): boolean;
  /**
   * Candidate transforms. frame 'working': in the working frame with their own cluster ids;
   * 'native': at native resolution, renumbered after all clusters so far by the caller.
   */
  propose(input: StageInput): { transforms: CopyTransform[]; frame: 'working' | 'native'; trace?: KeypointTrace };
}

export interface RegionStage {
  kind: 'regions';
  name: string;
  enabled(p: ClassicalParams): boolean;
  /** Its events join after the gate: verified by their own evidence, which the gate's rules were not made for. */
  afterGate?: boolean;
  /** Smallest new event (pixels of its copies and of its sources); default minRegionFraction of the image. */
  minArea?(p: ClassicalParams, width: number, height: number): number;
  /** Verified copy/source regions at native resolution: their map and the pairs that make it up. */
  propose(input: StageInput): { map: Uint8Array; pairs: ResampledTwinPair[] };
}

export type ProposalStage = TransformStage | RegionStage;

/**
 * The `detector`'s keypoints (+ mirrored: SIFT mirrors its descriptors, the binary ones are
 * detected again on the mirrored image) -> g2NN self-matching -> clusters -> RANSAC per cluster.
 */
const keypointStage: TransformStage = {
  kind: 'transforms',
  name: 'keypoints',
  enabled: () => true,
  propose(input) {
    const { cv, eq, p, lap } = input;
    const sift = p.detector === 'sift';
    const kp = sift ? detectSiftKeypoints(cv, eq, p) : detectKeypoints(cv, eq, p);
    const kpMirror = !p.flips ? undefined : sift ? mirrorFloatKeypoints(kp) : detectKeypoints(cv, eq, p, true);
    const kpSoft = p.blurredKeypoints && !sift ? detectKeypoints(cv, softened(eq, COMPARED_BLUR_SIGMA * input.scale), p) : undefined;
    lap('keypoints');
    return keypointTransforms(kp, kpMirror, input, '', kpSoft);
  },
};

/**
 * SIFT keypoints as a second keypoint stage next to a binary `detector` (param `sift`): DoG blobs
 * and gradient histograms find copies that FAST corners miss (rescaled, turned, smooth content),
 * while on noisy, re-encoded figures ORB's corners repeat better; their transforms all go through
 * the one verification.
 */
const siftStage: TransformStage = {
  kind: 'transforms',
  name: 'sift',
  enabled: (p) => p.sift && p.detector !== 'sift',
  propose(input) {
    const kp = detectSiftKeypoints(input.cv, input.eq, input.p);
    input.lap('sift');
    return keypointTransforms(kp, input.p.flips ? mirrorFloatKeypoints(kp) : undefined, input, 'sift-');
  },
};

/** Matching, clustering and RANSAC of one keypoint set (and its mirror), in the working frame. */
function keypointTransforms(kp: Keypoints, kpMirror: Keypoints | undefined, { cv, p, lap }: StageInput, prefix = '', kpSoft?: Keypoints) {
  const matches = matchKeypoints(kp, kpMirror, p, kpSoft);
  lap(`${prefix}match`);
  const grouped = p.clustering === 'hdbscan' ? clusterMatchesHdbscan(matches, p.minInliers, p.clusterRadius) : clusterMatches(matches, p.clusterRadius);
  const clusters = grouped.filter((c) => c.members.length >= p.minInliers);
  const clusterOf = new Int32Array(matches.count).fill(-1);
  clusters.forEach((c, ci) => c.members.forEach((m) => (clusterOf[m] = ci)));
  lap(`${prefix}cluster`);
  const { transforms: fits, rejected } = fitTransforms(cv, matches, clusters, p);
  // a copy that peaks passes from keypointMinScore; the score's inlier factor still keeps fits with few inliers
  // out (a chessboard's 12-inlier fits peak too), unless the peak is sharp (keypointSharpDrop)
  const peakedGate = { drop: p.keypointMinDrop, score: p.keypointMinScore, kind: 'keypoint', sharpDrop: p.keypointSharpDrop };
  const transforms = fits.map((t) => ({ ...t, peakedGate }));
  lap(`${prefix}ransac`);
  return { transforms, frame: 'working' as const, trace: { kp, kpMirror, matches, clusters, clusterOf, rejected } };
}

/** Dense DCT block matching at native resolution (blockMatch.ts). */
const blockStage: TransformStage = {
  kind: 'transforms',
  name: 'blocks',
  enabled: (p) => p.blockMatching,
  propose(input) {
    const { native, p, scale, lap } = input;
    const transforms = blockMatchTransforms(native, p, p.minDistance / scale, sharedBlockCodes(input));
    lap('blocks');
    return { transforms, frame: 'native' };
  },
};

/** Pixel-exact block twins at native resolution, every block (exactTwins.ts; may run ahead in the stage worker, nativeStages.ts). */
const exactStage: TransformStage = {
  kind: 'transforms',
  name: 'exact',
  enabled: (p) => p.exactTwins,
  propose({ runNative, lap }) {
    const transforms = runNative('exact');
    lap('exact');
    return { transforms, frame: 'native' };
  },
};

/** Near-identical blocks (nearBlocks.ts, and mirrored or turned: nearSymmetric.ts): re-encoded or lightly noised copies. */
const nearStage: TransformStage = {
  kind: 'transforms',
  name: 'near',
  enabled: (p) => p.nearBlocks,
  propose(input) {
    const { native, p, scale, lap } = input;
    const opts = { minDistance: p.minDistance / scale, minVotes: p.nearMinVotes, maxTransforms: p.blockMaxTransforms };
    const found = nearBlockTransforms(native, opts, sharedBlockCodes(input));
    if (p.nearSymmetries) found.push(...nearSymmetricTransforms(native, opts, sharedBlockCodes(input)));
    const peakedGate = { drop: p.nearMinDrop, score: p.nearMinScore, kind: 'near-block' };
    const transforms = found.map((t) => ({ ...t, minDetail: p.nearMinDetail, peakFirst: true, peakedGate }));
    lap('near');
    return { transforms, frame: 'native' };
  },
};

/** Rotation-invariant dense matching at native resolution (denseMatch.ts; the stage worker may run it ahead, nativeStages.ts). */
const denseStage: TransformStage = {
  kind: 'transforms',
  name: 'dense',
  enabled: (p) => p.denseMatching,
  propose({ runNative, lap, p }) {
    const peakedGate = { drop: p.denseMinDrop, score: p.denseMinScore, kind: 'dense' };
    const transforms = runNative('dense').map((t) => ({ ...t, peakedGate }));
    lap('dense');
    return { transforms, frame: 'native' };
  },
};

/** Copies turned by any angle or rescaled with nearest-neighbour sampling, verified pixel for pixel (resampledTwins.ts). */
const resampledStage: RegionStage = {
  kind: 'regions',
  name: 'resampled',
  enabled: (p) => p.resampledTwins,
  propose: ({ image }) => resampledTwinPairs(image),
  // timed by the caller with the merge ('resampled'), where its regions join the events
};

/** Small copies pasted unchanged, their grainy exact twin blocks as regions (exactRegions.ts; may run ahead like exact). */
const exactRegionStage: RegionStage = {
  kind: 'regions',
  name: 'exact regions',
  enabled: (p) => p.exactRegions,
  afterGate: true,
  // the twin blocks are the evidence: no area floor but their votes
  minArea: () => 0,
  propose: ({ runNative }) => runNative('exact regions'),
};

/** Lanes copied within or across the strips of a blot or gel, matched on pixel noise (lanes.ts; may run ahead like dense). */
const laneStage: RegionStage = {
  kind: 'regions',
  name: 'lanes',
  enabled: (p) => p.laneMatching,
  afterGate: true,
  // The gate's few-level rule still holds: a mirror-symmetric drawing (a phantom, a logo) repeats its noise-free pixels too.
  propose: ({ runNative }) => runNative('lanes'),
};

/** Copies pasted off the lattice of an exactly periodic figure, the copy alone (periodicBreaks.ts; may run ahead like dense). */
const periodicStage: RegionStage = {
  kind: 'regions',
  name: 'periodic breaks',
  enabled: (p) => p.periodicBreaks,
  // after the gate, whose few-level and repetitive-structure rules are made for matches and drop every event in a periodic figure
  afterGate: true,
  // copies alone (their sources are any lattice twin): the stage keeps regions of 64 px and 0.1% of the figure
  minArea: () => 0,
  propose: ({ runNative }) => runNative('periodic breaks'),
};

/** Every stage, in the order it runs. */
export const STAGES: readonly ProposalStage[] = [keypointStage, siftStage, blockStage, exactStage, nearStage, denseStage, resampledStage, exactRegionStage, laneStage, periodicStage];
