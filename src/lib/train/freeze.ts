import { ConfigError } from '../errors';
import { getModelSpec, listModels } from '../models/index';

/**
 * What `--freeze` names -> parameter-name prefixes for TrainConfig.freeze: 'backbone' is the
 * model's registered backbone (ModelSpec.backbone, e.g. a SegFormer's 'encoder/'); anything else
 * is a comma-separated list of prefixes, taken as given (the trainer checks each matches).
 */
export function freezePrefixes(model: string, what: string): string[] {
  if (what === 'backbone') {
    const backbone = getModelSpec(model).backbone;
    if (!backbone?.length) {
      const have = listModels().filter((m) => getModelSpec(m.name).backbone?.length).map((m) => m.name);
      throw new ConfigError(`model '${model}' declares no backbone to freeze; models that do: ${have.join(', ') || 'none'}`);
    }
    return [...backbone];
  }
  const prefixes = what.split(',').map((s) => s.trim()).filter(Boolean);
  if (!prefixes.length) throw new ConfigError(`--freeze needs 'backbone' or parameter-name prefixes, got '${what}'`);
  return prefixes;
}
