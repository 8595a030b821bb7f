import { ConfigError, didYouMean } from '../errors';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from './config';

/**
 * The seed notebooks' training recipes, by name. `sifd train --preset NAME` starts from one;
 * explicit options override its fields.
 */
export const TRAIN_PRESETS: Record<string, { description: string; config: TrainConfig }> = {
  'adamw-cosine': {
    description: 'AdamW lr 3e-5 + cosine (T_max 10), batch 4, 256 px, 25 epochs (the SegFormer seed)',
    config: {
      ...DEFAULT_TRAIN_CONFIG,
      epochs: 25,
      batchSize: 4,
      size: 256,
      lr: 3e-5,
      optimizer: { kind: 'adamw', weightDecay: 0.01 },
      schedule: { kind: 'cosine', tMax: 10, etaMin: 0 },
      scheduleUnit: 'epoch',
    },
  },
  'adamw-step': {
    description: 'AdamW lr 1e-3 + StepLR(step 5, gamma 0.1), 10 epochs',
    config: {
      ...DEFAULT_TRAIN_CONFIG,
      epochs: 10,
      lr: 1e-3,
      optimizer: { kind: 'adamw', weightDecay: 0.01 },
      schedule: { kind: 'step', stepSize: 5, gamma: 0.1 },
      scheduleUnit: 'epoch',
    },
  },
};

export function trainPreset(name: string): TrainConfig {
  const p = TRAIN_PRESETS[name];
  if (!p) throw new ConfigError(`unknown training preset '${name}'; ${didYouMean(name, Object.keys(TRAIN_PRESETS))}`);
  return JSON.parse(JSON.stringify(p.config)) as TrainConfig;
}
