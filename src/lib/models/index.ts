/**
 * Importing this module registers every model family. Add one import line per model folder (its index file: tslab does not resolve folders).
 */
import './unet-tiny/index';
import './segformer/index';
import './dinov2/index';
import './maskrcnn/index';
import './bappy/index';
import './deeplab/index';

export { buildModel, buildModelWithWeights, getModelSpec, hasModel, listModels, modelContract, modelsWithWeights, registerModel, resolveModelConfig, WEIGHTS_OPTION } from './registry';
export { TARGET_KINDS } from './types';
export type { Batch, Decode, DecodeContext, ForwardInput, ForwardOutput, InputRecipe, Model, ModelConfig, ModelSpec, PreparedInput, Preprocess, PreprocessFactory, TargetKind, WeightsImportReport } from './types';
