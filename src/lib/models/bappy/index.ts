import { decodeProbability } from '../../infer/decode';
import { registerModel } from '../registry';
import { BAPPY_CONVLSTM_DEFAULTS, BAPPY_PATCH_DEFAULTS, validateConvLstmConfig, validatePatchConfig } from './config';
import './metrics';
import { buildConvLstmModel, buildPatchModel } from './models';

/**
 * Registers System 3 of the reference set, Bappy et al. (ICCV 2017), in its two parts:
 * `bappy-patch` (the patch classifier) and `bappy-convlstm` (the ConvLSTM localiser). Both train on
 * the foreground mask (their patch labels are computed from it), predict a forged-pixel map, and
 * decode it through the common probability decoder (infer/decode.ts) to copy-move events.
 * Validation: patch accuracy and F1 (metrics.ts) and the pixel metrics.
 */
const METRICS = ['patchAcc', 'patchF1', 'dice', 'iou', 'of1'] as const;

registerModel('bappy-patch', {
  description: 'Bappy et al. patch classifier: 8x8 patches (32 px at 256), a small CNN with a 2-way softmax per patch, IoU >= 12.5% labels',
  defaults: { ...BAPPY_PATCH_DEFAULTS },
  targets: ['foreground'],
  decode: decodeProbability,
  metrics: METRICS,
  build: (config, rng) => buildPatchModel(validatePatchConfig(config), rng),
});

registerModel('bappy-convlstm', {
  description: 'Bappy et al. localiser: the 64 patches encoded and fed in sequence to a ConvLSTM, per-pixel forged probability (BCE + Dice + patch BCE)',
  defaults: { ...BAPPY_CONVLSTM_DEFAULTS },
  targets: ['foreground'],
  decode: decodeProbability,
  metrics: METRICS,
  build: (config, rng) => buildConvLstmModel(validateConvLstmConfig(config), rng),
});

export { BAPPY_CONVLSTM_DEFAULTS, BAPPY_PATCH_DEFAULTS } from './config';
export type { BappyConvLstmConfig, BappyPatchConfig } from './config';
export { makeConvLstmCell, runConvLstm } from './convlstm';
export type { ConvLstmCell, ConvLstmState } from './convlstm';
export { patchConfusion, patchConfusionOver } from './metrics';
export type { PatchConfusion } from './metrics';
export { fromPatches, PATCH_COUNT, PATCH_GRID, PATCH_IOU_THRESHOLD, patchLabels, patchLabelsTensor, sequenceOrder, toPatches } from './patches';
