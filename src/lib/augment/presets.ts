import { ConfigError, didYouMean } from '../errors';
import type { NormalizeMode } from './normalize';
import type { StepSpec } from './registry';

/**
 * An augmentation pipeline as JSON: geometric/photometric steps on uint pixels, then the one
 * normalize step to Float32. `size` is the fixed output size; the pipeline runner resizes (area)
 * to it when the steps end at another size.
 */
export interface PipelineSpec {
  name?: string;
  steps: StepSpec[];
  normalize: NormalizeMode;
}

/**
 * The seeds' recipes.
 * - 'seed-a': resize to the target size, flips, rot90, light blur, brightness/contrast, ImageNet normalize.
 * - 'seed-b': resize, then blur, JPEG re-encode, noise and rotation (the heaviest).
 * - 'none': resize and normalize only (validation / inference).
 */
export function presetSpec(name: string, size: number | readonly [number, number] = 256): PipelineSpec {
  const fit: StepSpec = { op: 'resize', size: size as number | [number, number], interpolation: 'area' };
  switch (name) {
    case 'seed-a':
      return {
        name,
        steps: [
          fit,
          { op: 'hflip', p: 0.5 },
          { op: 'vflip', p: 0.5 },
          { op: 'rot90', p: 0.5 },
          { op: 'gaussianBlur', p: 0.2, sigma: [0.3, 1.2] },
          { op: 'brightnessContrast', p: 0.5, brightness: 0.2, contrast: 0.2 },
        ],
        normalize: 'imagenet',
      };
    case 'seed-b':
      return {
        name,
        steps: [
          fit,
          { op: 'gaussianBlur', p: 0.3, sigma: [0.3, 1.5] },
          { op: 'jpeg', p: 0.5, quality: [50, 95] },
          { op: 'gaussianNoise', p: 0.3, std: [0.005, 0.03] },
          { op: 'rotate', p: 0.5, degrees: [-30, 30], border: 'reflect' },
        ],
        normalize: 'imagenet',
      };
    case 'none':
      return { name, steps: [fit], normalize: 'imagenet' };
    default:
      throw new ConfigError(`unknown augmentation preset '${name}': ${didYouMean(name, PRESET_NAMES)}`);
  }
}

export const PRESET_NAMES: readonly string[] = ['seed-a', 'seed-b', 'none'];

/** The heaviest preset per sample (JPEG round trip + rotation); the loader benchmark uses it. */
export const HEAVIEST_PRESET = 'seed-b';
