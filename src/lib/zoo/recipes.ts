/**
 * Each model family's training recipe as its notebook runs it (03-07), at the notebook's defaults or
 * its SIFD_QUICK=1 sizes, as one small preset that the notebooks and `sifd compare` both read, so the
 * zoo trains a family the way its own notebook does. Every notebook feeds the copy-move evidence
 * channels (twins-blocks) and calibrates its run's event threshold on a tuning set afterwards
 * (eval/calibrate.ts, into predict.json); compare does the same when given a tuning set.
 */
import { ConfigError, didYouMean } from '../errors';
import { inputChannels } from '../evidence/index';
import type { ModelConfig } from '../models/types';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../train/config';
import type { ScheduleSpec } from '../train/schedules';

export interface FamilyRecipe {
  model: string;
  /** The notebook whose recipe this is (null: none trains it; `sifd train`'s defaults). */
  notebook: string | null;
  modelConfig: ModelConfig;
  /** The training config; with `schedule`, its schedule is `schedule(epochs x batches per epoch)` once the loader is known. */
  train: TrainConfig;
  /** A schedule spanning the whole run in optimizer steps, given the run's total steps. */
  schedule?: (totalSteps: number) => ScheduleSpec;
  /** Training images the notebook draws (its synthetic set's size). */
  trainImages: number;
  /** About how long the recipe trains on this project's 2-core machine (README, notebook notes; quick recipes about a minute); scales budgets. */
  minutes: number;
}

type Size = { quick: boolean };

const seedA = { augment: 'seed-a', seed: 1 } as const;
/** The evidence every notebook recipe feeds (RGB + exact twins + block matches). */
const EVIDENCE = 'twins-blocks';
const IN_CHANNELS = inputChannels(EVIDENCE);
const cosineOverRun = (steps: number): ScheduleSpec => ({ kind: 'cosine', tMax: steps, etaMin: 1e-5 });

const RECIPES: Record<string, (s: Size) => FamilyRecipe> = {
  // notebooks/03_train_segformer: CONFIG and the training cell.
  'segformer-cmfd': ({ quick }) => {
    const epochs = quick ? 1 : 10;
    return {
      model: 'segformer-cmfd',
      notebook: '03_train_segformer',
      modelConfig: { variant: 'tiny', decoderDim: 64, queries: 5, correlationStage: 2, correlationWindow: 3, correlationStats: true, auxForegroundWeight: 1, inChannels: IN_CHANNELS },
      train: { ...DEFAULT_TRAIN_CONFIG, ...seedA, epochs, batchSize: 4, size: quick ? 64 : 128, lr: 2e-3, optimizer: { kind: 'adamw', weightDecay: 0.01 }, scheduleUnit: 'step', clipNorm: 1, evidence: EVIDENCE },
      schedule: cosineOverRun,
      trainImages: quick ? 24 : 400,
      minutes: quick ? 1 : 10,
    };
  },
  // notebooks/04_train_maskrcnn: the seed's architecture at half width with narrower heads, 64 sampled RoIs and
  // anchors per image, contour targets (sized for a CPU from scratch); quick runs a quarter-width network.
  'maskrcnn-mnv3s': ({ quick }) => {
    const size = quick ? 64 : 256;
    const heads = quick ? { widthMult: 0.25, channels: 32, representation: 64, maskLayers: [16, 16, 16, 16] } : { widthMult: 0.5, channels: 128, representation: 256, maskLayers: [64, 64, 64, 64] };
    return {
      model: 'maskrcnn-mnv3s',
      notebook: '04_train_maskrcnn',
      modelConfig: { minSize: size, maxSize: size, targets: 'contours', freezeBatchNorm: true, inChannels: IN_CHANNELS, boxBatchPerImage: 64, rpnBatchPerImage: 64, ...heads },
      train: { ...DEFAULT_TRAIN_CONFIG, ...seedA, epochs: quick ? 1 : 10, batchSize: 4, size, lr: 3e-3, optimizer: { kind: 'adamw', weightDecay: 1e-4 }, schedule: { kind: 'step', stepSize: 10, gamma: 0.1 }, scheduleUnit: 'epoch', evidence: EVIDENCE },
      trainImages: quick ? 16 : 400,
      minutes: quick ? 1 : 12,
    };
  },
  // notebooks/05_dinov2_metric (its tuned cascade lives in the run's decode.json, which every run predictor reads).
  'dinov2-metric': ({ quick }) => {
    const epochs = quick ? 1 : 12;
    return {
      model: 'dinov2-metric',
      notebook: '05_dinov2_metric',
      modelConfig: { variant: 'tiny', backboneWeights: null, maxTokens: 256, inChannels: IN_CHANNELS },
      train: { ...DEFAULT_TRAIN_CONFIG, ...seedA, epochs, batchSize: 4, size: quick ? 56 : 112, lr: 1e-3, optimizer: { kind: 'adamw', weightDecay: 0.01 }, scheduleUnit: 'step', clipNorm: 1, evidence: EVIDENCE },
      schedule: cosineOverRun,
      trainImages: quick ? 16 : 400,
      minutes: quick ? 1 : 5,
    };
  },
  // notebooks/06_bappy_convlstm: both models share one recipe.
  'bappy-patch': (s) => bappy('bappy-patch', s),
  'bappy-convlstm': (s) => bappy('bappy-convlstm', s),
  // notebooks/07_cacl_deeplab: a narrowed ResNet-50 layout, DeepLab's poly schedule.
  deeplabv3plus: ({ quick }) => {
    const epochs = quick ? 1 : 8;
    return {
      model: 'deeplabv3plus',
      notebook: '07_cacl_deeplab',
      modelConfig: { backbone: 'resnet50', outputStride: 16, widthDivisor: quick ? 16 : 8, depths: [1, 1, 1, 1], lossType: 'ce', contourWidth: 2, contourWeight: 1, contrastWeight: 0.1, inChannels: IN_CHANNELS },
      train: { ...DEFAULT_TRAIN_CONFIG, ...seedA, epochs, batchSize: 4, size: quick ? 64 : 128, lr: 2e-3, optimizer: { kind: 'adamw', weightDecay: 1e-4 }, scheduleUnit: 'step', clipNorm: 1, evidence: EVIDENCE },
      schedule: (steps) => ({ kind: 'poly', tMax: steps, power: 0.9 }),
      trainImages: quick ? 16 : 400,
      minutes: quick ? 1 : 4,
    };
  },
  // No notebook trains it: `sifd train --model unet-tiny`'s defaults, a fast baseline.
  'unet-tiny': ({ quick }) => ({
    model: 'unet-tiny',
    notebook: null,
    modelConfig: {},
    train: { ...DEFAULT_TRAIN_CONFIG, ...seedA, epochs: quick ? 1 : 10, size: quick ? 64 : 128 },
    trainImages: quick ? 16 : 200,
    minutes: quick ? 1 : 5,
  }),
};

function bappy(model: 'bappy-patch' | 'bappy-convlstm', { quick }: Size): FamilyRecipe {
  const epochs = quick ? 1 : 6;
  return {
    model,
    notebook: '06_bappy_convlstm',
    modelConfig: { inChannels: IN_CHANNELS },
    train: { ...DEFAULT_TRAIN_CONFIG, ...seedA, epochs, batchSize: 4, size: quick ? 64 : 256, lr: 2e-3, optimizer: { kind: 'adamw', weightDecay: 0.01 }, scheduleUnit: 'step', clipNorm: 1, evidence: EVIDENCE },
    schedule: cosineOverRun,
    trainImages: quick ? 24 : 240,
    minutes: quick ? 1 : 8,
  };
}

/** Models with a recipe. */
export function recipeModels(): string[] {
  return Object.keys(RECIPES);
}

export function hasRecipe(model: string): boolean {
  return model in RECIPES;
}

/** A family's recipe at its notebook's defaults, or at its SIFD_QUICK=1 sizes. */
export function familyRecipe(model: string, opts: { quick?: boolean } = {}): FamilyRecipe {
  const make = RECIPES[model];
  if (!make) throw new ConfigError(`no training recipe for model '${model}'; ${didYouMean(model, Object.keys(RECIPES))}`);
  return make({ quick: opts.quick ?? false });
}

/**
 * A recipe scaled to `minutes` of training: the work (epochs x images) shrinks by the budget's share
 * of the recipe's measured minutes, epochs first (at least 1), then images (at least 8). A budget at
 * or above the recipe's minutes keeps it whole. An estimate: the machine's load changes real times.
 */
export function scaleRecipe(recipe: FamilyRecipe, minutes: number): FamilyRecipe {
  if (!(minutes > 0)) throw new ConfigError(`a training budget must be > 0 minutes, got ${minutes}`);
  const share = minutes / recipe.minutes;
  if (share >= 1) return recipe;
  const epochs = Math.max(1, Math.floor(recipe.train.epochs * share));
  const trainImages = Math.max(8, Math.round((recipe.trainImages * recipe.train.epochs * share) / epochs));
  return { ...recipe, train: { ...recipe.train, epochs }, trainImages: Math.min(recipe.trainImages, trainImages), minutes };
}
