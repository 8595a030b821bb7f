import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import * as tf from '@tensorflow/tfjs';
import { buildModel, listModels } from '../src/lib/models';
import type { Batch, Model } from '../src/lib/models/types';
import { trainModel, type BatchSource } from '../src/lib/train/trainer';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../src/lib/train/config';
import { assignWeights, findLatestCheckpoint, loadCheckpoint } from '../src/lib/train/checkpoint';
import { ParamStore } from '../src/lib/models/params';
import { readHistory } from '../src/lib/train/history';
import { trainPreset } from '../src/lib/train/presets';
import { ConfigError, TrainingError } from '../src/lib/errors';
import { Rng } from '../src/lib/util/random';
import { initBackend } from '../src/lib/backend';

const SIZE = 16;
const CONFIG: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  epochs: 2,
  batchSize: 2,
  size: SIZE,
  lr: 5e-3,
  optimizer: { kind: 'adamw', weightDecay: 0.01 },
  schedule: { kind: 'step', stepSize: 1, gamma: 0.5 },
  clipNorm: 5,
  seed: 7,
};

/**
 * Tiny batches: noise images with a bright square whose pixels are the foreground mask. The
 * square's place comes from the epoch's Rng, so a resumed run sees the same data.
 * `poison` makes the given (epoch, batch) images NaN.
 */
function squares(batches = 3, poison?: { epoch: number; batch: number }): BatchSource {
  return function* ({ epoch, rng }) {
    for (let b = 1; b <= batches; b++) {
      const img = new Float32Array(2 * SIZE * SIZE * 3);
      const mask = new Float32Array(2 * SIZE * SIZE);
      for (let s = 0; s < 2; s++) {
        const x0 = rng.int(0, SIZE - 6);
        const y0 = rng.int(0, SIZE - 6);
        for (let y = 0; y < SIZE; y++) {
          for (let x = 0; x < SIZE; x++) {
            const inside = x >= x0 && x < x0 + 6 && y >= y0 && y < y0 + 6;
            const i = s * SIZE * SIZE + y * SIZE + x;
            mask[i] = inside ? 1 : 0;
            for (let c = 0; c < 3; c++) img[i * 3 + c] = inside ? 0.8 + 0.2 * rng.next() : 0.5 * rng.next();
          }
        }
      }
      if (poison && poison.epoch === epoch && poison.batch === b) img.fill(Number.NaN);
      const batch: Batch = { images: tf.tensor4d(img, [2, SIZE, SIZE, 3]), masks: tf.tensor4d(mask, [2, SIZE, SIZE, 1]) };
      yield batch;
    }
  };
}

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-train-'));

function tmpRun(name: string): string {
  return fs.mkdtempSync(path.join(tmpRoot, `${name}-`));
}

function newModel(seed = 3): Model {
  return buildModel('unet-tiny', {}, new Rng(seed));
}

function weightsOf(model: Model): number[][] {
  return [...model.params.values()].map((v) => Array.from(v.dataSync()));
}

// The best backend: native TensorFlow where it is built, else WASM with the project's training kernels (~50x faster
// than the cpu backend on the bench net). SIFD_BACKEND or SIFD_NATIVE=0 pick another.
test.before(async () => {
  await initBackend();
});

test.after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

test('registry lists unet-tiny and rejects unknown names and options with suggestions', () => {
  assert.ok(listModels().some((m) => m.name === 'unet-tiny' && m.description.length > 0));
  assert.throws(() => buildModel('unet-tiyn'), (e: Error) => e instanceof ConfigError && /did you mean 'unet-tiny'/.test(e.message));
  assert.throws(() => buildModel('unet-tiny', { diceWeigth: 1 }), /no option 'diceWeigth'; did you mean 'diceWeight'/);
  assert.throws(() => buildModel('unet-tiny', { bceWeight: -1 }), /'bceWeight' must be a finite number >= 0/);
  const start = tf.memory().numTensors;
  const m = buildModel('unet-tiny');
  m.dispose();
  assert.equal(tf.memory().numTensors, start, 'build + dispose leaked tensors');
});

test('presets hold the seeds\' recipes', () => {
  const a = trainPreset('adamw-cosine');
  assert.deepEqual([a.lr, a.batchSize, a.size, a.epochs, a.schedule], [3e-5, 4, 256, 25, { kind: 'cosine', tMax: 10, etaMin: 0 }]);
  const b = trainPreset('adamw-step');
  assert.deepEqual([b.lr, b.epochs, b.schedule], [1e-3, 10, { kind: 'step', stepSize: 5, gamma: 0.1 }]);
  assert.throws(() => trainPreset('adamw-cosin'), /did you mean 'adamw-cosine'/);
});

test('training lowers the loss, leaks no tensors across epochs, writes checkpoints and history', async () => {
  const runDir = tmpRun('basic');
  const model = newModel();
  const start = tf.memory().numTensors;
  const atEpochEnd: number[] = [];
  const lrs: number[] = [];
  const result = await trainModel({
    model,
    config: { ...CONFIG, epochs: 4 },
    train: squares(),
    val: squares(1),
    runDir,
    warn: () => {},
    callbacks: [{ onEpochEnd: (r) => (atEpochEnd.push(tf.memory().numTensors), lrs.push(r.lr)) }],
  });
  assert.equal(tf.memory().numTensors, start, 'tensors leaked by training');
  assert.equal(new Set(atEpochEnd).size, 1, `numTensors changed across epochs: ${atEpochEnd}`);
  assert.deepEqual(lrs, [5e-3, 2.5e-3, 1.25e-3, 6.25e-4]);
  const losses = result.history.map((r) => r.trainLoss);
  assert.ok(losses[3] < losses[0], `loss did not go down: ${losses}`);
  assert.equal(result.step, 12);
  assert.ok(result.history.every((r) => Number.isFinite(r.valLoss) && r.metrics && r.metrics.valDice >= 0 && r.metrics.valDice <= 1));
  assert.deepEqual(readHistory(path.join(runDir, 'history.jsonl')), result.history);
  const latest = findLatestCheckpoint(runDir)!;
  assert.equal(latest.meta.epoch, 4);
  assert.deepEqual([...latest.weights.values()].map((w) => Array.from(w.values)), weightsOf(model));
  model.dispose();
});

test('resume: 1 epoch + resume 1 epoch gives the same losses and weights as 2 epochs straight', async () => {
  const straightDir = tmpRun('straight');
  const a = newModel();
  const straight = await trainModel({ model: a, config: CONFIG, train: squares(), runDir: straightDir, warn: () => {} });

  const splitDir = tmpRun('split');
  const b = newModel();
  await trainModel({ model: b, config: { ...CONFIG, epochs: 1 }, train: squares(), runDir: splitDir, warn: () => {} });
  b.dispose();
  // A fresh model with other initial weights: everything must come from the checkpoint.
  const c = newModel(99);
  const resumed = await trainModel({ model: c, config: CONFIG, train: squares(), runDir: splitDir, resume: true, warn: () => {} });
  assert.equal(resumed.resumedFrom, path.join(splitDir, 'epoch_1'));
  assert.equal(resumed.history.length, 2);
  assert.deepEqual(resumed.history.map((r) => [r.trainLoss, r.lr, r.step]), straight.history.map((r) => [r.trainLoss, r.lr, r.step]));
  assert.deepEqual(weightsOf(c), weightsOf(a));
  assert.deepEqual(readHistory(path.join(splitDir, 'history.jsonl')).map((r) => r.trainLoss), straight.history.map((r) => r.trainLoss));
  // Resuming a finished run trains nothing more.
  const again = await trainModel({ model: c, config: CONFIG, train: squares(), runDir: splitDir, resume: true, warn: () => {} });
  assert.equal(again.step, straight.step);
  a.dispose();
  c.dispose();
  // A checkpoint of another model config is refused, not silently loaded.
  const wide = buildModel('unet-tiny', { diceWeight: 0.5 }, new Rng(1));
  await assert.rejects(trainModel({ model: wide, config: CONFIG, train: squares(), runDir: splitDir, resume: true, warn: () => {} }), /differs from/);
  wide.dispose();
});

test('a NaN loss stops training with a TrainingError and the last good checkpoint stays loadable', async () => {
  const runDir = tmpRun('nan');
  const model = newModel();
  const start = tf.memory().numTensors;
  await assert.rejects(
    trainModel({ model, config: { ...CONFIG, epochs: 3 }, train: squares(3, { epoch: 2, batch: 1 }), runDir, warn: () => {} }),
    (e: Error) => e instanceof TrainingError && /loss is NaN at epoch 2, batch 1 \(step 4\)/.test(e.message) && e.message.includes('epoch_1'),
  );
  assert.equal(tf.memory().numTensors, start, 'tensors leaked on the NaN path');
  assert.ok(!fs.existsSync(path.join(runDir, 'epoch_2')));
  const ckpt = loadCheckpoint(path.join(runDir, 'epoch_1'));
  assert.equal(ckpt.meta.epoch, 1);
  // The poisoned batch was the first of epoch 2, so no bad update reached the weights.
  assert.deepEqual([...ckpt.weights.values()].map((w) => Array.from(w.values)), weightsOf(model));
  assert.ok([...ckpt.weights.values()].every((w) => w.values.every(Number.isFinite)));
  model.dispose();
});

test('corrupt or incomplete checkpoints are skipped with a warning', async () => {
  const runDir = tmpRun('corrupt');
  const model = newModel();
  await trainModel({ model, config: { ...CONFIG, epochs: 3 }, train: squares(1), runDir, warn: () => {} });
  model.dispose();
  const w3 = path.join(runDir, 'epoch_3', 'weights.bin');
  fs.truncateSync(w3, fs.statSync(w3).size - 4);
  const o2 = path.join(runDir, 'epoch_2', 'optimizer.bin');
  const bytes = fs.readFileSync(o2);
  bytes[5] ^= 0xff;
  fs.writeFileSync(o2, bytes);
  fs.mkdirSync(path.join(runDir, 'epoch_4'));
  const warnings: string[] = [];
  const latest = findLatestCheckpoint(runDir, (m) => warnings.push(m));
  assert.equal(latest?.meta.epoch, 1);
  assert.equal(warnings.length, 3);
  assert.match(warnings[0], /epoch_4.*no checkpoint.json/);
  assert.match(warnings[1], /weights\.bin: has \d+ bytes, expected \d+/);
  assert.match(warnings[2], /optimizer\.bin: content hash does not match/);
});

test('killing the process during a checkpoint save leaves the previous checkpoint loadable', async () => {
  const runDir = tmpRun('kill');
  const model = newModel();
  await trainModel({ model, config: { ...CONFIG, epochs: 1 }, train: squares(1), runDir, warn: () => {} });
  model.dispose();
  // The child writes epoch_2 and SIGKILLs itself after every file is written, before the rename.
  const root = path.resolve(__dirname, '..');
  const script = path.join(runDir, 'child.ts');
  fs.writeFileSync(
    script,
    `import * as tf from '@tensorflow/tfjs';
import { buildModel } from ${JSON.stringify(path.join(root, 'src/lib/models'))};
import { loadCheckpoint, saveCheckpoint, assignWeights } from ${JSON.stringify(path.join(root, 'src/lib/train/checkpoint'))};
import { Rng } from ${JSON.stringify(path.join(root, 'src/lib/util/random'))};
(async () => {
  await tf.setBackend('cpu');
  const ck = loadCheckpoint(process.argv[2] + '/epoch_1');
  const model = buildModel('unet-tiny', ck.meta.model.config, new Rng(0));
  assignWeights(model, ck.weights, ck.dir);
  await saveCheckpoint(process.argv[2], { model, optimizer: ck.optimizer, train: ck.meta.train, epoch: 2, step: 9, rng: ck.meta.rng, history: ck.meta.history },
    { beforeRename: () => { process.kill(process.pid, 'SIGKILL'); } });
  console.log('unreachable');
})();
`,
  );
  const child = spawnSync(process.execPath, ['--import', 'tsx', script, runDir], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NODE_PATH: path.join(root, 'node_modules') },
  });
  assert.equal(child.signal, 'SIGKILL', `child did not die as planned: ${child.stderr}`);
  assert.ok(!child.stdout.includes('unreachable'));
  const entries = fs.readdirSync(runDir);
  assert.ok(!entries.includes('epoch_2'), 'a half-written checkpoint took the final name');
  assert.ok(entries.some((e) => e.startsWith('.epoch_2.tmp')), `expected the temp folder left by the kill: ${entries}`);
  const latest = findLatestCheckpoint(runDir, () => {});
  assert.equal(latest?.meta.epoch, 1);
  const resumedModel = newModel(5);
  const result = await trainModel({ model: resumedModel, config: CONFIG, train: squares(1), runDir, resume: true, warn: () => {} });
  assert.equal(result.resumedFrom, path.join(runDir, 'epoch_1'));
  assert.equal(result.history.length, 2);
  resumedModel.dispose();
});

test('any Model works: loader-style tensor instances reach forward as Masks and are disposed; an Inf loss stops the run', async () => {
  const init = tf.scalar(0);
  const w = tf.variable(init);
  init.dispose();
  const seen: string[] = [];
  let calls = 0;
  const model: Model = {
    name: 'probe',
    config: {},
    params: new Map([['w', w]]),
    forward(input) {
      calls += 1;
      seen.push((input.instances ?? []).map((m) => `${m.count}x${m.height}x${m.width}:${m.data instanceof Uint8Array}:${m.data.reduce((a, b) => a + b, 0)}`).join(','));
      return tf.tidy(() => {
        const pred = input.images.mean(3, true).mul(w) as tf.Tensor4D; // [B,H,W,1]
        const loss = pred.sub(input.masks!).square().mean().mul(calls === 4 ? Infinity : 1) as tf.Scalar;
        return { loss, masks: pred };
      });
    },
    dispose() {
      w.dispose();
    },
  };
  const source: BatchSource = () =>
    [1, 2].map(() => {
      const instances = [{ masks: tf.tensor3d([1, 0, 0, 1, 0, 0, 0, 0], [2, 2, 2]), boxes: tf.tensor2d([0, 0, 1, 1, 1, 1, 2, 2], [2, 4]) }];
      return { images: tf.ones([1, 2, 2, 3]) as tf.Tensor4D, masks: tf.tensor4d([1, 0, 0, 1], [1, 2, 2, 1]), instances };
    });
  const start = tf.memory().numTensors;
  const result = await trainModel({ model, config: { ...CONFIG, epochs: 1, optimizer: { kind: 'sgd' }, schedule: { kind: 'constant' }, lr: 0.1, clipNorm: null }, train: source });
  assert.deepEqual(seen, ['2x2x2:true:2', '2x2x2:true:2']);
  // loss(w) = mean((w - t)^2) over t = [1,0,0,1], grad = 2w - 1. SGD lr 0.1 from w = 0:
  // step 1 loss 0.5, w -> 0.1; step 2 loss (0.81 + 0.01 + 0.01 + 0.81) / 4 = 0.41, w -> 0.18.
  assert.ok(Math.abs(w.dataSync()[0] - 0.18) < 1e-6);
  assert.ok(Math.abs(result.history[0].trainLoss - (0.5 + 0.41) / 2) < 1e-6);
  assert.equal(tf.memory().numTensors, start, 'batch instance tensors leaked');
  await assert.rejects(
    trainModel({ model, config: { ...CONFIG, epochs: 1, clipNorm: null }, train: source }),
    (e: Error) => e instanceof TrainingError && /loss is Infinity at epoch 1, batch 2 \(step 2\)/.test(e.message) && /Last good checkpoint: none/.test(e.message),
  );
  assert.equal(tf.memory().numTensors, start, 'tensors leaked on the Inf path');
  model.dispose();
});

/** Data-parallel replicas are wasm's (the native backend ignores dataParallel): runs `f` on wasm, then switches back. */
async function onWasm(f: () => Promise<void>): Promise<void> {
  const prev = tf.getBackend();
  await initBackend({ prefer: 'wasm' });
  try {
    await f();
  } finally {
    await tf.setBackend(prev);
  }
}

test('data-parallel training (2 replicas) gives the losses and weights of single-thread training, leaks nothing', () => onWasm(async () => {
  const { shardSizes } = await import('../src/lib/train/data-parallel');
  assert.deepEqual(shardSizes(5, 2), [3, 2]);
  assert.deepEqual(shardSizes(1, 3), [1]);
  const before = tf.memory().numTensors;
  const single = newModel(11);
  const parallel = newModel(11);
  const start = tf.memory().numTensors;
  const a = await trainModel({ model: single, config: CONFIG, train: squares(), warn: () => {} });
  const b = await trainModel({ model: parallel, config: CONFIG, train: squares(), warn: () => {}, dataParallel: 2 });
  assert.equal(tf.memory().numTensors, start, 'tensors leaked by data-parallel training');
  a.history.forEach((r, i) => {
    const rel = Math.abs(r.trainLoss - b.history[i].trainLoss) / Math.abs(r.trainLoss);
    assert.ok(rel <= 1e-4, `epoch ${i + 1}: loss ${r.trainLoss} vs ${b.history[i].trainLoss}`);
  });
  const wa = weightsOf(single).flat();
  const wb = weightsOf(parallel).flat();
  const diff = Math.max(...wa.map((v, i) => Math.abs(v - wb[i])));
  assert.ok(diff <= 1e-4, `weights differ by ${diff}`);
  single.dispose();
  parallel.dispose();
  // A NaN in a worker's shard stops the run like any NaN loss.
  const poisoned = newModel(11);
  await assert.rejects(
    trainModel({ model: poisoned, config: CONFIG, train: squares(3, { epoch: 1, batch: 2 }), warn: () => {}, dataParallel: 2 }),
    (e: Error) => e instanceof TrainingError && /loss is NaN at epoch 1, batch 2/.test(e.message),
  );
  poisoned.dispose();
  assert.equal(tf.memory().numTensors, before);
}));

test('gradient replicas: worker shards give the full-batch gradient, and a replica holds only its weights step after step', () => onWasm(async () => {
  const { GradientReplicas } = await import('../src/lib/train/data-parallel');
  const model = newModel(5);
  const names = [...model.params.keys()];
  const variables = names.map((n) => model.params.get(n)!);
  const before = tf.memory().numTensors;
  const replicas = await GradientReplicas.start(model, 2, tf.getBackend());
  try {
    const source = squares(3) as (ctx: { epoch: number; rng: Rng }) => Iterable<Batch>;
    for (const batch of source({ epoch: 1, rng: new Rng(1) })) {
      const input = { images: batch.images, masks: batch.masks };
      const { loss, grads } = await replicas.gradients(model, names, variables, input);
      const full = tf.variableGrads(() => model.forward(input, { training: true }).loss!, variables);
      assert.ok(Math.abs(loss - full.value.dataSync()[0]) <= 1e-5 * Math.abs(loss), `loss ${loss} vs ${full.value.dataSync()[0]}`);
      names.forEach((n, i) => {
        const a = grads.get(n)!.dataSync();
        const b = full.grads[variables[i].name].dataSync();
        const scale = Math.max(1e-6, ...Array.from(b, Math.abs));
        for (let e = 0; e < a.length; e++) assert.ok(Math.abs(a[e] - b[e]) <= 1e-4 * scale, `${n}[${e}]: ${a[e]} vs ${b[e]}`);
      });
      tf.dispose([full.value, ...Object.values(full.grads), ...grads.values(), batch.images, batch.masks]);
      // The worker's model has as many tensors as ours has weights: nothing else survives a step there.
      assert.deepEqual(replicas.replicaTensors, [variables.length]);
    }
  } finally {
    await replicas.close();
  }
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
}));

test('buffers (running statistics) are saved with the weights, kept out of the optimizer, and reloaded', async () => {
  const start = tf.memory().numTensors;
  // A probe with one trainable scale and a running mean of the images it saw in training.
  const probe = (): Model => {
    const store = new ParamStore(new Rng(0));
    const w = store.constant('w', [], 0.5);
    store.buffer('running_mean', [], 0);
    return {
      name: 'probe-buffers',
      config: {},
      params: store.variables,
      buffers: store.buffers,
      forward(input, { training }) {
        const mean = store.buffers.get('running_mean')!;
        if (training) tf.tidy(() => mean.assign(mean.mul(0.9).add(input.images.mean().mul(0.1))));
        return tf.tidy(() => {
          const pred = input.images.mean(3, true).mul(w).sub(mean) as tf.Tensor4D;
          return { loss: pred.sub(input.masks!).square().mean() as tf.Scalar, masks: pred };
        });
      },
      dispose() {
        store.dispose();
      },
    };
  };
  const runDir = tmpRun('buffers');
  const model = probe();
  await trainModel({ model, config: { ...CONFIG, epochs: 1 }, train: squares(2), runDir, warn: () => {} });
  const trained = model.buffers!.get('running_mean')!.dataSync()[0];
  assert.ok(trained !== 0, 'training did not move the running mean');
  const ckpt = loadCheckpoint(path.join(runDir, 'epoch_1'));
  assert.ok(ckpt.weights.has('running_mean'), 'the checkpoint lacks the buffer');
  assert.ok(!Object.keys(ckpt.optimizer.slots).includes('running_mean'), 'the optimizer holds state for a buffer');
  const reloaded = probe();
  assignWeights(reloaded, ckpt.weights, ckpt.dir);
  assert.equal(reloaded.buffers!.get('running_mean')!.dataSync()[0], trained);
  model.dispose();
  reloaded.dispose();
  assert.equal(tf.memory().numTensors, start);
});
