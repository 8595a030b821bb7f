/** Evaluation home: validation of any predictor over a dataset or generated figures, and the trainer's validation metrics. */
export { validatePredictor } from './validate';
export type { ScoredImage, ValidateOptions, ValidationResult, ValidationRow } from './validate';
export { evaluateOnSynth } from './synth';
export type { SynthEvalOptions, SynthEvaluation, SynthImageResult, GroupRow, TransformRow, CopyResult } from './synth';
export { DEFAULT_METRICS, getMetric, listMetrics, registerMetric } from './metrics';
export type { ValidationMetric } from './metrics';
export { candidateParams, tuneDecoder } from './tune';
export type { TuneOptions, TuneResult, TuneTrial } from './tune';
export { calibrateEventScore, EVENT_SCORE_CANDIDATES } from './calibrate';
export type { CalibrateOptions } from './calibrate';
