import { ConfigError, didYouMean } from '../errors';
import { Rng } from '../util/random';
import { decodeProbability } from '../infer/decode';
import { TARGET_KINDS, type Model, type ModelConfig, type ModelSpec } from './types';

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

/** Defaults merged with `overrides`; unknown keys are rejected so typos do not pass silently. */
export function resolveModelConfig(name: string, overrides: ModelConfig = {}): ModelConfig {
  const spec = getModelSpec(name);
  const known = Object.keys(spec.defaults);
  for (const key of Object.keys(overrides)) {
    if (!(key in spec.defaults)) {
      throw new ConfigError(`model '${name}' has no option '${key}'; ${didYouMean(key, known)}`);
    }
  }
  return { ...spec.defaults, ...overrides };
}

/** Build a registered model; its initial weights come from `rng` (seed 0 when omitted). */
export function buildModel(name: string, config: ModelConfig = {}, rng: Rng = new Rng(0)): Model {
  return getModelSpec(name).build(resolveModelConfig(name, config), rng);
}

export interface ModelListing {
  name: string;
  description: string;
  defaults: ModelConfig;
}

export function listModels(): ModelListing[] {
  return [...registry].map(([name, s]) => ({ name, description: s.description, defaults: { ...s.defaults } }));
}
