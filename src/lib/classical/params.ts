/**
 * Parameters of the classical copy-move detector, with documented defaults. Lengths are in pixels
 * of the working image (the input downscaled so its longer side is at most `maxSide`).
 */
import { ConfigError, didYouMean } from '../errors';
import { BLOCK_DEFAULTS, type BlockMatchParams } from './blockParams';
import { CONTRAST_MODES, type ContrastMode } from './contrast';
import { DENSE_MAX_PIXELS } from './denseMatch';
import { EVENT_MODES, type EventGate, type EventMode } from './events';
import type { RansacScore } from './similarity';

export type KeypointDetector = 'orb' | 'akaze' | 'brisk' | 'sift';
export const KEYPOINT_DETECTORS: readonly KeypointDetector[] = ['orb', 'akaze', 'brisk', 'sift'];

/** Also the image-level gate against false alarms (events.ts, EventGate: minEventScore, maxEvents, minForgedShare, maxEventShare, hugeEventMinPeak, minEventEntropy). */
export interface ClassicalParams extends BlockMatchParams, EventGate {
  /** Longer side of the working image; larger inputs are downscaled (masks come back at full size). */
  maxSide: number;
  /** Smaller inputs are upscaled to this longer side (more keypoints on small copied regions). */
  minSide: number;
  /** Contrast normalisation before keypoints (see contrast.ts): 'global' | 'clahe' | 'none'. */
  contrast: ContrastMode;
  /** CLAHE clip limit (contrast 'clahe'). */
  claheClip: number;
  /** CLAHE tiles per side. */
  claheTiles: number;
  /** Keypoint detector + descriptor: binary ones from OpenCV.js, or float SIFT (sift.ts). */
  detector: KeypointDetector;
  /** Also propose transforms from SIFT keypoints next to a binary `detector` (stages.ts, siftStage). */
  sift: boolean;
  /** SIFT DoG contrast threshold (0..1 image units; OpenCV's default is 0.04, the competition's 2nd place used 0.001). */
  siftContrast: number;
  /** RootSIFT descriptors (Hellinger distance) instead of OpenCV's L2-normalised SIFT. */
  rootSift: boolean;
  /** Float descriptors (unit norm) farther apart than this L2 distance are never matches. */
  maxDescDistance: number;
  /** Float descriptors at or below this L2 distance are always kept (exact copies). */
  exactDescDistance: number;
  /** Keypoints kept per image (strongest first); matching cost grows with its square. */
  maxKeypoints: number;
  /** ORB descriptor patch side: small patches stay inside small or irregular copied regions. */
  orbPatchSize: number;
  /** ORB pyramid levels (scale factor 1.2 each). */
  orbLevels: number;
  /** AKAZE detector response threshold. */
  akazeThreshold: number;
  /** Also match against the mirrored image, to find flipped copies. */
  flips: boolean;
  /** Neighbours examined per keypoint by g2NN. */
  g2nnK: number;
  /** g2NN ratio: neighbour t is kept while d_t < ratio * d_{t+1}. */
  g2nnRatio: number;
  /** Descriptor distances at or below this fraction of the bits are always kept (exact copies). */
  exactHamming: number;
  /** Descriptor distances above this fraction of the bits are never matches. */
  maxHamming: number;
  /** Matched keypoints closer than this are the same structure, not a copy. */
  minDistance: number;
  /**
   * A reflection whose source lies within this many working pixels of its copy (more than a trace of
   * it, selfContact.ts) is a mirror-symmetric object matched with itself: near its axis the two halves
   * agree too little to verify, so they end up further apart than minDistance. Other transforms use
   * minDistance.
   */
  mirrorMinGap: number;
  /** Two matches join a cluster when both their ends lie within this radius. */
  clusterRadius: number;
  /**
   * How matches are grouped before RANSAC (cluster.ts): 'radius' links matches whose ends lie within
   * clusterRadius of each other (chains); 'hdbscan' finds dense groups at any spacing (minInliers
   * matches at least), isolated matches left out.
   */
  clustering: 'radius' | 'hdbscan';
  /** How RANSAC scores a similarity hypothesis (similarity.ts): 'count' of inliers, or 'magsac' (threshold-free, MAGSAC-style). */
  ransacScore: RansacScore;
  /**
   * RANSAC inlier minimum for a transform to count. The competition's winners used ~20 on large
   * real figures; 12 recovers more of the small synthetic copies and dense verification keeps
   * authentic figures clean (tuned on synthetic seeds 'tune-A'/'tune-B').
   */
  minInliers: number;
  /** Copy geometry fitted by RANSAC: 'similarity' (rotation, uniform scale, mirror) or 'affine'. */
  model: 'similarity' | 'affine';
  /** RANSAC reprojection threshold. */
  ransacThreshold: number;
  /** RANSAC iterations per fit. */
  ransacIters: number;
  /** Accepted range of the transform's singular values (scale of the copy). */
  minScale: number;
  maxScale: number;
  /**
   * A keypoint fit's copy passes the gate from this score when its detail falls by at least
   * keypointMinDrop 2 px off its transform (as denseMinScore for dense proposals); minEventScore or
   * more turns it off.
   */
  keypointMinScore: number;
  keypointMinDrop: number;
  /**
   * A keypoint fit's copy whose detail falls by at least this much 2 px off its transform meets
   * keypointMinScore with its mean ZNCC alone, without the score's inlier factor: a rescaled or turned
   * copy keeps few ORB matches, and so sharp a peak is no periodic structure's. 2 or more: off.
   */
  keypointSharpDrop: number;
  /**
   * Also match the binary keypoints against those of the image softened as a forger's blur softens
   * (blurredCopy.ts COMPARED_BLUR_SIGMA, in native pixels): a copy blurred after the paste is its
   * source blurred, so the source's softened keypoints match it where its own sharp ones do not.
   */
  blurredKeypoints: boolean;
  /** Side of the window of the dense zero-mean normalised cross-correlation. */
  znccWindow: number;
  /** ZNCC above which a pixel counts as copied. */
  znccThreshold: number;
  /** Local grey-level variance below which ZNCC is undefined (flat area). */
  minVariance: number;
  /** Share of the textured source pixels whose ZNCC must pass for a copy to be accepted. */
  minSupport: number;
  /**
   * Minimum correlation of fine detail between source and copy (see verify.ts): separates real
   * copies, which carry their grain along, from look-alike structure such as blot bands.
   */
  minDetail: number;
  /**
   * How much that fine-detail correlation must fall when the transform is moved 2 px along the axis
   * where it falls least (verify.ts detailDrop): a copy agrees with its source at one registration,
   * look-alike structure that runs along an axis (bands, lanes, chart strokes) as well shifted along
   * it. Not asked of pixel-exact twins. 0: off.
   */
  minDetailDrop: number;
  /**
   * A copy whose detail falls by less than minDetailDrop, but by at least grainyMinDrop, passes the
   * peak test when its mean ZNCC and its detail correlation both reach grainyMinAgreement over a
   * source with grain (exactRegionMinGrain of its neighbouring pixels differ, detect.ts grainyTwin):
   * a photograph's stripe or edge copied with the grain around it. 0: off.
   */
  grainyMinDrop: number;
  grainyMinAgreement: number;
  /** Smallest region kept, as a fraction of the image area. */
  minRegionFraction: number;
  /**
   * Grow each verified copy back to its pasted edge (copyRim.ts): verification's windows stop up to
   * half a window inside it, where they straddle the edge.
   */
  copyRim: boolean;
  /** Drop regions that look like text labels (near-binary thin strokes). */
  suppressText: boolean;
  /**
   * Refine each transform that verification found a region for by Gauss-Newton on the region's grey
   * levels (refineAffine.ts) and verify it again, keeping the better: keypoint fits are a few tenths
   * of a pixel off, which costs resampled copies their ZNCC.
   */
  refineAffine: boolean;
  /**
   * What one instance is (events.ts). 'transform' (default): one copy-move event, as in the
   * competition's masks: the source and all of its copies (transforms sharing a region, fragments
   * of one copy, resampled twins touching them). 'regions': every source and copy apart, the
   * output before events, for comparison.
   */
  events: EventMode;
  /**
   * Also look for copies by dense DCT block matching at native resolution (blockMatch.ts): finds
   * translated, mirrored and quarter-turned copies with too few corners for keypoints.
   */
  blockMatching: boolean;
  /**
   * Also look for copies by rotation-invariant dense matching (denseMatch.ts; images over 2^17 pixels
   * box-downscaled first): proposes copies turned by any angle, and re-encoded flips, that keypoints
   * and block matching miss (rescaled ones mostly not).
   */
  denseMatching: boolean;
  /**
   * Also propose the copy transforms of pixel-exact block twins at native resolution (exactTwins.ts):
   * copies pasted without any change, however small or oddly offset, which the block matching's
   * box-averaging of large images and its query stride lose.
   */
  exactTwins: boolean;
  /** Twin block pairs (6x6) an exact-twin transform needs. */
  exactMinVotes: number;
  /**
   * Also add small copies pasted unchanged as regions (exactRegions.ts): their exact twin blocks,
   * where the blocks carry grain (noise that never repeats by chance), are the verified source and
   * copy; too small for keypoints and for dense verification. Verified by that evidence, they join after the gate.
   */
  exactRegions: boolean;
  /** Twin block pairs an exact region needs. */
  exactRegionMinVotes: number;
  /**
   * Share of an exact region's neighbouring pixels that must differ (grain; rendered graphics repeat exactly).
   * Lane matches are held to the same grain rule (with exactRegionLowGrain and exactRegionGrainPixels): they
   * are verified by the noise they share, so a match needs noise.
   */
  exactRegionMinGrain: number;
  /**
   * Or this share, when the differing neighbour pairs number at least exactRegionGrainPixels: a larger
   * unchanged copy of faint texture repeats too many grey-level steps to be chance (exactRegions.ts).
   */
  exactRegionLowGrain: number;
  exactRegionGrainPixels: number;
  /**
   * Also propose translations of near-identical 8x8 blocks (nearBlocks.ts): copies re-encoded
   * (JPEG), lightly noised or resized with the figure, whose DCT codes no longer hash alike.
   */
  nearBlocks: boolean;
  /** Also near-identical blocks mirrored or turned by quarter turns (nearSymmetric.ts): re-encoded or noised flipped copies. */
  nearSymmetries: boolean;
  /** Near-identical block pairs (pooled over neighbouring offsets) a translation needs. */
  nearMinVotes: number;
  /** Fine-detail correlation a near-block translation needs in verification (smooth look-alikes agree in ZNCC, not in grain). */
  nearMinDetail: number;
  /**
   * Whole pixels (each way) a near-block translation may move to where its fine detail peaks
   * before the detail-peak test (verify.ts registerByDetail); 0: tested where it was proposed.
   */
  nearRegister: number;
  /**
   * A near-block translation whose detail does not peak is refined from a few scales about its
   * inliers (sharedMaps.ts rescaledPeak) and tested again there: a copy rescaled by up to about a
   * quarter is proposed at its centre, where its blocks still match, and peaks only at its own scale.
   */
  nearRescale: boolean;
  /**
   * A near-block copy whose detail falls by at least nearMinDrop 2 px off its transform (a sharp
   * peak: a copy, not look-alike structure) passes the gate from this score rather than
   * minEventScore: re-encoding the figure (JPEG) lowers a true copy's mean ZNCC to ~0.85-0.93.
   */
  nearMinScore: number;
  /** The detail drop (verify.ts detailDrop) a near-block copy needs for nearMinScore. */
  nearMinDrop: number;
  /**
   * The same lower gate for a dense-matching copy (a turned, flipped or re-encoded copy proposed by
   * its rank features): it passes from denseMinScore when its detail falls by at least denseMinDrop
   * 2 px off its transform. minEventScore or above: off.
   */
  denseMinScore: number;
  denseMinDrop: number;
  /**
   * A copy scoring below minEventScore passes the gate as a blurred copy when, with its source or
   * its copy blurred (blurredCopy.ts), the same score (mean ZNCC times the inlier factor) reaches
   * this: a forger's blur lowers a copy's ZNCC, the source blurred alike restores it. 0: off.
   */
  minBlurredZncc: number;
  /**
   * Also add the copies that resampled twins finds (resampledTwins.ts): turned by any angle or
   * rescaled with nearest-neighbour sampling, verified pixel for pixel at native resolution, each
   * connected region (copy or source) one instance.
   */
  resampledTwins: boolean;
  /**
   * Also look for lanes copied within or across the strips of a blot or gel (lanes.ts): matched on
   * the pixel-noise residual, which look-alike lanes do not share. Its events are verified by that
   * noise and join after the gate (which is made for keypoint and block events).
   * Source and copy must carry grain (exactRegionMinGrain): a mirror-symmetric rendered figure's edges
   * correlate in the residual too.
   */
  laneMatching: boolean;
  /**
   * Find regions pasted into an exactly periodic figure (a checkerboard, a grid of wells) by the
   * lattice they break (periodicBreaks.ts): each becomes an event of the copy alone, its source
   * being any lattice twin.
   */
  periodicBreaks: boolean;
  /**
   * Run the stages that read only the native grey image (dense and lane matching, nativeStages.ts) in
   * a worker thread while this thread runs the others (stageWorker.ts); same results. Used when the
   * machine has two cores or more and the worker has started (detectCopyMove starts it).
   */
  stageWorker: boolean;
  /** Dense matching's pixel budget (denseMatch.ts): larger figures are box-downscaled by an integer factor first. */
  denseMaxPixels: number;
}

export const DEFAULT_PARAMS: Readonly<ClassicalParams> = Object.freeze({
  maxSide: 1024,
  minSide: 512,
  contrast: 'global' as ContrastMode,
  claheClip: 2,
  claheTiles: 8,
  detector: 'orb' as KeypointDetector,
  sift: false,
  siftContrast: 0.01,
  rootSift: true,
  // The value the tuning runs used (realistic-tune + photo-tune); 0.5 was never measured.
  maxDescDistance: 0.35,
  exactDescDistance: 0.05,
  maxKeypoints: 3000,
  orbPatchSize: 31,
  orbLevels: 8,
  akazeThreshold: 0.0005,
  flips: true,
  g2nnK: 6,
  g2nnRatio: 0.7,
  exactHamming: 0.04,
  maxHamming: 0.25,
  minDistance: 16,
  // 24 (1.5 minDistance), chosen on the tuning sets' figures with a verified reflection whose source lies within 48 px
  // of its copy (71): oF1 realistic-tune +0.005 (a compound figure's mirrored halves no longer a false alarm),
  // lanes-tune +0.004, photo-tune2 +0.006 (a logo's diagonal mirror no longer a false alarm), photo-tune unchanged;
  // 32 cost a photo-tune copy 0.02 and 48 lost two true copies (0.99 -> 0, 0.80 -> 0.30) (docs/results.md).
  mirrorMinGap: 24,
  clusterRadius: 40,
  clustering: 'radius' as 'radius' | 'hdbscan',
  // Chosen on the tuning sets (realistic-tune + photo-tune, 360 images): oF1 0.531 -> 0.533, false alarms equal (1.2%).
  ransacScore: 'magsac' as RansacScore,
  minInliers: 12,
  model: 'similarity' as 'similarity' | 'affine',
  ransacThreshold: 3,
  ransacIters: 2000,
  minScale: 0.4,
  maxScale: 2.5,
  // As the dense gate, chosen on the tuning sets' figures whose notes showed the score gate (37): keypoint candidates
  // verified below 0.95 with drops of 0.3 or more and at least 2 minInliers inliers (score = ZNCC) all lay on true
  // copies (ZNCC 0.85-0.93); lanes-tune 0.6464 -> 0.6484 (a blot's reused lane found), the other sets and false alarms
  // unchanged. With fewer inliers the score stays low: a chessboard's 12-inlier fits also peak (drops 0.3-0.39).
  keypointMinScore: 0.8,
  keypointMinDrop: 0.3,
  keypointSharpDrop: 0.5,
  // On, with the blurred-copy gate's blur in native pixels (it was in working pixels): on the tuning sets
  // photo-tune 0.6259 -> 0.6306, photo-tune2 0.6187 -> 0.6232, realistic-tune 0.6876 -> 0.6906, photos-tune
  // 0.6455 -> 0.6458, no new false alarm; one more ORB detection per figure (docs/results.md).
  blurredKeypoints: true,
  znccWindow: 7,
  znccThreshold: 0.8,
  minVariance: 4,
  minSupport: 0.5,
  minDetail: 0.2,
  // 0.1, read off the tuning sets' verified candidates (look-alikes of charts, compound figures and blots fall by
  // < 0.1, most true copies by 0.3-0.9) and checked there: with near blocks, oF1 realistic-tune / photo-tune /
  // photo-tune2 0.616 / 0.558 / 0.546 (before: no drop test, near blocks off) -> 0.622 / 0.577 / 0.555 (0.1) and
  // 0.622 / 0.577 / 0.548 (0.2).
  minDetailDrop: 0.1,
  // Read off the tuning sets' candidate censuses: not-peaked candidates agreeing at 0.95 or more fell by
  // 0.028-0.098 on true copies (a brick's mortar line, a clock face's rim) and by 0-0.093 on look-alikes,
  // whose sources carry little grain (10-15% of neighbours differ on a compound figure's panels, against
  // 62-95% on photographs). Checked on the tuning sets: photo-tune 0.6245 -> 0.6259, photos-tune
  // 0.6426 -> 0.6455, the others unchanged, no new false alarm (docs/results.md).
  grainyMinDrop: 0.025,
  grainyMinAgreement: 0.95,
  minRegionFraction: 0.0005,
  copyRim: true,
  suppressText: true,
  // Chosen on realistic-tune + photo-tune (360 images): oF1 0.557 -> 0.568, false alarms 1.2% both.
  refineAffine: true,
  events: 'transform' as EventMode,
  blockMatching: true,
  // On since the detail-peak test keeps its look-alike proposals out (9.9% false alarms on realistic-tune
  // before it) and resampled copies are verified from both sides (refineCopy.ts). Tuning sets, oF1 (false
  // alarms), with those two: realistic-tune 0.639 -> 0.653 (0.9% both), lanes-tune 0.632 -> 0.633 (1.4%),
  // photo-tune 0.592 -> 0.592 (0%), photo-tune2 0.563 -> 0.570 (3.2% both); with its fits made similarities
  // since, 0.656 / 0.642 / 0.592 / 0.572 (docs/results.md).
  denseMatching: true,
  exactTwins: true,
  // 48, chosen on realistic-tune + photo-tune: oF1 0.554 (24 votes, 1.8% false alarms) -> 0.557 (1.2%).
  exactMinVotes: 48,
  exactRegions: true,
  exactRegionMinVotes: 12,
  exactRegionMinGrain: 0.7,
  // Chosen on the tuning sets' exact-region candidates (all four sets): authentic ones with grain 0.45 or
  // more are small (at most 60 differing pairs: pieces of rendered edges and glyphs), larger authentic ones
  // have at most 0.32; true copies between 0.45 and 0.7 have 120-7,500 differing pairs.
  exactRegionLowGrain: 0.45,
  exactRegionGrainPixels: 120,
  // On since the detail-peak test (minDetailDrop) rejects the smooth look-alike regions of charts, compound
  // figures and gels that made it cost false alarms before (1.2% -> 5.4% on realistic-tune + photo-tune).
  nearBlocks: true,
  nearSymmetries: false,
  nearMinVotes: 100,
  // The lower gate for peaked near-block copies, and their lower detail floor (0.7 before), chosen on
  // realistic-tune, photo-tune and photo-tune2: oF1 0.622 -> 0.630, 0.577 -> 0.587, 0.555 -> 0.556 with
  // no new false alarm (JPEG-re-encoded copies verify at mean ZNCC 0.85-0.93, detail 0.45-0.6).
  nearMinDetail: 0.4,
  // 3 since registration stops short of the panel pitch (panels.ts atPanelPitch), where a compound figure's frames
  // register exactly onto each other (a false alarm before). Tuning sets: lanes-tune 0.636 -> 0.643 (three blots and
  // gels better, no new false alarm); realistic-tune 0.6526 -> 0.6523 together with the exact-twin exemption from the
  // same-motion rule (detect.ts): a compound figure found, a blot's event over-grown (0.96 -> 0.72).
  nearRegister: 3,
  // On: photo-tune 0.6188 -> 0.6267 (a photo's 1.17x copy found), realistic-tune, lanes-tune and photo-tune2
  // unchanged, no new false alarm; about 4% of a lanes-tune detection's time (docs/results.md).
  nearRescale: true,
  nearMinScore: 0.84,
  nearMinDrop: 0.3,
  // Chosen on the tuning sets' figures whose notes showed the score gate (43; only they can change): every dense
  // candidate verified below 0.95 on realistic-tune and lanes-tune lay on a true copy (ZNCC 0.80-0.94, drops
  // 0.10-0.82); oF1 realistic-tune 0.6728 -> 0.6825, photo-tune +0.008, photo-tune2 +0.005, lanes-tune and false
  // alarms unchanged, the same at drops 0.25-0.35 but photo-tune (one figure at 0.34). On lanes-report it added a false
  // alarm (a blot whose strips carry look-alike bands, docs/results.md).
  denseMinScore: 0.8,
  denseMinDrop: 0.3,
  // Off: it finds only nearest-neighbour resampled copies, which real editors rarely make; on the
  // realistic generator's tuning set it added no truth pixel to twins + blocks at ~4x their time.
  resampledTwins: false,
  laneMatching: true,
  // On: on the tuning sets it finds no lattice outside the photo sets' checkerboards (realistic-tune, lanes-tune: none), where
  // oF1 photo-tune 0.592 -> 0.611, photo-tune2 0.590 -> 0.602 with no new false alarm (docs/results.md).
  periodicBreaks: true,
  stageWorker: true,
  denseMaxPixels: DENSE_MAX_PIXELS,
  // The gate (events.ts), chosen on the realistic tuning sets: a score of 0.95 and at most a quarter of
  // the image per event cut authentic false alarms from 14% to 2.4% there and raised oF1 0.497 -> 0.522.
  minEventScore: 0.95,
  // Chosen on realistic-tune, photo-tune and photo-tune2: blurred true copies reach 0.973-0.991 with
  // the source blurred alike (from ZNCC 0.74-0.94); no accepted candidate of an authentic figure
  // passed 0.95, copies of look-alike content in forged figures reached 0.967.
  minBlurredZncc: 0.975,
  maxEvents: 0,
  minForgedShare: 0,
  maxEventShare: 0.25,
  hugeEventMinPeak: 0.5,
  // 2.5 bits, chosen on the same tuning sets (realistic-tune + photo-tune, 360 images): oF1 0.520 -> 0.526,
  // false alarms 2.4% -> 0.6% (binary text and few-level graphics matched with themselves).
  minEventEntropy: 2.5,
  ...BLOCK_DEFAULTS,
});

/**
 * The parameters by the stage (or step) of the detector they belong to (stages.ts): the nested
 * form resolveParams also accepts, `{ keypoints: { detector: 'akaze' } }`, or dotted,
 * `'keypoints.detector'` (sifd predict --param keypoints.detector=akaze). The flat names stay valid.
 */
export const PARAM_GROUPS: Readonly<Record<string, readonly (keyof ClassicalParams)[]>> = Object.freeze({
  input: ['maxSide', 'minSide', 'contrast', 'claheClip', 'claheTiles'],
  keypoints: [
    'detector', 'maxKeypoints', 'orbPatchSize', 'orbLevels', 'akazeThreshold', 'flips', 'g2nnK', 'g2nnRatio', 'exactHamming', 'maxHamming',
    'minDistance', 'clusterRadius', 'clustering', 'minInliers', 'model', 'ransacThreshold', 'ransacIters', 'ransacScore', 'minScale', 'maxScale',
    'keypointMinScore', 'keypointMinDrop', 'keypointSharpDrop', 'blurredKeypoints',
  ],
  sift: ['sift', 'siftContrast', 'rootSift', 'maxDescDistance', 'exactDescDistance'],
  blocks: ['blockMatching', 'blockQuant', 'blockMinVotes', 'blockMaxBucket', 'blockMaxTransforms'],
  dense: ['denseMatching', 'denseMaxPixels', 'denseMinScore', 'denseMinDrop'],
  exact: ['exactTwins', 'exactMinVotes', 'exactRegions', 'exactRegionMinVotes', 'exactRegionMinGrain', 'exactRegionLowGrain', 'exactRegionGrainPixels'],
  near: ['nearBlocks', 'nearSymmetries', 'nearMinVotes', 'nearMinDetail', 'nearRegister', 'nearRescale', 'nearMinScore', 'nearMinDrop'],
  resampled: ['resampledTwins'],
  lanes: ['laneMatching'],
  periodic: ['periodicBreaks'],
  run: ['stageWorker'],
  verify: ['znccWindow', 'znccThreshold', 'mirrorMinGap', 'minVariance', 'minSupport', 'minDetail', 'minDetailDrop', 'grainyMinDrop', 'grainyMinAgreement', 'minRegionFraction', 'copyRim', 'suppressText', 'refineAffine'],
  events: ['events', 'minEventScore', 'minBlurredZncc', 'maxEvents', 'minForgedShare', 'maxEventShare', 'hugeEventMinPeak', 'minEventEntropy'],
});

/** Flat, nested (per group) or dotted parameters. */
export type ClassicalParamsInput = Partial<ClassicalParams> | Record<string, unknown>;

/** Nested groups and dotted names -> flat names, each checked against its group ("did you mean"). */
export function flattenParams(input: ClassicalParamsInput): Partial<ClassicalParams> {
  const flat: Record<string, unknown> = {};
  const put = (group: string, key: string, value: unknown) => {
    const keys = PARAM_GROUPS[group] as readonly string[];
    if (!keys.includes(key)) throw new ConfigError(`unknown classical parameter '${group}.${key}'; ${didYouMean(key, keys)}`);
    flat[key] = value;
  };
  for (const [key, value] of Object.entries(input)) {
    const dot = key.indexOf('.');
    if (dot > 0 && key.slice(0, dot) in PARAM_GROUPS) put(key.slice(0, dot), key.slice(dot + 1), value);
    // ('events' is a group and a flat parameter: an object is the group, a string the mode)
    else if (key in PARAM_GROUPS && typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) put(key, k, v);
    } else flat[key] = value;
  }
  return flat as Partial<ClassicalParams>;
}

/** Fills in defaults and rejects unknown names and out-of-range values; takes flat, nested or dotted names. */
export function resolveParams(input: ClassicalParamsInput = {}): ClassicalParams {
  const partial = flattenParams(input);
  const known = Object.keys(DEFAULT_PARAMS);
  if ('mergePairs' in partial) throw new ConfigError("classical parameter 'mergePairs' was replaced by 'events': 'transform' (one instance per copy-move event, the default) or 'regions' (source and copy apart)");
  for (const k of Object.keys(partial)) {
    if (!known.includes(k)) throw new ConfigError(`unknown classical parameter '${k}'; ${didYouMean(k, known)}`);
  }
  const p: ClassicalParams = { ...DEFAULT_PARAMS, ...partial };
  if (!KEYPOINT_DETECTORS.includes(p.detector)) {
    throw new ConfigError(`unknown detector '${p.detector}'; ${didYouMean(p.detector, KEYPOINT_DETECTORS)}`);
  }
  if (!CONTRAST_MODES.includes(p.contrast)) {
    throw new ConfigError(`unknown contrast mode '${p.contrast}'; ${didYouMean(p.contrast, CONTRAST_MODES)}`);
  }
  if (!EVENT_MODES.includes(p.events)) {
    throw new ConfigError(`unknown events mode '${String(p.events)}'; ${didYouMean(String(p.events), EVENT_MODES)}`);
  }
  if (!(p.minBlurredZncc >= 0 && p.minBlurredZncc <= 1)) throw new ConfigError(`minBlurredZncc must lie in [0, 1] (0: off), got ${p.minBlurredZncc}`);
  if (!(p.minEventScore >= 0 && p.minEventScore <= 1)) throw new ConfigError(`minEventScore must be in [0, 1], got ${p.minEventScore}`);
  if (!(Number.isInteger(p.maxEvents) && p.maxEvents >= 0)) throw new ConfigError(`maxEvents must be an integer >= 0 (0: no limit), got ${p.maxEvents}`);
  if (!(p.minForgedShare >= 0 && p.minForgedShare < 1)) throw new ConfigError(`minForgedShare must be in [0, 1), got ${p.minForgedShare}`);
  if (!(p.maxEventShare > 0 && p.maxEventShare <= 1)) throw new ConfigError(`maxEventShare must be in (0, 1], got ${p.maxEventShare}`);
  if (!(p.hugeEventMinPeak >= 0 && p.hugeEventMinPeak <= 2)) throw new ConfigError(`hugeEventMinPeak must lie in [0, 2] (a fall of a correlation; 0: off), got ${p.hugeEventMinPeak}`);
  if (!(p.minEventEntropy >= 0 && p.minEventEntropy <= 8)) throw new ConfigError(`minEventEntropy must be in [0, 8] bits, got ${p.minEventEntropy}`);
  if (p.clustering !== 'radius' && p.clustering !== 'hdbscan') {
    throw new ConfigError(`unknown clustering '${String(p.clustering)}'; ${didYouMean(String(p.clustering), ['radius', 'hdbscan'])}`);
  }
  if (p.ransacScore !== 'count' && p.ransacScore !== 'magsac') {
    throw new ConfigError(`unknown ransacScore '${String(p.ransacScore)}'; ${didYouMean(String(p.ransacScore), ['count', 'magsac'])}`);
  }
  if (p.model !== 'similarity' && p.model !== 'affine') {
    throw new ConfigError(`unknown model '${String(p.model)}'; ${didYouMean(String(p.model), ['similarity', 'affine'])}`);
  }
  const positive: Array<keyof ClassicalParams> = [
    'maxSide', 'minSide', 'claheClip', 'claheTiles', 'maxKeypoints', 'orbPatchSize', 'orbLevels', 'g2nnK', 'g2nnRatio', 'maxHamming', 'clusterRadius', 'siftContrast', 'maxDescDistance',
    'minInliers', 'ransacThreshold', 'ransacIters', 'minScale', 'maxScale', 'znccWindow',
    'blockQuant', 'blockMinVotes', 'blockMaxBucket', 'blockMaxTransforms', 'exactMinVotes', 'exactRegionMinVotes', 'nearMinVotes',
  ];
  for (const k of positive) {
    const v = p[k] as number;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new ConfigError(`classical parameter '${k}' must be a positive number, got ${String(v)}`);
    }
  }
  if (!(Number.isInteger(p.denseMaxPixels) && p.denseMaxPixels >= 1024)) throw new ConfigError(`denseMaxPixels must be an integer >= 1024 (32x32), got ${p.denseMaxPixels}`);
  if (p.minSide > p.maxSide) throw new ConfigError(`minSide (${p.minSide}) must not exceed maxSide (${p.maxSide})`);
  if (p.minInliers < 3) throw new ConfigError(`minInliers must be at least 3 (an affine needs 3 points), got ${p.minInliers}`);
  if (p.g2nnK < 2) throw new ConfigError(`g2nnK must be at least 2, got ${p.g2nnK}`);
  if (p.minScale >= p.maxScale) throw new ConfigError(`minScale (${p.minScale}) must be below maxScale (${p.maxScale})`);
  if (p.znccThreshold <= -1 || p.znccThreshold >= 1) throw new ConfigError(`znccThreshold must lie in (-1, 1), got ${p.znccThreshold}`);
  if (!(p.exactRegionMinGrain >= 0 && p.exactRegionMinGrain <= 1)) throw new ConfigError(`exactRegionMinGrain must lie in [0, 1], got ${p.exactRegionMinGrain}`);
  if (!(p.exactRegionLowGrain >= 0 && p.exactRegionLowGrain <= 1)) throw new ConfigError(`exactRegionLowGrain must lie in [0, 1], got ${p.exactRegionLowGrain}`);
  if (!(p.exactRegionGrainPixels >= 0 && Number.isFinite(p.exactRegionGrainPixels))) throw new ConfigError(`exactRegionGrainPixels must be a count >= 0, got ${p.exactRegionGrainPixels}`);
  if (!(p.nearMinDetail >= -1 && p.nearMinDetail <= 1)) throw new ConfigError(`nearMinDetail must lie in [-1, 1], got ${p.nearMinDetail}`);
  if (!Number.isInteger(p.nearRegister) || p.nearRegister < 0 || p.nearRegister > 8) throw new ConfigError(`nearRegister must be an integer in [0, 8], got ${p.nearRegister}`);
  if (!(p.nearMinScore >= 0 && p.nearMinScore <= 1)) throw new ConfigError(`nearMinScore must lie in [0, 1] (a score; minEventScore or above: off), got ${p.nearMinScore}`);
  if (!(p.nearMinDrop >= 0 && p.nearMinDrop <= 2)) throw new ConfigError(`nearMinDrop must lie in [0, 2] (a fall of a correlation), got ${p.nearMinDrop}`);
  if (!(p.denseMinScore >= 0 && p.denseMinScore <= 1)) throw new ConfigError(`denseMinScore must lie in [0, 1] (a score; minEventScore or above: off), got ${p.denseMinScore}`);
  if (!(p.mirrorMinGap >= 0 && Number.isFinite(p.mirrorMinGap))) throw new ConfigError(`mirrorMinGap must be a distance >= 0 (working pixels; below minDistance: minDistance), got ${p.mirrorMinGap}`);
  if (!(p.keypointMinScore >= 0 && p.keypointMinScore <= 1)) throw new ConfigError(`keypointMinScore must lie in [0, 1] (an event score), got ${p.keypointMinScore}`);
  if (!(p.keypointMinDrop >= 0 && p.keypointMinDrop <= 2)) throw new ConfigError(`keypointMinDrop must lie in [0, 2] (a fall of a correlation), got ${p.keypointMinDrop}`);
  if (!(p.keypointSharpDrop >= 0 && p.keypointSharpDrop <= 2)) throw new ConfigError(`keypointSharpDrop must lie in [0, 2] (a fall of a correlation; 2: off), got ${p.keypointSharpDrop}`);
  if (!(p.denseMinDrop >= 0 && p.denseMinDrop <= 2)) throw new ConfigError(`denseMinDrop must lie in [0, 2] (a fall of a correlation), got ${p.denseMinDrop}`);
  if (!(p.minDetailDrop >= 0 && p.minDetailDrop <= 2)) throw new ConfigError(`minDetailDrop must lie in [0, 2] (a fall of a correlation; 0: off), got ${p.minDetailDrop}`);
  if (!(p.grainyMinDrop >= 0 && p.grainyMinDrop <= 2)) throw new ConfigError(`grainyMinDrop must lie in [0, 2] (a fall of a correlation; 0: off), got ${p.grainyMinDrop}`);
  if (!(p.grainyMinAgreement >= -1 && p.grainyMinAgreement <= 1)) throw new ConfigError(`grainyMinAgreement must lie in [-1, 1], got ${p.grainyMinAgreement}`);
  if (p.znccWindow % 2 !== 1) throw new ConfigError(`znccWindow must be odd, got ${p.znccWindow}`);
  return p;
}
