/**
 * maskrcnn-mnv3s against torchvision 0.14's MaskRCNN in the seed's configuration, narrowed
 * (test/fixtures/maskrcnn/make_maskrcnn.py): parameter counts, then stage by stage in eval mode
 * (backbone features, RPN objectness and deltas, proposals, box head, mask logits, final detections)
 * and the five training losses, with the fixture's weights imported through the weight map.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import { MaskRcnn, type MaskRcnnConfig } from '../src/lib/models/maskrcnn/model';
import { transformImages } from '../src/lib/models/maskrcnn/transform';
import type { ImageTargets } from '../src/lib/models/maskrcnn/targets';
import { loadMaskRcnnWeights } from '../src/lib/weights/maps/maskrcnn';
import { readSafetensors } from '../src/lib/weights/safetensors';
import { Rng } from '../src/lib/util/random';

const FIX = path.join(__dirname, 'fixtures', 'maskrcnn');
const io = readSafetensors(path.join(FIX, 'tiny.io.safetensors')).tensors;
const meta = JSON.parse(fs.readFileSync(path.join(FIX, 'tiny.json'), 'utf8')) as Record<string, number>;
const TINY: Partial<MaskRcnnConfig> = { widthMult: 0.25, channels: 32, representation: 64, maskLayers: [16, 16, 16, 16], minSize: 128, maxSize: 128, normalize: true };
const TOL = 1e-4;
const worst = new Map<string, number>();

let model: MaskRcnn;
let images: tf.Tensor4D;

before(async () => {
  await initBackend();
  model = new MaskRcnn(TINY, new Rng(0));
  loadMaskRcnnWeights(model, path.join(FIX, 'tiny.safetensors'));
  images = ref('images') as tf.Tensor4D;
});

after(() => {
  model.dispose();
  images.dispose();
  for (const [k, v] of worst) console.log(`max |diff| ${k}: ${v.toExponential(2)}`);
});

function raw(key: string) {
  const t = io.get(key);
  assert.ok(t, `fixture has no '${key}'`);
  return t;
}

/** A fixture tensor; 4-D NCHW ones come back NHWC. */
function ref(key: string): tf.Tensor {
  const t = raw(key);
  const x = tf.tensor(t.data, t.shape);
  if (t.shape.length !== 4) return x;
  return tf.tidy(() => x.transpose([0, 2, 3, 1]));
}

function close(label: string, got: tf.Tensor | Float32Array | number[], want: tf.Tensor | Float32Array, tol = TOL): void {
  const a = got instanceof tf.Tensor ? (got.dataSync() as Float32Array) : Float32Array.from(got);
  const b = want instanceof tf.Tensor ? (want.dataSync() as Float32Array) : want;
  assert.equal(a.length, b.length, `${label}: ${a.length} values, torchvision has ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  worst.set(label, Math.max(worst.get(label) ?? 0, d));
  assert.ok(d <= tol, `${label}: max |diff| ${d} > ${tol}`);
}

test('parameter counts equal torchvision for the tiny and the seed configuration', () => {
  assert.equal(model.store.count(), meta.params_tiny);
  const start = tf.memory().numTensors;
  const full = new MaskRcnn({}, new Rng(1));
  const n = full.store.count();
  full.dispose();
  console.log(`parameters: seed configuration sifd ${n}, torchvision ${meta.params_full}`);
  assert.equal(n, meta.params_full);
  assert.equal(tf.memory().numTensors, start);
});

test('eval stages match torchvision: backbone, RPN head, proposals, box head, mask logits', () => {
  const start = tf.memory().numTensors;
  tf.tidy(() => {
    const t = transformImages(images, model.config);
    const features = model.backbone.forward(t.images, false);
    close('backbone features', features, ref('backbone.out'));
    const rpn = model.rpn.head(features, 128, 128);
    close('rpn objectness', rpn.objectness, ref('rpn.objectness').reshape([2, -1]));
    close('rpn deltas', rpn.deltas, ref('rpn.deltas').reshape([2, -1, 4]));
    const logits = rpn.objectness.dataSync() as Float32Array;
    const deltas = rpn.deltas.dataSync() as Float32Array;
    for (let i = 0; i < 2; i++) close(`proposals (px)`, model.rpn.proposals(rpn, logits, deltas, i, 128, 128), raw(`proposals.${i}`).data, 1e-3);
    const proposals = [raw('proposals.0').data, raw('proposals.1').data];
    const box = model.boxHead.forward(features, proposals, 1 / 32);
    close('box head (TwoMLPHead)', box.represented, ref('box_head.out'));
    close('class logits', box.logits, ref('box_predictor.out0'));
    close('box regression', box.deltas, ref('box_predictor.out1'));
    const dets = raw('detections.0.boxes').data.slice(0, 32);
    const masks = model.maskHead.forward(features, [dets, new Float32Array(0)], 1 / 32);
    close('mask logits', masks, ref('mask_predictor.out'));
  });
  assert.equal(tf.memory().numTensors, start);
});

test('final detections match torchvision (boxes, scores, labels, pasted masks)', () => {
  const start = tf.memory().numTensors;
  const out = model.forward(images, null, false);
  out.detections!.forEach((d, i) => {
    close('detection boxes (px)', d.boxes, raw(`detections.${i}.boxes`).data, 1e-3);
    close('detection scores', d.scores, raw(`detections.${i}.scores`).data);
    close('detection labels', d.labels, raw(`detections.${i}.labels`).data, 0);
    const n = 128 * 128;
    close('pasted masks', d.masks.subarray(0, 8 * n), raw(`detections.${i}.masks`).data, 1e-4);
  });
  assert.equal(tf.memory().numTensors, start);
});

test('training losses match torchvision (every candidate sampled, so they are deterministic)', () => {
  const start = tf.memory().numTensors;
  const targets: ImageTargets[] = [0, 1].map((i) => {
    const m = raw(`targets.${i}.masks`);
    return { boxes: raw(`targets.${i}.boxes`).data, labels: Int32Array.from([1, 1]), masks: { data: Uint8Array.from(m.data), count: 2, height: 128, width: 128 } };
  });
  const saved = [...model.store.buffers].map(([k, v]) => [k, v.clone()] as const);
  const out = model.forward(images, targets, true);
  for (const [name, v] of Object.entries(out.losses!)) close(`loss ${name}`, v as tf.Tensor, raw(`loss.${name}`).data, 1e-4);
  tf.dispose(out.losses as unknown as tf.Tensor[]);
  for (const [k, v] of saved) model.store.buffers.get(k)!.assign(v), v.dispose();
  assert.equal(tf.memory().numTensors, start);
});
