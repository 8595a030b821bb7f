import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import { WeightsError } from '../src/lib/errors';
import { ParamStore } from '../src/lib/models/params';
import { Dinov2, dinov2Config } from '../src/lib/models/backbones/vit-dinov2';
import { MobileNetV3, type MobileNetV3Config } from '../src/lib/models/backbones/mobilenetv3';
import { ResNet, resnetConfig, type ResNetConfig } from '../src/lib/models/backbones/resnet';
import { convPadded } from '../src/lib/models/backbones/layers';
import { bicubicMatrix } from '../src/lib/models/backbones/bicubic';
import { applyDinov2Weights, loadDinov2Weights } from '../src/lib/weights/maps/dinov2';
import type { StoredTensor } from '../src/lib/weights/stateDict';
import { loadMobileNetV3Weights } from '../src/lib/weights/maps/mobilenetv3';
import { loadResNetWeights } from '../src/lib/weights/maps/resnet';
import { readSafetensors } from '../src/lib/weights/safetensors';
import { Rng } from '../src/lib/util/random';

// Fixtures made by test/fixtures/weights/make_backbones.py (HF transformers 5.18 / torchvision 0.14).
const FIX = path.join(__dirname, 'fixtures', 'weights');
const fixture = (name: string) => path.join(FIX, name);
const TOL = 1e-4;

/** The backends to check: cpu, and the fastest one sifd picks here (tensorflow where built, else wasm). */
const backends: string[] = ['cpu'];

const fastest = () => backends[backends.length - 1];

before(async () => {
  const best = (await initBackend()).backend;
  if (best !== 'cpu') backends.push(best);
});

/** The largest difference seen per backend and family, printed at the end (the report's numbers). */
const worst = new Map<string, number>();

after(async () => {
  for (const [label, d] of worst) console.log(`max |diff| ${label}: ${d.toExponential(2)}`);
  await initBackend();
});

/** A reference tensor from an `.io.safetensors` file, NCHW -> NHWC when it is 4-D. */
function reference(io: string, key: string): tf.Tensor {
  const t = readSafetensors(fixture(io)).tensors.get(key);
  assert.ok(t, `${io} has no '${key}'`);
  const x = tf.tensor(t.data, t.shape);
  if (t.shape.length !== 4) return x;
  const y = x.transpose([0, 2, 3, 1]);
  x.dispose();
  return y;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]);
}

/** Runs `check` on each backend, asserting the tensor count returns to its start. */
async function onEachBackend(check: (backend: string) => void): Promise<void> {
  for (const backend of backends) {
    await tf.setBackend(backend);
    const start = tf.memory().numTensors;
    check(backend);
    assert.equal(tf.memory().numTensors, start, `${backend}: tensors leaked`);
  }
}

/** Compares `outputs[i]` with the reference `keys[i]` of `io`, disposing both. */
function expectClose(label: string, io: string, keys: string[], outputs: tf.Tensor[]): void {
  keys.forEach((key, i) => {
    const ref = reference(io, key);
    const d = maxAbsDiff(outputs[i], ref);
    ref.dispose();
    const family = label.split(' ').slice(0, 2).join(' ');
    worst.set(family, Math.max(worst.get(family) ?? 0, d));
    assert.ok(d <= TOL, `${label} ${key}: max |diff| ${d} > ${TOL}`);
  });
  tf.dispose(outputs);
}

test('bicubicMatrix is the identity at scale 1 and its rows sum to 1 (clamped taps add up)', () => {
  const id = bicubicMatrix(5, 5);
  for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) assert.ok(Math.abs(id[i * 5 + j] - (i === j ? 1 : 0)) < 1e-7);
  for (const [n, m] of [[4, 7], [7, 3], [37, 33]]) {
    const w = bicubicMatrix(n, m);
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += w[i * n + j];
      assert.ok(Math.abs(s - 1) < 1e-6, `${n}->${m} row ${i} sums to ${s}`);
    }
  }
});

const DINO_TINY = dinov2Config('tiny', { hiddenSize: 32, layers: 2, heads: 2, imageSize: 56 });

test('DINOv2 (HF Dinov2Model, legacy key names) matches every hidden state, interpolated and native grids', async () => {
  await onEachBackend((backend) => {
    const rng = new Rng(0);
    const model = Dinov2.create(DINO_TINY, rng);
    const report = loadDinov2Weights(model, fixture('dinov2-tiny.safetensors'));
    assert.equal(report.assigned, model.store.variables.size);
    assert.deepEqual(report.unexpected, []);
    for (const io of ['dinov2-tiny.io.safetensors', 'dinov2-tiny.native.io.safetensors']) {
      const x = reference(io, 'input') as tf.Tensor4D;
      const out = model.forward(x, { hiddenStates: true });
      const states = out.hiddenStates!;
      const [b, h, w] = out.patchTokens.shape;
      assert.equal(out.lastHiddenState.shape[1], 1 + h * w);
      assert.equal(out.cls.shape[0], b);
      const patchRef = tf.tidy(() => {
        const last = reference(io, 'last_hidden_state');
        return last.slice([0, 1, 0], [b, h * w, -1]).reshape([b, h, w, -1]);
      });
      const dPatch = maxAbsDiff(out.patchTokens, patchRef);
      patchRef.dispose();
      assert.ok(dPatch <= TOL, `${backend} ${io} patch tokens: ${dPatch}`);
      expectClose(`${backend} ${io}`, io, ['last_hidden_state', ...states.map((_, i) => `hidden_states.${i}`)], [out.lastHiddenState, ...states]);
      tf.dispose([out.patchTokens, out.cls, x]);
    }
    // trainable end to end (the `tiny` ViT trains from scratch): a gradient for every parameter, through the
    // interpolation; on the fastest backend only (the cpu backend's backward passes are slow in JavaScript)
    if (backend !== fastest()) return model.dispose();
    const x = reference('dinov2-tiny.io.safetensors', 'input') as tf.Tensor4D;
    const { grads, value } = tf.variableGrads(() => model.forward(x).patchTokens.square().mean() as tf.Scalar);
    assert.equal(Object.keys(grads).length, model.store.variables.size);
    assert.ok(Object.values(grads).every((g) => tf.tidy(() => tf.isFinite(g).all().dataSync()[0] === 1 && g.abs().max().dataSync()[0] > 0)));
    tf.dispose([value, x, ...Object.values(grads)]);
    model.dispose();
  });
});

test('DINOv2 with registers (HF Dinov2WithRegistersModel, antialiased position resampling) matches every hidden state', async () => {
  const io = 'dinov2-reg-tiny.io.safetensors';
  await onEachBackend((backend) => {
    const model = Dinov2.create({ ...DINO_TINY, registers: 4 }, new Rng(0));
    loadDinov2Weights(model, fixture('dinov2-reg-tiny.safetensors'));
    const x = reference(io, 'input') as tf.Tensor4D;
    const out = model.forward(x, { hiddenStates: true });
    assert.deepEqual(out.patchTokens.shape, [2, 5, 3, 32]);
    assert.equal(out.lastHiddenState.shape[1], 1 + 4 + 15);
    const states = out.hiddenStates!;
    expectClose(`${backend} ${io}`, io, ['last_hidden_state', ...states.map((_, i) => `hidden_states.${i}`)], [out.lastHiddenState, ...states]);
    tf.dispose([out.patchTokens, out.cls, x]);
    model.dispose();
  });
});

test("DINOv2 map reads transformers 5 names (q_proj/k_proj/v_proj/o_proj) and a task model's 'dinov2.' prefix", () => {
  const legacy = readSafetensors(fixture('dinov2-tiny.safetensors'));
  const modern = new Map<string, StoredTensor>();
  for (const [k, t] of legacy.tensors) {
    const renamed = k
      .replace('attention.attention.query', 'attention.q_proj')
      .replace('attention.attention.key', 'attention.k_proj')
      .replace('attention.attention.value', 'attention.v_proj')
      .replace('attention.output.dense', 'attention.o_proj');
    modern.set(`dinov2.${renamed}`, t);
  }
  modern.set('classifier.weight', { shape: [2, 64], dtype: 'F32', data: new Float32Array(128) });
  const a = Dinov2.create(DINO_TINY, new Rng(0));
  const b = Dinov2.create(DINO_TINY, new Rng(1));
  const start = tf.memory().numTensors;
  applyDinov2Weights(a, legacy);
  assert.throws(() => applyDinov2Weights(b, { file: 'task.safetensors', tensors: modern }), /unexpected tensor\(s\) in the file: classifier\.weight/);
  const report = applyDinov2Weights(b, { file: 'task.safetensors', tensors: modern }, { allowUnexpected: true });
  assert.deepEqual(report.unexpected, ['classifier.weight']);
  for (const [name, v] of a.store.variables) {
    assert.equal(maxAbsDiff(v, b.store.variables.get(name)!), 0, name);
  }
  assert.equal(tf.memory().numTensors, start);
  a.dispose();
  b.dispose();
});

const MNV3: Record<string, Partial<MobileNetV3Config>> = {
  'mobilenetv3-small': { arch: 'small', widthMult: 0.25 },
  'mobilenetv3-large': { arch: 'large', widthMult: 0.25 },
  'mobilenetv3-large-dilated': { arch: 'large', widthMult: 0.25, dilated: true },
};

test('MobileNetV3 small / large / large dilated (torchvision, width 0.25) match every features[i] in eval mode', async () => {
  await onEachBackend((backend) => {
    for (const [name, cfg] of Object.entries(MNV3)) {
      const model = MobileNetV3.create(cfg, new Rng(0));
      const weights = fixture(`${name.replace('-dilated', '')}.safetensors`);
      const report = loadMobileNetV3Weights(model, weights);
      assert.equal(report.assigned, model.store.variables.size + model.store.buffers.size);
      const io = `${name}.io.safetensors`;
      const x = reference(io, 'input') as tf.Tensor4D;
      const taps = model.channels.map((_, i) => i);
      const outs = model.forward(x, { taps });
      outs.forEach((o, i) => assert.equal(o.shape[3], model.channels[i], `${name} features.${i} channels`));
      expectClose(`${backend} ${name}`, io, taps.map((i) => `features.${i}`), outs);
      x.dispose();
      model.dispose();
    }
  });
});

const RESNET_NARROW: Partial<ResNetConfig> = { depths: [2, 1, 2, 2], planes: [8, 16, 32, 64], widthPerGroup: 32 };
const DILATIONS: Record<string, [boolean, boolean, boolean]> = {
  '': [false, false, false],
  '.os16': [false, false, true],
  '.os8': [false, true, true],
};

test('ResNet (torchvision Bottleneck, narrow) matches stem and C2..C5 at output strides 32, 16 and 8', async () => {
  await onEachBackend((backend) => {
    for (const [suffix, dilate] of Object.entries(DILATIONS)) {
      const model = ResNet.create({ ...RESNET_NARROW, dilate }, new Rng(0));
      loadResNetWeights(model, fixture('resnet-narrow.safetensors'));
      const io = `resnet-narrow${suffix}.io.safetensors`;
      const x = reference(io, 'input') as tf.Tensor4D;
      const outs = model.forward(x, { stem: true });
      expectClose(`${backend} resnet${suffix}`, io, ['stem', 'layer1', 'layer2', 'layer3', 'layer4'], outs);
      x.dispose();
      model.dispose();
    }
  });
});

/** Zeros instead of random draws: full-size models built in a blink, for counting parameters. */
class ZeroStore extends ParamStore {
  override truncNormal(name: string, shape: number[]): tf.Variable {
    return this.zeros(name, shape);
  }
}

test('ResNet-50 and MobileNetV3-Small at full size have torchvision parameter counts', () => {
  // torchvision: resnet50 25,557,032 with fc (2048*1000 + 1000); mobilenet_v3_small features 927,008
  const resnet = new ResNet(new ZeroStore(new Rng(0)), 'backbone');
  assert.equal(resnet.store.count(), 25_557_032 - 2_049_000);
  assert.deepEqual(resnet.channels, [256, 512, 1024, 2048]);
  resnet.dispose();
  const mnv3 = new MobileNetV3(new ZeroStore(new Rng(0)), 'backbone', { arch: 'small' });
  assert.equal(mnv3.channels[mnv3.channels.length - 1], 576);
  assert.equal(mnv3.store.count(), 927_008);
  assert.deepEqual(mnv3.stageEnds.map((i) => mnv3.strides[i]), [2, 4, 8, 16, 32]);
  mnv3.dispose();
});

test('MobileNetV3 reduced tail and ResNet-101 have torchvision parameter counts', () => {
  // torchvision 0.14: mobilenet_v3_large(reduced_tail=True).features 1,620,512 (last conv 480);
  // mobilenet_v3_small(reduced_tail=True, width_mult=0.75).features 275,304 (last conv 240)
  const cases: [Partial<MobileNetV3Config>, number, number][] = [
    [{ arch: 'large', reducedTail: true }, 1_620_512, 480],
    [{ arch: 'small', reducedTail: true, widthMult: 0.75 }, 275_304, 240],
  ];
  for (const [cfg, count, last] of cases) {
    const m = new MobileNetV3(new ZeroStore(new Rng(0)), 'backbone', cfg);
    assert.equal(m.store.count(), count, JSON.stringify(cfg));
    assert.equal(m.channels[m.channels.length - 1], last);
    m.dispose();
  }
  // torchvision resnet101: 44,549,160 with fc
  const r101 = new ResNet(new ZeroStore(new Rng(0)), 'backbone', resnetConfig('resnet101'));
  assert.equal(r101.store.count(), 44_549_160 - 2_049_000);
  r101.dispose();
});

test('atrous convolution (space-to-batch) has the gradient of the dilated convolution', async () => {
  // The loss is linear in the kernel, so central differences are exact up to float32 rounding.
  await tf.setBackend('cpu');
  const start = tf.memory().numTensors;
  for (const [h, w, d, depthwise] of [[7, 6, 2, false], [9, 5, 3, true], [4, 4, 2, false]] as const) {
    const rng = new Rng(`atrous-${h}-${w}-${d}`);
    const rand = (shape: number[]) => tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
    const c = 2;
    const x = rand([2, h, w, c]) as tf.Tensor4D;
    const k = rand(depthwise ? [3, 3, c, 1] : [3, 3, c, 3]) as tf.Tensor4D;
    const conv = (kk: tf.Tensor4D) => convPadded(x, kk, { stride: 1, dilation: d, pad: d, depthwise });
    const direct = tf.tidy(() => (depthwise ? tf.depthwiseConv2d(x, k, 1, 'same', 'NHWC', d) : tf.conv2d(x, k, 1, 'same', 'NHWC', d)));
    const viaPhases = conv(k);
    assert.ok(maxAbsDiff(viaPhases, direct) < 1e-5, `forward h ${h} w ${w} d ${d}`);
    const r = rand(direct.shape);
    const loss = (kk: tf.Tensor4D) => conv(kk).mul(r).sum() as tf.Scalar;
    const g = tf.grad((kk: tf.Tensor) => loss(kk as tf.Tensor4D))(k);
    const kv = k.dataSync();
    const gv = g.dataSync();
    for (let i = 0; i < kv.length; i += 3) {
      const num = tf.tidy(() => {
        const plus = kv.slice();
        const minus = kv.slice();
        plus[i] += 0.5;
        minus[i] -= 0.5;
        return loss(tf.tensor(plus, k.shape) as tf.Tensor4D).sub(loss(tf.tensor(minus, k.shape) as tf.Tensor4D)).dataSync()[0];
      });
      assert.ok(Math.abs(num - gv[i]) < 1e-3 * Math.max(1, Math.abs(num)), `d ${d} kernel[${i}]: analytic ${gv[i]} numeric ${num}`);
    }
    tf.dispose([x, k, direct, viaPhases, r, g]);
  }
  assert.equal(tf.memory().numTensors, start);
});

test('training mode matches PyTorch train(): batch statistics, running stats moved by momentum; no gradient for buffers', async () => {
  const io = 'mobilenetv3-small.io.safetensors';
  await onEachBackend((backend) => {
    const model = MobileNetV3.create({ arch: 'small', widthMult: 0.25 }, new Rng(1));
    loadMobileNetV3Weights(model, fixture('mobilenetv3-small.safetensors'));
    const x = reference(io, 'input') as tf.Tensor4D;
    expectClose(`${backend} mobilenetv3-small-train`, io, ['train.features.12'], model.forward(x, { training: true, taps: [12] }));
    const stats = ['features.0.1.running_mean', 'features.0.1.running_var', 'features.12.1.running_mean', 'features.12.1.running_var'];
    const names = stats.map((k) => `backbone/${k.replace(/\./g, '/').replace('running_mean', 'mean').replace('running_var', 'var')}`);
    expectClose(`${backend} mobilenetv3-small-train`, io, stats.map((k) => `train.${k}`), names.map((n) => tf.clone(model.store.buffers.get(n)!)));
    model.dispose();
    if (backend !== fastest()) return x.dispose();
    // gradients through a dilated ResNet (the atrous path) and BatchNorm in training mode, on the fastest backend
    const resnet = ResNet.create({ ...RESNET_NARROW, dilate: [false, true, true] }, new Rng(2));
    const { grads, value } = tf.variableGrads(() => resnet.forward(x, { training: true })[3].square().mean() as tf.Scalar);
    assert.ok(Number.isFinite(value.dataSync()[0]));
    assert.deepEqual(Object.keys(grads).length, resnet.store.variables.size, `${backend}: one gradient per trainable parameter, none for buffers`);
    const bufferNames = new Set([...resnet.store.buffers.values()].map((v) => v.name));
    assert.ok(!Object.keys(grads).some((k) => bufferNames.has(k)));
    assert.ok(Object.values(grads).every((g) => tf.tidy(() => tf.isFinite(g).all().dataSync()[0] === 1)));
    tf.dispose([value, x, ...Object.values(grads)]);
    resnet.dispose();
  });
});

test('import errors name the file and the tensor: wrong shape, missing key, truncated file, wrong format', () => {
  const wrongShape = Dinov2.create(dinov2Config('tiny', { hiddenSize: 32, layers: 2, heads: 2, imageSize: 70 }), new Rng(0));
  assert.throws(() => loadDinov2Weights(wrongShape, fixture('dinov2-tiny.safetensors')), (e: unknown) =>
    e instanceof WeightsError && /dinov2-tiny\.safetensors/.test(e.message) && /embeddings\.position_embeddings/.test(e.message));
  wrongShape.dispose();

  const deeper = Dinov2.create(dinov2Config('tiny', { hiddenSize: 32, layers: 3, heads: 2, imageSize: 56 }), new Rng(0));
  assert.throws(() => loadDinov2Weights(deeper, fixture('dinov2-tiny.safetensors')), (e: unknown) =>
    e instanceof WeightsError && /missing tensor 'encoder\.layer\.2\./.test(e.message));
  deeper.dispose();

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-bb-'));
  try {
    const bytes = fs.readFileSync(fixture('mobilenetv3-small.safetensors'));
    const cut = path.join(dir, 'cut.safetensors');
    fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    const model = MobileNetV3.create({ arch: 'small', widthMult: 0.25 }, new Rng(0));
    assert.throws(() => loadMobileNetV3Weights(model, cut), (e: unknown) =>
      e instanceof WeightsError && /cut\.safetensors/.test(e.message) && /truncated/.test(e.message));
    // a ResNet file into a MobileNetV3: every key is missing, named
    assert.throws(() => loadMobileNetV3Weights(model, fixture('resnet-narrow.safetensors')), (e: unknown) =>
      e instanceof WeightsError && /missing tensor 'features\.0\.0\.weight'/.test(e.message));
    model.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('ParamStore keeps buffers apart from trainable parameters', () => {
  const p = new ParamStore(new Rng(0));
  p.zeros('a/w', [2]);
  const buf = p.buffer('a/mean', [2], 0);
  assert.equal(buf.trainable, false);
  assert.deepEqual([...p.variables.keys()], ['a/w']);
  assert.deepEqual([...p.buffers.keys()], ['a/mean']);
  assert.equal(p.count(), 2);
  assert.throws(() => p.zeros('a/mean', [1]), /defined twice/);
  assert.deepEqual([...p.all().keys()], ['a/w', 'a/mean']);
  p.dispose();
  assert.equal(p.buffers.size, 0);
});
