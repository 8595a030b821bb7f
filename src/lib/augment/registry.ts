import { ConfigError, didYouMean } from '../errors';
import { rotate } from './affine';
import { gaussianBlur } from './blur';
import { brightnessContrast, gamma } from './color';
import { compose, oneOf, type Step } from './compose';
import { hflip, rot90, vflip } from './flip';
import { jpeg } from './jpeg';
import { gaussianNoise } from './noise';
import { randomResizedCrop, resize } from './resize';
import type { Transform } from './transform';

/**
 * Transforms described as plain JSON, so a pipeline can be sent to a loader worker (functions
 * cannot cross a thread) and written into a run's config. `{ op: 'rotate', p: 0.5, degrees: [-20, 20] }`
 * builds `rotate({ degrees: [-20, 20] })` applied with probability 0.5.
 */
export type StepSpec =
  | ({ op: string; p?: number } & Record<string, unknown>)
  | { oneOf: StepSpec[]; weights?: number[]; p?: number };

// Options are JSON; each factory validates its own and names the bad field.
const factories: Record<string, (opts: any) => Transform> = {
  hflip: () => hflip(),
  vflip: () => vflip(),
  rot90: (o) => rot90(o),
  rotate: (o) => rotate(o),
  resize: (o) => resize(o),
  randomResizedCrop: (o) => randomResizedCrop(o),
  gaussianBlur: (o) => gaussianBlur(o),
  brightnessContrast: (o) => brightnessContrast(o),
  gamma: (o) => gamma(o),
  gaussianNoise: (o) => gaussianNoise(o),
  jpeg: (o) => jpeg(o),
};

export const TRANSFORM_NAMES: readonly string[] = Object.keys(factories);

export function buildStep(spec: StepSpec): Step {
  const p = spec.p ?? 1;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new ConfigError(`transform ${JSON.stringify(spec)}: probability p must be in [0, 1], got ${String(p)}`);
  }
  if ('oneOf' in spec && Array.isArray(spec.oneOf)) {
    const choice = spec as { oneOf: StepSpec[]; weights?: number[] };
    const inner = choice.oneOf.map((s) => {
      const step = buildStep(s);
      return 'transform' in step ? compose([step], `p=${step.p}`) : step;
    });
    return { transform: oneOf(inner, choice.weights), p };
  }
  const { op, p: _p, ...opts } = spec as { op: string; p?: number } & Record<string, unknown>;
  const make = factories[op];
  if (typeof op !== 'string' || !make) {
    throw new ConfigError(`unknown transform '${String(op)}': ${didYouMean(String(op), TRANSFORM_NAMES)}`);
  }
  return { transform: make(opts), p };
}

export function buildCompose(specs: readonly StepSpec[], name = 'compose'): Transform {
  return compose(specs.map(buildStep), name);
}
