import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import { WeightsError } from '../src/lib/errors';
import { makeMitEncoder, MIT_VARIANTS } from '../src/lib/models/segformer/mit';
import { ParamStore } from '../src/lib/models/segformer/params';
import { buildModel, buildModelWithWeights } from '../src/lib/models';
import { Rng } from '../src/lib/util/random';
import { loadStateDict } from '../src/lib/weights/load';
import { detectMitLayout, importMit, matchMitVariant, mitVariantOfFile } from '../src/lib/weights/maps/mit';
import { readSafetensors } from '../src/lib/weights/safetensors';
import type { StateDict } from '../src/lib/weights/stateDict';

/**
 * Parity of sifd's MiT with HF transformers' SegformerModel, on the reference weights and per-stage
 * hidden states that test/fixtures/weights/make_mit.py wrote (sifd's `tiny` variant, random weights
 * at float16 precision: the .safetensors holds them as float32 in the hub's naming with the decode
 * head, the .pth as float16 in transformers-5 naming nested under 'state_dict').
 */
const FIX = path.join(__dirname, 'fixtures', 'weights');
const SAFETENSORS = path.join(FIX, 'mit_tiny.safetensors');
const PTH = path.join(FIX, 'mit_tiny.pth');
const ref = readSafetensors(path.join(FIX, 'mit_tiny_ref.safetensors'));
let best = 'cpu';

before(async () => {
  best = (await initBackend()).backend;
});

function tmpFile(name: string, bytes: Uint8Array): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-weights-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** Max |sifd - reference| per stage, sifd's NHWC maps against HF's NCHW hidden states. */
function parity(file: string): number[] {
  const p = new ParamStore(new Rng(1));
  try {
    const encoder = makeMitEncoder(p, 'encoder', MIT_VARIANTS.tiny);
    const dict = loadStateDict(file);
    const report = importMit(p.variables, dict, MIT_VARIANTS.tiny);
    assert.equal(report.assigned, p.variables.size);
    const start = tf.memory().numTensors;
    const diffs = tf.tidy(() => {
      const input = ref.tensors.get('input')!;
      const x = tf.tensor(input.data, input.shape).transpose([0, 2, 3, 1]) as tf.Tensor4D; // NCHW -> NHWC
      return encoder(x).map((f, i) => {
        const r = ref.tensors.get(`stage${i + 1}`)!;
        assert.deepEqual(f.transpose([0, 3, 1, 2]).shape, r.shape);
        return tf.abs(f.transpose([0, 3, 1, 2]).sub(tf.tensor(r.data, r.shape))).max().dataSync()[0];
      });
    });
    assert.equal(tf.memory().numTensors, start);
    return diffs;
  } finally {
    p.dispose();
  }
}

for (const [label, file] of [['safetensors (hub names)', SAFETENSORS], ['.pth f16 (transformers-5 names, nested)', PTH]] as const) {
  for (const backend of ['cpu', 'best'] as const) {
    test(`MiT parity with HF SegformerModel, ${label}, ${backend} backend: every stage within 1e-4`, async (t) => {
      const previous = tf.getBackend();
      await tf.setBackend(backend === 'cpu' ? 'cpu' : best);
      try {
        const diffs = parity(file);
        t.diagnostic(`${tf.getBackend()}: max abs diff per stage ${diffs.map((d) => d.toExponential(2)).join(' ')}`);
        for (const [i, d] of diffs.entries()) assert.ok(d < 1e-4, `stage ${i + 1} (${tf.getBackend()}): max abs diff ${d}`);
      } finally {
        await tf.setBackend(previous);
      }
    });
  }
}

/** A copy of the file's dict with `edit` applied (the readers' maps are not shared). */
function edited(edit: (t: StateDict['tensors']) => void): StateDict {
  const dict = loadStateDict(SAFETENSORS);
  edit(dict.tensors);
  return dict;
}

function assertImportFails(dict: StateDict, message: RegExp): void {
  const p = new ParamStore(new Rng(1));
  try {
    makeMitEncoder(p, 'encoder', MIT_VARIANTS.tiny);
    const before = p.get('encoder/stage1/patch_embed/proj/w').dataSync().slice();
    assert.throws(() => importMit(p.variables, dict, MIT_VARIANTS.tiny), (e: Error) => {
      assert.ok(e instanceof WeightsError, String(e));
      assert.match(e.message, message);
      assert.ok(e.message.startsWith(`${dict.file}: `), e.message);
      return true;
    });
    // All or nothing: a failed import leaves every variable as it was.
    assert.deepEqual(p.get('encoder/stage1/patch_embed/proj/w').dataSync(), before);
  } finally {
    p.dispose();
  }
}

test('a wrong key, a wrong shape and a different variant each fail naming the file and the tensor; nothing is assigned', () => {
  const query = 'segformer.encoder.block.2.0.attention.self.query.weight';
  assertImportFails(
    edited((t) => {
      t.set(query.replace('query', 'qeury'), t.get(query)!);
      t.delete(query);
    }),
    /missing tensor 'segformer\.encoder\.block\.2\.0\.attention\.self\.query\.weight'/,
  );
  const dense = 'segformer.encoder.block.1.0.mlp.dense2.weight';
  assertImportFails(
    edited((t) => {
      const w = t.get(dense)!;
      t.set(dense, { ...w, shape: [w.shape[1], w.shape[0]] });
    }),
    /tensor 'segformer\.encoder\.block\.1\.0\.mlp\.dense2\.weight' \[64, 32\] gives \[32, 64\] for 'encoder\/stage2\/block0\/ffn\/fc2\/w', which is \[64, 32\]/,
  );
  const value = 'segformer.encoder.block.3.0.attention.self.value.bias';
  assertImportFails(
    edited((t) => t.set(value, { ...t.get(value)!, shape: [64], data: t.get(value)!.data.slice(0, 64) })),
    /tensor 'segformer\.encoder\.block\.3\.0\.attention\.self\.key\.bias' \+ 'segformer\.encoder\.block\.3\.0\.attention\.self\.value\.bias' \[192\] gives \[192\] for 'encoder\/stage4\/block0\/attn\/kv\/b', which is \[256\]/,
  );
  assertImportFails(
    edited((t) => t.set('segformer.encoder.block.0.0.attention.self.extra.weight', t.get(query)!)),
    /unexpected tensor\(s\) in the file: segformer\.encoder\.block\.0\.0\.attention\.self\.extra\.weight/,
  );
  const p = new ParamStore(new Rng(1));
  try {
    makeMitEncoder(p, 'encoder', MIT_VARIANTS.b0);
    assert.throws(() => importMit(p.variables, loadStateDict(SAFETENSORS), MIT_VARIANTS.b0), /widths \[16, 32, 64, 128\], depths \[1, 1, 1, 1\].*: build variant 'tiny'/);
  } finally {
    p.dispose();
  }
});

test('a truncated weights file fails naming the file and the tensor, in both formats', () => {
  for (const file of [SAFETENSORS, PTH]) {
    const bytes = fs.readFileSync(file);
    const cut = tmpFile(path.basename(file), bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    assert.throws(() => loadStateDict(cut), (e: Error) => e instanceof WeightsError && e.message.startsWith(`${cut}: truncated`) && /tensor '[\w.]+'/.test(e.message), file);
  }
});

test('the file structure is recognised in both namings and picks the variant', () => {
  const hub = detectMitLayout(loadStateDict(SAFETENSORS));
  assert.deepEqual({ naming: hub.naming, prefix: hub.prefix, depths: hub.depths, head: hub.decodeHead }, { naming: 'hub', prefix: 'segformer.', depths: [1, 1, 1, 1], head: '' });
  const v5 = detectMitLayout(loadStateDict(PTH));
  assert.deepEqual({ naming: v5.naming, prefix: v5.prefix, head: v5.decodeHead }, { naming: 'transformers5', prefix: '', head: null });
  assert.equal(matchMitVariant(hub), 'tiny');
});

test("buildModel with weights: the variant comes from the file, the decode head feeds sifd's decoder where it computes the same, the rest is reported", () => {
  const start = tf.memory().numTensors;
  const { model, weights } = buildModelWithWeights('segformer-seg', { weights: SAFETENSORS, correlationStage: 0, decoderDim: 32 });
  try {
    assert.equal(model.config.variant, 'tiny');
    assert.equal(model.config.weights, undefined, 'the checkpointed config names no file');
    const dict = loadStateDict(SAFETENSORS);
    const linear = dict.tensors.get('decode_head.linear_c.2.proj.weight')!; // [32, 64]
    const got = model.params.get('decoder/linear_c3/w')!.arraySync() as number[][]; // [64, 32]
    assert.equal(got[5][7], linear.data[7 * 64 + 5]);
    const fuse = dict.tensors.get('decode_head.linear_fuse.weight')!; // [32, 128, 1, 1]
    assert.equal((model.params.get('decoder/fuse/w')!.arraySync() as number[][])[100][3], fuse.data[3 * 128 + 100]);
    assert.deepEqual(weights!.ignored.sort(), [
      'decode_head.batch_norm.bias', 'decode_head.batch_norm.running_mean', 'decode_head.batch_norm.running_var', 'decode_head.batch_norm.weight', 'decode_head.classifier.bias', 'decode_head.classifier.weight',
    ]);
    assert.equal(weights!.assigned, [...model.params.keys()].filter((k) => k.startsWith('encoder/')).length + 9);
  } finally {
    model.dispose();
  }
  assert.equal(tf.memory().numTensors, start);
  // With the correlation branch the fusion is wider than HF's: the projections map, the fusion keeps sifd's own.
  const withCorrelation = buildModelWithWeights('segformer-cmfd', { weights: SAFETENSORS, decoderDim: 32 });
  assert.match(withCorrelation.weights!.summary, /decoder: 8 parameters from the decode head/);
  withCorrelation.model.dispose();
  assert.throws(() => buildModel('unet-tiny', { weights: SAFETENSORS }), /model 'unet-tiny' cannot import reference weights; models that can: segformer-cmfd, segformer-seg/);
});

test("notebook 03's SIFD_WEIGHTS path: the file picks the variant; evidence input channels start at zero, RGB as pretrained", () => {
  assert.equal(mitVariantOfFile(SAFETENSORS), 'tiny');
  assert.throws(() => mitVariantOfFile(path.join(FIX, 'tensors.pth')), /not a SegFormer\/MiT state dict/);
  const start = tf.memory().numTensors;
  // As notebook 03 builds it: segformer-cmfd with RGB + 3 evidence planes, weights from SIFD_WEIGHTS.
  const built = buildModelWithWeights('segformer-cmfd', { variant: mitVariantOfFile(SAFETENSORS), inChannels: 6, correlationWindow: 3, correlationStats: true, auxForegroundWeight: 1, decoderDim: 64, weights: SAFETENSORS }, new Rng(0));
  try {
    const w = built.model.params.get('encoder/stage1/patch_embed/proj/w')!.arraySync() as number[][][][]; // [7,7,6,16]
    const file = loadStateDict(SAFETENSORS).tensors.get('segformer.encoder.patch_embeddings.0.proj.weight')!; // [16,3,7,7]
    for (const [ky, kx, c, o] of [[0, 0, 0, 0], [3, 5, 2, 9], [6, 6, 1, 15]]) assert.equal(w[ky][kx][c][o], file.data[((o * 3 + c) * 7 + ky) * 7 + kx]);
    for (const c of [3, 4, 5]) assert.ok(w.every((row) => row.every((col) => col[c].every((v) => v === 0))), `evidence channel ${c} starts at zero`);
    assert.match(built.weights!.summary, /^MiT-tiny encoder \(hub names\)/);
  } finally {
    built.model.dispose();
  }
  assert.equal(tf.memory().numTensors, start);
});
