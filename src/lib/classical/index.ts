/**
 * Classical copy-move detector: keypoints + g2NN self-matching + clustering + RANSAC +
 * dense ZNCC verification, behind the same Predictor interface as the learned models.
 */
export { detectCopyMove, detectWith } from './detect';
export type { CopyMoveDetection, CopyCandidate, DetectionDebug } from './detect';
export { createClassicalPredictor, createExactTwinPredictor } from './predictor';
export { exactTwinMap } from './exactTwins';
export type { ExactTwinOptions } from './exactTwins';
export { DEFAULT_PARAMS, KEYPOINT_DETECTORS, PARAM_GROUPS, flattenParams, resolveParams } from './params';
export type { ClassicalParams, ClassicalParamsInput, KeypointDetector } from './params';
export { EVENT_MODES, gateEvents } from './events';
export type { EventGate, EventMode } from './events';
export { loadOpenCv } from './opencv';
