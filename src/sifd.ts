/**
 * The notebook prelude: one import brings sifd's public API under short names.
 *
 *   import { synth, scan, eda, overlay, detectors, display } from './src/sifd';
 *
 *   await synth({ out: 'out/demo', n: 40, seed: 1 });       // a synthetic Kaggle-layout dataset
 *   const ds = await scan('out/demo');                      // samples + problems
 *   display.table(eda(ds).slice(0, 10));                    // one row per image
 *   display.png(await overlay(ds.samples.find((s) => s.label === 'forged')!), { caption: 'masks' });
 *   const found = await detectors.classical(image);         // instances, scores, notes
 *
 * Everything here is re-exported from src/lib and src/viz (import from those files directly for
 * anything else; a folder import needs its '/index' file: './src/lib/data/synth/index').
 */
export * as display from './viz/display';

// data: make, find, read
export { generateDataset as synth, generateImage as synthImage } from './lib/data/synth/index';
export { scan, resolveDataRoot } from './lib/data/scan';
export { edaRows as eda, edaFrame, describeEda, labelCounts, problemCounts, topImageSizes } from './lib/data/eda';
export { readImage, imageInfo, writePng } from './lib/data/image-io';
export { readMasks } from './lib/data/npy';
export type { Image, Masks, Sample, Problem } from './lib/data/types';

// pictures
export { overlaySample as overlay, overlayMasks, sampleGrid as grid } from './viz/overlay';

// detectors: the classical one and the exact-twin floor; detectCopyMove gives the debug detail too
export { detectCopyMove, createClassicalPredictor, createExactTwinPredictor, DEFAULT_PARAMS } from './lib/classical/index';
export { detectors } from './lib/classical/detectors';
export type { DetectorResult } from './lib/classical/detectors';

// models, training, prediction, scoring
export { initBackend } from './lib/backend/index';
export { listModels, buildModel } from './lib/models/index';
export { trainOnDataset as train } from './lib/train/dataset_run';
export { loadPredictorFromRun as loadRun } from './lib/train/predictor';
export { predictImages as predict } from './lib/infer/predict';
export { writeSubmission, readSubmission } from './lib/infer/submission';
export { Rng } from './lib/util/random';
