import * as tf from '@tensorflow/tfjs';
import { ConfigError, TrainingError, didYouMean } from '../errors';

/**
 * Optimizers over named parameters (Map name -> Variable), written out rather than taken from
 * tf.train because tfjs has no AdamW and its optimizers' state is keyed by process-local
 * variable names. Update rules follow PyTorch's, so the seeds' hyper-parameters carry over.
 * The state (step count + per-parameter slots) serialises to plain arrays for checkpoints.
 */
export type OptimizerSpec =
  | { kind: 'adamw'; weightDecay?: number; beta1?: number; beta2?: number; eps?: number }
  | { kind: 'adam'; weightDecay?: number; beta1?: number; beta2?: number; eps?: number }
  | { kind: 'sgd'; momentum?: number; weightDecay?: number; nesterov?: boolean };

export const OPTIMIZER_KINDS = ['adamw', 'adam', 'sgd'] as const;

/** One slot tensor (e.g. Adam's first moment of one parameter) as plain data. */
export interface SlotData {
  shape: number[];
  values: Float32Array;
}

export interface OptimizerState {
  spec: OptimizerSpec;
  /** Number of updates applied so far (Adam's bias correction needs it). */
  t: number;
  /** slots[paramName][slotName] */
  slots: Record<string, Record<string, SlotData>>;
}

export interface Optimizer {
  readonly spec: OptimizerSpec;
  /** Learning rate of the next update; the trainer sets it from the schedule. */
  lr: number;
  readonly t: number;
  /** One update of every parameter that has a gradient. Does not dispose `grads`. */
  apply(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>): void;
  getState(): OptimizerState;
  setState(state: OptimizerState): void;
  dispose(): void;
}

export function createOptimizer(spec: OptimizerSpec, lr: number): Optimizer {
  if (!(lr >= 0) || !Number.isFinite(lr)) throw new ConfigError(`learning rate must be a finite number >= 0, got ${lr}`);
  switch (spec.kind) {
    case 'adamw':
      return new AdamOptimizer(spec, lr, true);
    case 'adam':
      return new AdamOptimizer(spec, lr, false);
    case 'sgd':
      return new SgdOptimizer(spec, lr);
    default: {
      const kind = String((spec as { kind?: unknown }).kind);
      throw new ConfigError(`unknown optimizer '${kind}'; ${didYouMean(kind, OPTIMIZER_KINDS)}`);
    }
  }
}

abstract class SlottedOptimizer implements Optimizer {
  t = 0;
  protected slots = new Map<string, Map<string, tf.Tensor>>();

  constructor(
    readonly spec: OptimizerSpec,
    public lr: number,
  ) {}

  protected abstract slotNames(): string[];
  /** Returns the new parameter value and new slots; runs inside tf.tidy. */
  protected abstract update(p: tf.Tensor, g: tf.Tensor, slots: Record<string, tf.Tensor>): { p: tf.Tensor; slots: Record<string, tf.Tensor> };

  apply(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>): void {
    this.t += 1;
    for (const [name, variable] of params) {
      const g = grads.get(name);
      if (!g) continue;
      const old = this.slotsFor(name, variable.shape);
      const next: Record<string, tf.Tensor> = tf.tidy(() => {
        const r = this.update(variable, g, Object.fromEntries(old));
        return { ...r.slots, p: r.p };
      });
      variable.assign(next.p);
      next.p.dispose();
      for (const s of this.slotNames()) {
        old.get(s)?.dispose();
        old.set(s, next[s]);
      }
    }
  }

  private slotsFor(name: string, shape: number[]): Map<string, tf.Tensor> {
    let s = this.slots.get(name);
    if (!s) {
      s = new Map(this.slotNames().map((n) => [n, tf.zeros(shape)]));
      this.slots.set(name, s);
    }
    return s;
  }

  getState(): OptimizerState {
    const slots: OptimizerState['slots'] = {};
    for (const [name, m] of this.slots) {
      slots[name] = {};
      for (const [slot, tensor] of m) slots[name][slot] = { shape: tensor.shape.slice(), values: tensor.dataSync() as Float32Array };
    }
    return { spec: { ...this.spec }, t: this.t, slots };
  }

  setState(state: OptimizerState): void {
    if (state.spec.kind !== this.spec.kind) {
      throw new TrainingError(`optimizer state is for '${state.spec.kind}', this optimizer is '${this.spec.kind}'`);
    }
    this.disposeSlots();
    this.t = state.t;
    for (const [name, m] of Object.entries(state.slots)) {
      const map = new Map<string, tf.Tensor>();
      for (const [slot, d] of Object.entries(m)) map.set(slot, tf.tensor(d.values, d.shape, 'float32'));
      this.slots.set(name, map);
    }
  }

  dispose(): void {
    this.disposeSlots();
  }

  private disposeSlots(): void {
    for (const m of this.slots.values()) for (const t of m.values()) t.dispose();
    this.slots.clear();
  }
}

/**
 * Adam and AdamW. `decoupled` (AdamW, Loshchilov & Hutter): p <- p (1 - lr wd) before the Adam
 * step; otherwise (Adam with L2, PyTorch's Adam weight_decay): g <- g + wd p.
 */
class AdamOptimizer extends SlottedOptimizer {
  private readonly wd: number;
  private readonly b1: number;
  private readonly b2: number;
  private readonly eps: number;

  constructor(
    spec: Extract<OptimizerSpec, { kind: 'adam' | 'adamw' }>,
    lr: number,
    private readonly decoupled: boolean,
  ) {
    // PyTorch defaults: AdamW wd 0.01, Adam wd 0.
    const full = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: decoupled ? 0.01 : 0, ...spec };
    super(full, lr);
    this.wd = full.weightDecay;
    this.b1 = full.beta1;
    this.b2 = full.beta2;
    this.eps = full.eps;
    checkRange('beta1', this.b1, 0, 1);
    checkRange('beta2', this.b2, 0, 1);
    checkRange('weightDecay', this.wd, 0, Infinity);
  }

  protected slotNames(): string[] {
    return ['m', 'v'];
  }

  protected update(p: tf.Tensor, g0: tf.Tensor, s: Record<string, tf.Tensor>): { p: tf.Tensor; slots: Record<string, tf.Tensor> } {
    const { lr, wd, b1, b2, eps, t } = { lr: this.lr, wd: this.wd, b1: this.b1, b2: this.b2, eps: this.eps, t: this.t };
    let g = g0;
    let base = p;
    if (wd !== 0 && this.decoupled) base = p.mul(1 - lr * wd);
    if (wd !== 0 && !this.decoupled) g = g.add(p.mul(wd));
    const m = s.m.mul(b1).add(g.mul(1 - b1));
    const v = s.v.mul(b2).add(g.square().mul(1 - b2));
    const mHat = m.div(1 - Math.pow(b1, t));
    const vHat = v.div(1 - Math.pow(b2, t));
    const next = base.sub(mHat.div(vHat.sqrt().add(eps)).mul(lr));
    return { p: next, slots: { m, v } };
  }
}

/** SGD with momentum and L2 weight decay, PyTorch's rule (dampening 0): buf <- mu buf + g; p <- p - lr buf. */
class SgdOptimizer extends SlottedOptimizer {
  private readonly mu: number;
  private readonly wd: number;
  private readonly nesterov: boolean;

  constructor(spec: Extract<OptimizerSpec, { kind: 'sgd' }>, lr: number) {
    const full = { momentum: 0, weightDecay: 0, nesterov: false, ...spec };
    super(full, lr);
    this.mu = full.momentum;
    this.wd = full.weightDecay;
    this.nesterov = full.nesterov;
    checkRange('momentum', this.mu, 0, 1);
    checkRange('weightDecay', this.wd, 0, Infinity);
  }

  protected slotNames(): string[] {
    return this.mu > 0 ? ['momentum'] : [];
  }

  protected update(p: tf.Tensor, g0: tf.Tensor, s: Record<string, tf.Tensor>): { p: tf.Tensor; slots: Record<string, tf.Tensor> } {
    const g = this.wd !== 0 ? g0.add(p.mul(this.wd)) : g0;
    if (this.mu === 0) return { p: p.sub(g.mul(this.lr)), slots: {} };
    const buf = s.momentum.mul(this.mu).add(g);
    const step = this.nesterov ? g.add(buf.mul(this.mu)) : buf;
    return { p: p.sub(step.mul(this.lr)), slots: { momentum: buf } };
  }
}

function checkRange(name: string, v: number, lo: number, hi: number): void {
  if (!(v >= lo && v < hi) && !(hi === Infinity && v >= lo)) throw new ConfigError(`optimizer option '${name}' must be in [${lo}, ${hi}), got ${v}`);
}
