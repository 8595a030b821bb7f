/**
 * Importing this module registers every model family. Add one import line per model folder (its index file: tslab does not resolve folders).
 */
import './unet-tiny/index';
import './segformer/index';
import './deeplab/index';

export { buildModel, getModelSpec, hasModel, listModels, modelContract, registerModel, resolveModelConfig } from './registry';
export { TARGET_KINDS } from './types';
export type { Batch, Decode, DecodeContext, ForwardInput, ForwardOutput, InputRecipe, Model, ModelConfig, ModelSpec, PreparedInput, Preprocess, PreprocessFactory, TargetKind } from './types';
