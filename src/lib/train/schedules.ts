import { ConfigError, didYouMean } from '../errors';

/**
 * Learning-rate schedules as plain JSON specs (so a checkpoint can rebuild them) and their
 * closed forms. `t` counts scheduler steps from 0: epochs by default (PyTorch's scheduler.step()
 * once per epoch), or optimizer steps when the trainer is told so.
 */
export type ScheduleSpec =
  | { kind: 'constant' }
  /** eta_min + (base - eta_min) (1 + cos(pi t / tMax)) / 2 — PyTorch's closed form, periodic past tMax. */
  | { kind: 'cosine'; tMax: number; etaMin?: number }
  /** base * (1 - min(t, tMax) / tMax)^power, power 0.9: DeepLab's "poly" (CaCL-Net's --lr-scheduler poly). */
  | { kind: 'poly'; tMax: number; power?: number }
  /** base * gamma^floor(t / stepSize). */
  | { kind: 'step'; stepSize: number; gamma?: number }
  /** Linear ramp from base*startFactor to base over `steps`, then `then` (restarted at t = 0). */
  | { kind: 'warmup'; steps: number; startFactor?: number; then?: ScheduleSpec };

export const SCHEDULE_KINDS = ['constant', 'cosine', 'poly', 'step', 'warmup'] as const;

export type Schedule = (t: number) => number;

export function makeSchedule(spec: ScheduleSpec, baseLr: number): Schedule {
  switch (spec.kind) {
    case 'constant':
      return () => baseLr;
    case 'cosine': {
      positive('cosine tMax', spec.tMax);
      const etaMin = spec.etaMin ?? 0;
      return (t) => etaMin + ((baseLr - etaMin) * (1 + Math.cos((Math.PI * t) / spec.tMax))) / 2;
    }
    case 'poly': {
      positive('poly tMax', spec.tMax);
      const power = spec.power ?? 0.9;
      positive('poly power', power);
      return (t) => baseLr * Math.pow(1 - Math.min(t, spec.tMax) / spec.tMax, power);
    }
    case 'step': {
      positive('step stepSize', spec.stepSize);
      const gamma = spec.gamma ?? 0.1;
      return (t) => baseLr * Math.pow(gamma, Math.floor(t / spec.stepSize));
    }
    case 'warmup': {
      if (!(Number.isInteger(spec.steps) && spec.steps >= 0)) throw new ConfigError(`warmup steps must be an integer >= 0, got ${spec.steps}`);
      const start = spec.startFactor ?? 0;
      if (!(start >= 0 && start <= 1)) throw new ConfigError(`warmup startFactor must be in [0, 1], got ${start}`);
      const after = makeSchedule(spec.then ?? { kind: 'constant' }, baseLr);
      // PyTorch LinearLR: factor goes start -> 1 linearly over `steps` scheduler steps.
      return (t) => (t < spec.steps ? baseLr * (start + ((1 - start) * t) / spec.steps) : after(t - spec.steps));
    }
    default: {
      const kind = String((spec as { kind?: unknown }).kind);
      throw new ConfigError(`unknown schedule '${kind}'; ${didYouMean(kind, SCHEDULE_KINDS)}`);
    }
  }
}

function positive(name: string, v: number): void {
  if (!(v > 0) || !Number.isFinite(v)) throw new ConfigError(`${name} must be a number > 0, got ${v}`);
}
