import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { createOptimizer, type OptimizerSpec } from '../src/lib/train/optimizers';
import { makeSchedule } from '../src/lib/train/schedules';
import { clipByGlobalNorm, globalNorm } from '../src/lib/train/clip';
import { diceLoss } from '../src/lib/losses/dice';
import { bceWithLogits, focalWithLogits } from '../src/lib/losses/bce';
import { weightedSum } from '../src/lib/losses/weighted';
import { ConfigError } from '../src/lib/errors';

const P0 = [1.0, -2.0, 0.5];
const GRADS = [
  [0.5, -1.0, 0.0],
  [0.25, 2.0, -0.5],
];

/** Run `steps` updates of one parameter with the fixed gradients above; returns the final values. */
function runOptimizer(spec: OptimizerSpec, lr: number, steps = GRADS.length): number[] {
  const start = tf.memory().numTensors;
  const p = variableOf(P0);
  const params = new Map([['p', p]]);
  const opt = createOptimizer(spec, lr);
  for (const g of GRADS.slice(0, steps)) {
    const grad = tf.tensor1d(g);
    opt.apply(params, new Map([['p', grad]]));
    grad.dispose();
  }
  const out = Array.from(p.dataSync());
  opt.dispose();
  p.dispose();
  assert.equal(tf.memory().numTensors, start, 'optimizer leaked tensors');
  return out;
}

function variableOf(values: number[]): tf.Variable {
  const init = tf.tensor1d(values);
  const v = tf.variable(init);
  init.dispose();
  return v;
}

function close(actual: number[], expected: number[], tol = 1e-5): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tol, `[${i}] ${a} vs ${expected[i]}`));
}

test.before(async () => {
  await tf.setBackend('cpu');
});

// Expected values: PyTorch's update rules written out in plain Python doubles (see the report).
test('AdamW applies decoupled weight decay (matches hand-computed PyTorch AdamW)', () => {
  const got = runOptimizer({ kind: 'adamw', weightDecay: 0.1 }, 0.1);
  close(got, [0.7878820404574624, -1.897810353462075, 0.5644636802524877]);
});

test('Adam with L2 decay differs from AdamW (matches hand-computed PyTorch Adam)', () => {
  const adam = runOptimizer({ kind: 'adam', weightDecay: 0.1 }, 0.1);
  close(adam, [0.8050097658613199, -1.9250178784643248, 0.46674138448269775]);
  const adamw = runOptimizer({ kind: 'adamw', weightDecay: 0.1 }, 0.1);
  assert.ok(Math.abs(adam[2] - adamw[2]) > 0.05, 'decoupled decay must change the update');
});

test('Adam first step moves each weight by about lr against the gradient sign', () => {
  const got = runOptimizer({ kind: 'adam', weightDecay: 0 }, 0.01, 1);
  close(got, [0.99, -1.99, 0.5]);
});

test('SGD with momentum, and with weight decay + Nesterov', () => {
  close(runOptimizer({ kind: 'sgd', momentum: 0.9 }, 0.1), [0.88, -2.01, 0.55]);
  close(runOptimizer({ kind: 'sgd', momentum: 0.9, weightDecay: 0.01, nesterov: true }, 0.1), [0.81257411, -2.10014822, 0.592696805]);
  close(runOptimizer({ kind: 'sgd' }, 0.1), [1 - 0.075, -2 - 0.1, 0.55]);
});

test('optimizer state round-trips: save after step 1, restore in a new optimizer, step 2 matches', () => {
  const start = tf.memory().numTensors;
  const spec: OptimizerSpec = { kind: 'adamw', weightDecay: 0.1 };
  const p = variableOf(P0);
  const params = new Map([['p', p]]);
  const a = createOptimizer(spec, 0.1);
  const g1 = tf.tensor1d(GRADS[0]);
  const g2 = tf.tensor1d(GRADS[1]);
  a.apply(params, new Map([['p', g1]]));
  const state = a.getState();
  assert.equal(state.t, 1);
  a.dispose();
  const b = createOptimizer(spec, 0.1);
  b.setState(state);
  b.apply(params, new Map([['p', g2]]));
  close(Array.from(p.dataSync()), [0.7878820404574624, -1.897810353462075, 0.5644636802524877]);
  assert.throws(() => createOptimizer({ kind: 'sgd' }, 0.1).setState(state), /optimizer state is for 'adamw'/);
  for (const t of [g1, g2, p]) t.dispose();
  b.dispose();
  assert.equal(tf.memory().numTensors, start);
});

test('unknown optimizer and bad hyper-parameters are rejected clearly', () => {
  assert.throws(() => createOptimizer({ kind: 'adamww' } as unknown as OptimizerSpec, 1e-3), /did you mean 'adamw'/);
  assert.throws(() => createOptimizer({ kind: 'adam', beta1: 1.5 }, 1e-3), ConfigError);
  assert.throws(() => createOptimizer({ kind: 'sgd' }, Number.NaN), /learning rate/);
});

test('cosine schedule matches its closed form', () => {
  const s = makeSchedule({ kind: 'cosine', tMax: 10, etaMin: 1e-6 }, 3e-5);
  assert.equal(s(0), 3e-5);
  assert.ok(Math.abs(s(5) - (3e-5 + 1e-6) / 2) < 1e-15);
  assert.ok(Math.abs(s(10) - 1e-6) < 1e-15);
  // t = 2.5: cos(pi/4) = sqrt(2)/2
  assert.ok(Math.abs(s(2.5) - (1e-6 + (3e-5 - 1e-6) * (1 + Math.SQRT1_2) / 2)) < 1e-15);
});

test('step schedule: StepLR(5, 0.1)', () => {
  const s = makeSchedule({ kind: 'step', stepSize: 5, gamma: 0.1 }, 1e-3);
  assert.deepEqual([0, 4, 5, 9, 10].map(s).map((v) => Number(v.toPrecision(6))), [1e-3, 1e-3, 1e-4, 1e-4, 1e-5]);
});

test('linear warmup then cosine composes', () => {
  const s = makeSchedule({ kind: 'warmup', steps: 4, startFactor: 0, then: { kind: 'cosine', tMax: 4 } }, 1.0);
  const got = [0, 1, 2, 3, 4, 6, 8].map(s);
  close(got, [0, 0.25, 0.5, 0.75, 1, 0.5, 0], 1e-12);
  assert.throws(() => makeSchedule({ kind: 'cosine', tMax: 0 }, 1), /tMax must be/);
  assert.throws(() => makeSchedule({ kind: 'cosin' } as never, 1), /did you mean 'cosine'/);
});

test('clip by global norm scales every gradient by maxNorm / norm', () => {
  const start = tf.memory().numTensors;
  const grads = new Map<string, tf.Tensor>([
    ['a', tf.tensor1d([3, 4])],
    ['b', tf.tensor1d([12])],
  ]);
  assert.ok(Math.abs(globalNorm(grads) - 13) < 1e-5);
  const clipped = clipByGlobalNorm(grads, 6.5);
  assert.ok(Math.abs(clipped.norm - 13) < 1e-5);
  close(Array.from(clipped.grads.get('a')!.dataSync()), [1.5, 2], 1e-5);
  close(Array.from(clipped.grads.get('b')!.dataSync()), [6], 1e-5);
  const untouched = clipByGlobalNorm(grads, 20);
  close(Array.from(untouched.grads.get('b')!.dataSync()), [12]);
  for (const m of [grads, clipped.grads, untouched.grads]) for (const g of m.values()) g.dispose();
  assert.equal(tf.memory().numTensors, start);
});

test('dice, BCE and focal losses match hand-worked values', () => {
  const start = tf.memory().numTensors;
  const p = tf.tensor4d([1, 0, 0.5, 0.5], [1, 2, 2, 1]);
  const t = tf.tensor4d([1, 0, 1, 0], [1, 2, 2, 1]);
  const dice = diceLoss(p, t, 1);
  // inter 1.5, sum p 2, sum t 2 -> 1 - (3 + 1) / (4 + 1)
  assert.ok(Math.abs(dice.dataSync()[0] - 0.2) < 1e-6);
  const logits = tf.tensor4d([0, 0, 2, -2], [1, 2, 2, 1]);
  const bce = bceWithLogits(logits, t);
  // per pixel: log2, log2, log(1+e^-2), log(1+e^-2)
  const expectedBce = (2 * Math.log(2) + 2 * Math.log1p(Math.exp(-2))) / 4;
  assert.ok(Math.abs(bce.dataSync()[0] - expectedBce) < 1e-6);
  const focal = focalWithLogits(logits, t, 0.25, 2);
  const pt2 = 1 / (1 + Math.exp(-2));
  const expectedFocal =
    (0.25 * 0.25 * Math.log(2) + 0.75 * 0.25 * Math.log(2) + 0.25 * (1 - pt2) ** 2 * -Math.log(pt2) + 0.75 * (1 - pt2) ** 2 * -Math.log(pt2)) / 4;
  assert.ok(Math.abs(focal.dataSync()[0] - expectedFocal) < 1e-6);
  const total = weightedSum({ dice: { weight: 2, value: dice }, bce: { weight: 0.5, value: bce } });
  assert.ok(Math.abs(total.dataSync()[0] - (0.4 + 0.5 * expectedBce)) < 1e-6);
  assert.throws(() => weightedSum({}), /no loss terms/);
  for (const x of [p, t, dice, logits, bce, focal, total]) x.dispose();
  assert.equal(tf.memory().numTensors, start);
});
