import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import { ConfigError } from '../src/lib/errors';
import { buildModel } from '../src/lib/models/index';
import { ParamStore } from '../src/lib/models/params';
import { ResNet, type ResNetConfig } from '../src/lib/models/backbones/resnet';
import { MobileNetV2 } from '../src/lib/models/backbones/mobilenetv2';
import { loadMobileNetV2Weights } from '../src/lib/weights/maps/mobilenetv2';
import { asppRates, makeAspp } from '../src/lib/models/deeplab/aspp';
import { pixelF1 } from '../src/lib/metrics/of1';
import { readSafetensors } from '../src/lib/weights/safetensors';
import { loadAsppWeights } from '../src/lib/weights/maps/deeplab';
import { loadResNetWeights } from '../src/lib/weights/maps/resnet';
import { Rng } from '../src/lib/util/random';

// Fixtures: test/fixtures/deeplab/make_aspp.py (torchvision 0.14 ASPP) on the narrow ResNet of
// test/fixtures/weights/make_backbones.py.
const FIX = path.join(__dirname, 'fixtures');
const TOL = 1e-4;
const RESNET_NARROW: Partial<ResNetConfig> = { depths: [2, 1, 2, 2], planes: [8, 16, 32, 64], widthPerGroup: 32 };
/** A small registered model: planes 4..32, one block per layer, 16-channel ASPP/decoder. */
const TINY = { widthDivisor: 16, depths: [1, 1, 1, 1], embeddingDim: 8 };

const backends: string[] = ['cpu'];
before(async () => {
  const best = (await initBackend()).backend;
  if (best !== 'cpu') backends.push(best);
});
after(async () => {
  await initBackend();
});

async function onEachBackend(check: (backend: string) => void): Promise<void> {
  for (const backend of backends) {
    await tf.setBackend(backend);
    const start = tf.memory().numTensors;
    check(backend);
    assert.equal(tf.memory().numTensors, start, `${backend}: tensors leaked`);
  }
}

/** An NCHW reference tensor as NHWC. */
function reference(file: string, key: string): tf.Tensor4D {
  const t = readSafetensors(file).tensors.get(key);
  assert.ok(t, `${file} has no '${key}'`);
  return tf.tidy(() => tf.tensor(t.data, t.shape).transpose([0, 2, 3, 1]) as tf.Tensor4D);
}

for (const os of [16, 8] as const) {
  test(`ASPP on the dilated ResNet (output stride ${os}) matches torchvision's deeplabv3 ASPP`, async () => {
    const io = path.join(FIX, 'deeplab', `aspp-os${os}.io.safetensors`);
    await onEachBackend((backend) => {
      const store = new ParamStore(new Rng(0));
      const net = new ResNet(store, 'backbone', { ...RESNET_NARROW, dilate: os === 8 ? [false, true, true] : [false, false, true] });
      loadResNetWeights(net, path.join(FIX, 'weights', 'resnet-narrow.safetensors'));
      const aspp = makeAspp(store, 'aspp', { cin: 256, channels: 16, rates: asppRates(os), dropout: 0.5 }, 0);
      const report = loadAsppWeights(store, 'aspp', path.join(FIX, 'deeplab', `aspp-os${os}.safetensors`));
      assert.ok(report.assigned > 0 && report.unexpected.length === 0);
      const x = reference(io, 'input');
      const [c2, c3, c4, c5] = net.forward(x);
      const y = aspp(c5, false);
      for (const [key, got] of [['layer1', c2], ['layer4', c5], ['aspp', y]] as const) {
        const ref = reference(io, key);
        assert.deepEqual(got.shape, ref.shape, key);
        const d = tf.tidy(() => got.sub(ref).abs().max().dataSync()[0]);
        console.log(`${backend} os${os} ${key}: max |diff| ${d.toExponential(2)}`);
        assert.ok(d <= TOL, `${backend} os${os} ${key}: max |diff| ${d} > ${TOL}`);
        ref.dispose();
      }
      tf.dispose([x, c2, c3, c4, c5, y]);
      store.dispose();
    });
  });
}

test("MobileNetV2 backbone (width 0.25) matches torchvision's features.3 and features.17", async () => {
  const io = path.join(FIX, 'deeplab', 'mobilenetv2-narrow.io.safetensors');
  await onEachBackend((backend) => {
    const net = new MobileNetV2(new ParamStore(new Rng(0)), 'backbone', { widthMult: 0.25, outputStride: 32 });
    const report = loadMobileNetV2Weights(net, path.join(FIX, 'deeplab', 'mobilenetv2-narrow.safetensors'));
    assert.equal(report.unexpected.length, 0);
    assert.equal(report.assigned, net.store.all().size);
    const x = reference(io, 'input');
    const [low, high] = net.forward(x);
    for (const [key, got] of [['low', low], ['high', high]] as const) {
      const ref = reference(io, key);
      assert.deepEqual(got.shape, ref.shape, key);
      const d = tf.tidy(() => got.sub(ref).abs().max().dataSync()[0]);
      console.log(`${backend} mobilenetv2 ${key}: max |diff| ${d.toExponential(2)}`);
      assert.ok(d <= TOL, `${backend} mobilenetv2 ${key}: max |diff| ${d} > ${TOL}`);
      ref.dispose();
    }
    tf.dispose([x, low, high]);
    net.store.dispose();
  });
});

test('deeplabv3plus with MobileNetV2: strides 4 and 16/8 at the decoder, heads at input size', async () => {
  await onEachBackend(() => {
    for (const outputStride of [16, 8]) {
      const model = buildModel('deeplabv3plus', { backbone: 'mobilenetv2', widthDivisor: 4, asppChannels: 32, lowLevelChannels: 16, outputStride }, new Rng(1));
      const images = tf.randomNormal([1, 64, 48, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
      const out = model.forward({ images }, { training: false });
      assert.deepEqual(out.masks!.shape, [1, 64, 48, 1]);
      const enc = (model as unknown as { net: { backbone: { features: (x: tf.Tensor4D, t: boolean) => tf.Tensor4D[] } } }).net.backbone;
      const [low, high] = enc.features(images, false);
      assert.deepEqual(low.shape.slice(1, 3), [16, 12]);
      assert.deepEqual(high.shape.slice(1, 3), outputStride === 16 ? [4, 3] : [8, 6]);
      assert.ok(model.params.has('backbone/features/17/conv/1/0/dw'));
      tf.dispose([images, out.masks!, low, high]);
      model.dispose();
    }
  });
  assert.throws(() => buildModel('deeplabv3plus', { backbone: 'mobilenetv2', depths: [1, 1, 1, 1] }), /go with the ResNet backbones/);
});

test('deeplabv3plus: heads at input size for output stride 16 and 8, odd sizes, torchvision/pytorch-deeplab names', async () => {
  await onEachBackend(() => {
    for (const outputStride of [16, 8]) {
      const model = buildModel('deeplabv3plus', { ...TINY, outputStride }, new Rng(1));
      for (const [h, w] of [[64, 64], [50, 46]]) {
        const images = tf.randomNormal([2, h, w, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
        const out = model.forward({ images }, { training: false });
        assert.deepEqual(out.masks!.shape, [2, h, w, 1]);
        assert.equal(out.loss, undefined);
        const p = out.masks!.dataSync();
        assert.ok(p.every((v) => v >= 0 && v <= 1));
        tf.dispose([images, out.masks!]);
      }
      for (const name of ['backbone/layer4/0/conv2/w', 'aspp/convs/3/0/w', 'aspp/convs/4/1/w', 'aspp/project/0/w', 'decoder/conv1/w', 'decoder/last_conv/4/w', 'decoder/last_conv/8/b', 'heads/contour/w', 'heads/embed/w']) {
        assert.ok(model.params.has(name), `missing parameter ${name}`);
      }
      assert.ok(model.buffers!.has('aspp/convs/4/2/mean'));
      model.dispose();
    }
  });
});

test('deeplabv3plus: options are validated with suggestions', () => {
  assert.throws(() => buildModel('deeplabv3plus', { backbone: 'resnet51' }), (e: unknown) => e instanceof ConfigError && /did you mean 'resnet50'/.test(e.message));
  assert.throws(() => buildModel('deeplabv3plus', { outputStride: 32 }), /outputStride must be 8 or 16/);
  assert.throws(() => buildModel('deeplabv3plus', { lossType: 'dice' }), /unknown lossType 'dice'/);
  assert.throws(() => buildModel('deeplabv3plus', { widthDivisor: 5 }), /widthDivisor 5 must divide/);
  assert.throws(() => buildModel('deeplabv3plus', { contourWidht: 2 }), /did you mean 'contourWidth'/);
});

/** `n` size x size images of smooth noise, each with a brighter, stripy square (the "forged" region) and its mask. */
function figures(n: number, size: number, rng: Rng): { images: tf.Tensor4D; masks: tf.Tensor4D; truth: Uint8Array } {
  const img = new Float32Array(n * size * size * 3);
  const mask = new Float32Array(n * size * size);
  for (let i = 0; i < n; i++) {
    const s = rng.int(size / 4, size / 2);
    const y0 = rng.int(2, size - s - 2);
    const x0 = rng.int(2, size - s - 2);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const p = (i * size + y) * size + x;
        const inside = y >= y0 && y < y0 + s && x >= x0 && x < x0 + s;
        mask[p] = inside ? 1 : 0;
        for (let c = 0; c < 3; c++) img[p * 3 + c] = rng.normal() * 0.5 + (inside ? ((x + y) % 4 < 2 ? 1.5 : -0.5) : 0);
      }
    }
  }
  return { images: tf.tensor4d(img, [n, size, size, 3]), masks: tf.tensor4d(mask, [n, size, size, 1]), truth: Uint8Array.from(mask) };
}

test('deeplabv3plus overfits a few figures (pixel F1 >= 0.8, eval mode) in bounded steps, all three loss terms, no leaks', async () => {
  await tf.setBackend(backends[backends.length - 1]);
  const start = tf.memory().numTensors;
  const { images, masks, truth } = figures(4, 48, new Rng(3));
  const model = buildModel('deeplabv3plus', { ...TINY, widthDivisor: 8, dropout: false, contrastWeight: 0.1 }, new Rng(4));
  const net = (model as unknown as { net: { lastTerms: Record<string, number> } }).net;
  const opt = tf.train.adam(3e-3);
  let f1 = 0;
  let steps = 0;
  const counts: number[] = [];
  const first: Record<string, number>[] = [];
  for (; steps < 150 && f1 < 0.8; steps++) {
    const cost = opt.minimize(() => {
      const out = model.forward({ images, masks }, { training: true });
      out.masks!.dispose();
      return out.loss!;
    }, true);
    cost!.dispose();
    if (steps === 0) first.push({ ...net.lastTerms });
    counts.push(tf.memory().numTensors);
    if (steps % 10 === 9) {
      const out = model.forward({ images }, { training: false });
      f1 = pixelF1(Uint8Array.from(out.masks!.dataSync(), (v) => (v >= 0.5 ? 1 : 0)), truth);
      out.masks!.dispose();
    }
  }
  console.log(`overfit: pixel F1 ${f1.toFixed(3)} after ${steps} steps; first terms ${JSON.stringify(first[0])}, last ${JSON.stringify(net.lastTerms)}`);
  assert.ok(f1 >= 0.8, `pixel F1 ${f1} after ${steps} steps`);
  for (const k of ['seg', 'contour', 'contrast']) assert.ok(net.lastTerms[k] > 0 && net.lastTerms[k] < first[0][k], `${k} did not fall`);
  assert.ok(counts.every((c) => c === counts[0]), `tensor count moved across steps: ${counts.slice(0, 5)}...`);
  opt.dispose();
  model.dispose();
  tf.dispose([images, masks]);
  assert.equal(tf.memory().numTensors, start, 'tensors leaked');
});
