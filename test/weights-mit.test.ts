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
import { Rng } from '../src/lib/util/random';
import { loadStateDict } from '../src/lib/weights/load';
import { detectMitLayout, importMit, matchMitVariant } from '../src/lib/weights/maps/mit';
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
