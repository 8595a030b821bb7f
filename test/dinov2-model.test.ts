import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import type { Masks } from '../src/lib/data/types';
import { imageOF1 } from '../src/lib/metrics/of1';
import { buildModel, getModelSpec } from '../src/lib/models/index';
import type { DinoMetricModel } from '../src/lib/models/dinov2/index';
import { Dinov2, dinov2Config } from '../src/lib/models/backbones/vit-dinov2';
import { createOptimizer } from '../src/lib/train/optimizers';
import { Rng } from '../src/lib/util/random';
import { loadDinov2Weights } from '../src/lib/weights/maps/dinov2';
import { copyMoveFigures } from './fixtures/texture';

before(async () => {
  await initBackend();
});

/** A small ViT so the tests run in seconds on a CPU (the `tiny` variant narrowed). */
const SMALL = { variant: 'tiny', backbone: { hiddenSize: 48, layers: 2, heads: 2, imageSize: 112 } };

test('dinov2-metric: unit-length embeddings on the token grid, trainable backbone without weights, no leaks', () => {
  const model = buildModel('dinov2-metric', SMALL, new Rng(0)) as DinoMetricModel;
  assert.equal(model.frozen, false);
  assert.ok([...model.params.keys()].some((k) => k.startsWith('backbone/')));
  assert.ok(model.params.has('head/fc3/w'));
  assert.deepEqual(model.params.get('head/fc1/w')!.shape, [48, 64]);
  assert.deepEqual(model.params.get('head/fc3/w')!.shape, [64, 32]);
  const images = tf.randomNormal([2, 56, 84, 3]) as tf.Tensor4D;
  const start = tf.memory().numTensors;
  const out = model.forward({ images }, { training: false });
  assert.deepEqual(out.embeddings!.shape, [2, 4, 6, 32]);
  const norms = tf.tidy(() => out.embeddings!.square().sum(-1).sqrt().dataSync());
  for (const v of norms) assert.ok(Math.abs(v - 1) < 1e-4);
  tf.dispose(out.embeddings!);
  assert.equal(tf.memory().numTensors, start);
  assert.throws(() => model.forward({ images: tf.zeros([1, 50, 56, 3]) as tf.Tensor4D }, { training: false }), /multiples of 14/);
  images.dispose();
  model.dispose();
});

test('dinov2-metric: with weights the backbone is loaded and frozen (only the head trains); options are checked', () => {
  const fixture = path.join(__dirname, 'fixtures', 'weights', 'dinov2-tiny.safetensors');
  const backbone = { hiddenSize: 32, layers: 2, heads: 2, imageSize: 56 };
  const model = buildModel('dinov2-metric', { variant: 'tiny', backbone, backboneWeights: fixture }, new Rng(0)) as DinoMetricModel;
  assert.equal(model.frozen, true);
  assert.ok([...model.params.keys()].every((k) => k.startsWith('head/')));
  assert.ok([...model.backbone.store.variables.values()].every((v) => !v.trainable));
  const ref = Dinov2.create(dinov2Config('tiny', backbone), new Rng(5));
  loadDinov2Weights(ref, fixture);
  const images = tf.randomNormal([1, 42, 42, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const diff = tf.tidy(() => {
    const a = model.backbone.forward(images).patchTokens;
    const b = ref.forward(images).patchTokens;
    return a.sub(b).abs().max().dataSync()[0];
  });
  assert.equal(diff, 0);
  // a loss step touches only the head
  const events: Masks[] = [{ data: new Uint8Array(42 * 42).fill(1, 0, 42 * 14), count: 1, height: 42, width: 42 }];
  const { grads, value } = tf.variableGrads(() => model.forward({ images, instances: events }, { training: true }).loss!, [...model.params.values()]);
  assert.ok(Number.isFinite(value.dataSync()[0]));
  assert.ok(Object.keys(grads).length === model.params.size);
  tf.dispose([value, ...Object.values(grads), images]);
  ref.dispose();
  model.dispose();
  assert.throws(() => buildModel('dinov2-metric', { variant: 'l14' }), /unknown variant 'l14'/);
  assert.throws(() => buildModel('dinov2-metric', { maxTokens: 1 }), /maxTokens/);
  assert.throws(() => buildModel('dinov2-metric', { backboneWeights: fixture, inChannels: 5 }), /take RGB/);
  const evidence = buildModel('dinov2-metric', { ...SMALL, inChannels: 5 }, new Rng(0));
  assert.deepEqual(evidence.params.get('backbone/embeddings/patch_embeddings/projection/w')!.shape, [14, 14, 5, 48]);
  evidence.dispose();
  assert.throws(() => buildModel('dinov2-metric', { temprature: 1 }), /did you mean 'temperature'/);
  assert.equal(getModelSpec('dinov2-metric').targets[0], 'instances');
});

/** Textured images each with one copy-move event (a block and its copy in one channel) at `size` px. */
function forgedFigures(rng: Rng, size: number, count: number): { images: Float32Array; events: Masks[] } {
  const { images, masks } = copyMoveFigures(rng, size, count, { side: Math.round(size * 0.4) });
  return { images, events: masks };
}

test('overfit: trained end to end on a few forged figures, the cascade recovers their events (mean oF1 >= 0.8), no leak across steps', () => {
  const size = 112;
  const count = 3;
  const figs = forgedFigures(new Rng(2), size, count);
  const images = tf.tensor4d(figs.images, [count, size, size, 3]);
  const model = buildModel('dinov2-metric', SMALL, new Rng(0)) as DinoMetricModel;
  const decode = getModelSpec('dinov2-metric').decode;
  const opt = createOptimizer({ kind: 'adamw', weightDecay: 0.01 }, 1e-3);
  const vars = [...model.params.values()];
  const step = () => {
    const { value, grads } = tf.variableGrads(() => model.forward({ images, instances: figs.events }, { training: true }).loss!, vars);
    const byName = new Map<string, tf.Tensor>([...model.params].map(([name, v]) => [name, grads[v.name]]));
    opt.apply(model.params, byName);
    const loss = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads)]);
    return loss;
  };
  const of1 = () => {
    const scores: number[] = [];
    for (let i = 0; i < count; i++) {
      const one = images.slice([i, 0, 0, 0], [1, size, size, 3]) as tf.Tensor4D;
      const out = model.forward({ images: one }, { training: false });
      const pred = decode(out, { height: size, width: size, restore: (m) => m, threshold: 0.5, minArea: 10 });
      tf.dispose([one, out.embeddings!]);
      scores.push(imageOF1(pred.instances, figs.events[i]));
    }
    return scores.reduce((a, b) => a + b, 0) / count;
  };
  const first = step(); // creates the optimizer's slots
  const counts: number[] = [];
  let best = 0;
  let steps = 1;
  let last = first;
  const t0 = Date.now();
  for (; steps < 150 && best < 0.8; steps++) {
    last = step();
    counts.push(tf.memory().numTensors);
    if (steps % 10 === 0) best = Math.max(best, of1());
  }
  console.log(JSON.stringify({ overfit: 'dinov2-metric', steps, firstLoss: first, lastLoss: last, oF1: best, terms: model.lastTerms, seconds: (Date.now() - t0) / 1000 }));
  assert.ok(best >= 0.8, `oF1 ${best.toFixed(3)} after ${steps} steps (loss ${first.toFixed(3)} -> ${last.toFixed(3)})`);
  assert.ok(last < first);
  assert.equal(new Set(counts).size, 1, `tensor count changed across steps: ${[...new Set(counts)]}`);
  opt.dispose();
  model.dispose();
  images.dispose();
});
