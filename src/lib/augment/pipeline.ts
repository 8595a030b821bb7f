import type { Rng } from '../util/random';
import { ConfigError } from '../errors';
import { normalizePair } from './normalize';
import { presetSpec, type PipelineSpec } from './presets';
import { buildCompose } from './registry';
import { resizePair } from './resize';
import { toSize, type FloatPair, type Pair, type Transform } from './transform';

/** A built pipeline: uint steps, then a resize to `size` if they did not end there, then normalize. */
export interface Pipeline {
  spec: PipelineSpec;
  size: [number, number];
  augment: Transform;
  run(pair: Pair, rng: Rng): Promise<FloatPair>;
}

/** Builds a pipeline from a preset name or a spec; `size` is the fixed output [height, width]. */
export function buildPipeline(spec: string | PipelineSpec, size: number | readonly [number, number]): Pipeline {
  const [h, w] = toSize(size, 'pipeline');
  const s = typeof spec === 'string' ? presetSpec(spec, [h, w]) : spec;
  if (!s || !Array.isArray(s.steps)) throw new ConfigError(`pipeline spec must have a 'steps' array, got ${JSON.stringify(s)}`);
  const augment = buildCompose(s.steps, s.name ?? 'pipeline');
  return {
    spec: s,
    size: [h, w],
    augment,
    async run(pair: Pair, rng: Rng): Promise<FloatPair> {
      let out = await augment.apply(pair, rng);
      if (out.image.height !== h || out.image.width !== w) out = resizePair(out, h, w, 'area');
      return normalizePair(out, s.normalize);
    },
  };
}
