/**
 * Classical copy-move detector: keypoints + g2NN self-matching + clustering + RANSAC +
 * dense ZNCC verification, behind the same Predictor interface as the learned models.
 */
export { detectWith } from './detect';
// detectCopyMove with `notes` on its result (why it is empty, a small image)
export { detectCopyMove, detectionNotes, SMALL_IMAGE_SIDE } from './notes';
export type { NotedDetection } from './notes';
export { detectors } from './detectors';
export type { DetectorResult } from './detectors';
export type { CopyMoveDetection, CopyCandidate, DetectionDebug } from './detect';
export { createClassicalPredictor, createExactTwinPredictor } from './predictor';
export { exactTwinMap } from './exactTwins';
export type { ExactTwinOptions } from './exactTwins';
export { DEFAULT_PARAMS, KEYPOINT_DETECTORS, resolveParams } from './params';
export type { ClassicalParams, KeypointDetector } from './params';
export { evaluateOnSynth } from './evaluate';
export type { SynthEvalOptions, SynthEvaluation, SynthImageResult, GroupRow, TransformRow, CopyResult } from './evaluate';
export { loadOpenCv } from './opencv';
