import { ConfigError, didYouMean } from '../errors';
import { Rng } from '../util/random';
import { decodeProbability } from '../infer/decode';
import { loadStateDict } from '../weights/load';
import { TARGET_KINDS, type Model, type ModelConfig, type ModelSpec, type WeightsImportReport } from './types';

/**
 * The model registry: every model family registers itself by name when its module is imported
 * (src/lib/models/index.ts imports them all). An unknown name fails with "did you mean ...?".
 */
const registry = new Map<string, ModelSpec>();

export function registerModel(name: string, spec: ModelSpec): void {
  if (registry.has(name)) throw new ConfigError(`model '${name}' is registered twice`);
  for (const t of spec.targets) {
    if (!TARGET_KINDS.includes(t)) throw new ConfigError(`model '${name}' asks for an unknown target '${t}'; ${didYouMean(t, TARGET_KINDS)}`);
  }
  registry.set(name, spec);
}

export function getModelSpec(name: string): ModelSpec {
  const spec = registry.get(name);
  if (!spec) throw new ConfigError(`unknown model '${name}'; ${didYouMean(name, [...registry.keys()])}`);
  return spec;
}

/** Whether `name` is registered. */
export function hasModel(name: string): boolean {
  return registry.has(name);
}

/**
 * The contract of a model by name: its registered spec, or, for a Model built outside the registry
 * (tests, notebooks), a foreground-probability contract given the foreground, instances and boxes a batch has.
 */
export function modelContract(name: string): Pick<ModelSpec, 'targets' | 'decode' | 'metrics' | 'preprocess'> {
  return registry.get(name) ?? { targets: ['foreground', 'instances', 'boxes'], decode: decodeProbability };
}

/**
 * The config option naming a reference weights file (`{ weights: 'mit-b0/model.safetensors' }`):
 * buildModel imports it after building; it is not part of the model's own config (checkpoints
 * hold the weights themselves).
 */
export const WEIGHTS_OPTION = 'weights';

/** Names of the models that can import reference weights. */
export function modelsWithWeights(): string[] {
  return [...registry].filter(([, s]) => s.importWeights).map(([n]) => n);
}

/** Defaults merged with `overrides`; unknown keys are rejected so typos do not pass silently. */
export function resolveModelConfig(name: string, overrides: ModelConfig = {}): ModelConfig {
  const spec = getModelSpec(name);
  const known = Object.keys(spec.defaults);
  for (const key of Object.keys(overrides)) {
    if (key === WEIGHTS_OPTION) {
      if (!spec.importWeights) throw new ConfigError(`model '${name}' cannot import reference weights; models that can: ${modelsWithWeights().join(', ') || 'none'}`);
      continue;
    }
    if (!(key in spec.defaults)) {
      throw new ConfigError(`model '${name}' has no option '${key}'; ${didYouMean(key, known)}`);
    }
  }
  return { ...spec.defaults, ...overrides };
}

/**
 * Build a registered model; its initial weights come from `rng` (seed 0 when omitted), then from
 * the reference file `config.weights` when given (the file's implied options, such as a MiT
 * variant, fill in what `config` leaves out).
 */
export function buildModel(name: string, config: ModelConfig = {}, rng: Rng = new Rng(0)): Model {
  return buildModelWithWeights(name, config, rng).model;
}

/** buildModel, also returning what the import of `config.weights` did (undefined without one). */
export function buildModelWithWeights(name: string, config: ModelConfig = {}, rng: Rng = new Rng(0)): { model: Model; weights?: WeightsImportReport } {
  const spec = getModelSpec(name);
  const { [WEIGHTS_OPTION]: file, ...rest } = resolveModelConfig(name, config);
  if (file === undefined) return { model: spec.build(rest, rng) };
  if (typeof file !== 'string' || !file) throw new ConfigError(`model option '${WEIGHTS_OPTION}' must be a file path, got ${JSON.stringify(file)}`);
  const dict = loadStateDict(file);
  const implied = spec.configForWeights?.(dict) ?? {};
  const model = spec.build({ ...rest, ...implied, ...withoutWeights(config) }, rng);
  try {
    return { model, weights: spec.importWeights!(model, dict) };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

function withoutWeights(config: ModelConfig): ModelConfig {
  const { [WEIGHTS_OPTION]: _file, ...rest } = config;
  return rest;
}

export interface ModelListing {
  name: string;
  description: string;
  defaults: ModelConfig;
}

export function listModels(): ModelListing[] {
  return [...registry].map(([name, s]) => ({ name, description: s.description, defaults: { ...s.defaults } }));
}
