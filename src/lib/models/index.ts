/**
 * Importing this module registers every model family. Add one import line per model folder (its index file: tslab does not resolve folders).
 */
import './unet-tiny/index';
import './segformer/index';

export { buildModel, getModelSpec, listModels, registerModel, resolveModelConfig } from './registry';
export type { Batch, ForwardInput, ForwardOutput, Model, ModelConfig, ModelSpec } from './types';
