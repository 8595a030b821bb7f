/**
 * Classical copy-move detector: keypoints + g2NN self-matching + clustering + RANSAC +
 * dense ZNCC verification, behind the same Predictor interface as the learned models.
 */
// detectCopyMove's result carries `notes`: the working size, what was verified, why it is empty, the gate
export { detectCopyMove, detectWith, SMALL_IMAGE_SIDE } from './detect';
export { detectors } from './detectors';
export type { DetectorResult } from './detectors';
export type { CopyMoveDetection, CopyCandidate, DetectionDebug } from './detect';
export { createClassicalPredictor, createExactTwinPredictor } from './predictor';
export { exactTwinMap } from './exactTwins';
export type { ExactTwinOptions } from './exactTwins';
export { DEFAULT_PARAMS, KEYPOINT_DETECTORS, PARAM_GROUPS, flattenParams, resolveParams } from './params';
export type { ClassicalParams, ClassicalParamsInput, KeypointDetector } from './params';
export { EVENT_MODES, gateEvents } from './events';
export type { EventGate, EventMode } from './events';
export { loadOpenCv } from './opencv';
export { hammingKernelUnavailable, prepareHammingKernel } from './hammingKernel';
export { prepareStageWorker, stageWorkerUnavailable, stopStageWorker } from './stageWorker';
export { detectSift, mirrorDescriptors, SIFT_DEFAULTS } from './sift';
export type { SiftKeypoints, SiftParams } from './sift';
