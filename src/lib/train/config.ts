import { checkEvidenceKind, type EvidenceKind } from '../evidence/index';
import { ConfigError } from '../errors';
import { OPTIMIZER_KINDS, type OptimizerSpec } from './optimizers';
import { SCHEDULE_KINDS, type ScheduleSpec } from './schedules';

/** Everything the trainer needs besides the model and the data; saved in every checkpoint. */
export interface TrainConfig {
  epochs: number;
  batchSize: number;
  /** Square training size in pixels; the predictor resizes images to it. */
  size: number;
  /** Base learning rate (the schedule scales it). */
  lr: number;
  optimizer: OptimizerSpec;
  schedule: ScheduleSpec;
  /** What one schedule step is: an epoch (PyTorch's usual scheduler.step()) or an optimizer step. */
  scheduleUnit: 'epoch' | 'step';
  /** Clip gradients to this global L2 norm; null = no clipping. */
  clipNorm: number | null;
  seed: number;
  /** Augmentation preset of the loader (src/lib/augment/presets.ts); the predictor reuses its normalization. */
  augment: string;
  /**
   * Copy-move evidence appended to the RGB input as extra channels (evidence/index.ts); the model
   * needs `inChannels` = inputChannels(evidence), and the predictor recomputes it. Absent in older runs: 'none'.
   */
  evidence?: EvidenceKind;
  /**
   * Parameter-name prefixes kept fixed (`['encoder/']` = a SegFormer's MiT backbone): the trainer
   * neither differentiates nor updates them, and the optimizer keeps no state for them. Absent: none.
   */
  freeze?: string[];
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  epochs: 10,
  batchSize: 4,
  size: 256,
  lr: 1e-3,
  optimizer: { kind: 'adamw', weightDecay: 0.01 },
  schedule: { kind: 'constant' },
  scheduleUnit: 'epoch',
  clipNorm: null,
  seed: 0,
  augment: 'none',
  evidence: 'none',
};

/** Reject configs the trainer cannot run, naming the field. */
export function validateTrainConfig(c: TrainConfig): TrainConfig {
  const posInt = (name: keyof TrainConfig) => {
    const v = c[name] as unknown;
    if (!Number.isInteger(v) || (v as number) < 1) throw new ConfigError(`train config '${name}' must be an integer >= 1, got ${String(v)}`);
  };
  posInt('epochs');
  posInt('batchSize');
  posInt('size');
  if (!(c.lr >= 0) || !Number.isFinite(c.lr)) throw new ConfigError(`train config 'lr' must be a finite number >= 0, got ${c.lr}`);
  if (!OPTIMIZER_KINDS.includes(c.optimizer?.kind)) throw new ConfigError(`train config 'optimizer.kind' must be one of ${OPTIMIZER_KINDS.join(', ')}`);
  if (!SCHEDULE_KINDS.includes(c.schedule?.kind)) throw new ConfigError(`train config 'schedule.kind' must be one of ${SCHEDULE_KINDS.join(', ')}`);
  if (c.scheduleUnit !== 'epoch' && c.scheduleUnit !== 'step') throw new ConfigError(`train config 'scheduleUnit' must be 'epoch' or 'step'`);
  if (c.clipNorm !== null && !(c.clipNorm > 0)) throw new ConfigError(`train config 'clipNorm' must be > 0 or null, got ${c.clipNorm}`);
  if (typeof c.augment !== 'string' || c.augment.length === 0) throw new ConfigError(`train config 'augment' must be a preset name`);
  checkEvidenceKind(c.evidence, 'train config');
  if (c.freeze !== undefined && (!Array.isArray(c.freeze) || c.freeze.some((f) => typeof f !== 'string' || f.length === 0))) {
    throw new ConfigError(`train config 'freeze' must be a list of parameter-name prefixes, got ${JSON.stringify(c.freeze)}`);
  }
  if (!Number.isInteger(c.seed)) throw new ConfigError(`train config 'seed' must be an integer, got ${c.seed}`);
  return c;
}
