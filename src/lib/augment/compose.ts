import type { Rng } from '../util/random';
import { ConfigError } from '../errors';
import type { Pair, Transform } from './transform';

/** A transform applied with probability p (default 1). */
export type Step = Transform | { transform: Transform; p: number };

function unpack(step: Step, where: string): { transform: Transform; p: number } {
  const s = 'transform' in step ? step : { transform: step, p: 1 };
  if (!(s.p >= 0 && s.p <= 1)) throw new ConfigError(`${where}: probability must be in [0, 1], got ${s.p}`);
  return s;
}

/**
 * Runs the steps in order, each with its own probability. Step i draws from its own child stream
 * `rng.fork(i)`, so whether an earlier step fired never shifts the randomness of a later one.
 */
export function compose(steps: readonly Step[], name = 'compose'): Transform {
  const list = steps.map((s, i) => unpack(s, `${name}[${i}]`));
  const size = [...list].reverse().find((s) => s.transform.size && s.p === 1)?.transform.size;
  return {
    name,
    kind: 'compose',
    size,
    async apply(x: Pair, rng: Rng): Promise<Pair> {
      let out = x;
      for (let i = 0; i < list.length; i++) {
        const r = rng.fork(i);
        const { transform, p } = list[i];
        if (p < 1 && !r.bool(p)) continue;
        out = await transform.apply(out, r);
      }
      return out;
    },
  };
}

/** Applies exactly one of the transforms, chosen by weight (uniform by default). */
export function oneOf(transforms: readonly Transform[], weights?: readonly number[]): Transform {
  if (transforms.length === 0) throw new ConfigError('oneOf: needs at least one transform');
  const w = weights ?? transforms.map(() => 1);
  if (w.length !== transforms.length || w.some((v) => !(v >= 0)) || w.reduce((a, b) => a + b, 0) <= 0) {
    throw new ConfigError(`oneOf: expected ${transforms.length} non-negative weights with a positive sum, got ${JSON.stringify(w)}`);
  }
  const total = w.reduce((a, b) => a + b, 0);
  const sizes = new Set(transforms.map((t) => (t.size ? t.size.join('x') : '')));
  return {
    name: `oneOf(${transforms.map((t) => t.name).join(',')})`,
    kind: 'compose',
    size: sizes.size === 1 ? transforms[0].size : undefined,
    apply(x: Pair, rng: Rng) {
      let u = rng.uniform(0, total);
      let i = 0;
      while (i < transforms.length - 1 && u >= w[i]) u -= w[i++];
      return transforms[i].apply(x, rng.fork(i));
    },
  };
}
