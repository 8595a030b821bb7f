/**
 * Importing this module registers every model family. Add one import line per model folder.
 */
import './unet-tiny';
import './segformer';

export { buildModel, getModelSpec, listModels, registerModel, resolveModelConfig } from './registry';
export type { Batch, ForwardInput, ForwardOutput, Model, ModelConfig, ModelSpec } from './types';
