import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WeightsError } from '../src/lib/errors';
import { loadStateDict } from '../src/lib/weights/load';
import { readReferenceFile } from '../src/lib/weights/maps/common';
import { readSafetensors } from '../src/lib/weights/safetensors';

/**
 * The PyTorch reader against what torch itself wrote (test/fixtures/weights/make_mit.py): views
 * with offsets and strides, float16/bfloat16/float64/int64 storages, a dict nested under 'model',
 * and the expected values as float32 in tensors_ref.safetensors.
 */
const FIX = path.join(__dirname, 'fixtures', 'weights');
const expected = readSafetensors(path.join(FIX, 'tensors_ref.safetensors'));

function tmpCopy(name: string, bytes: Uint8Array): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-pth-')), name);
  fs.writeFileSync(file, bytes);
  return file;
}

function sameValues(actual: Float32Array, want: Float32Array, what: string): void {
  assert.equal(actual.length, want.length, what);
  // Object.is: -0 stays -0, infinities compare, and float16/bfloat16 widen exactly.
  actual.forEach((v, i) => assert.ok(Object.is(v, want[i]), `${what}[${i}]: ${v} vs ${want[i]}`));
}

test('a torch.save zip: views, offsets, strides, half/bfloat16/double/long storages and a nested dict (beside a numpy scalar and other objects) decode as torch has them', () => {
  const dict = loadStateDict(path.join(FIX, 'tensors.pth'));
  assert.deepEqual([...dict.tensors.keys()].sort(), [...expected.tensors.keys()].sort());
  for (const [name, want] of expected.tensors) {
    const got = dict.tensors.get(name)!;
    assert.deepEqual(got.shape, want.shape, name);
    sameValues(got.data, want.data, name);
  }
  assert.equal(dict.tensors.get('half')!.dtype, 'F16');
  assert.equal(dict.tensors.get('bf16')!.dtype, 'BF16');
  assert.deepEqual(dict.tensors.get('transposed')!.shape, [6, 4]);
});

test('float16 and bfloat16 in a safetensors file decode to the values torch widened them to', () => {
  const dict = loadStateDict(path.join(FIX, 'tensors.safetensors'));
  for (const name of ['half', 'bf16']) sameValues(dict.tensors.get(name)!.data, expected.tensors.get(name)!.data, name);
});

test('a truncated .pth names the file and the first tensor whose storage is cut', () => {
  const file = path.join(FIX, 'mit_tiny.pth');
  const bytes = fs.readFileSync(file);
  const cut = tmpCopy('cut.pth', bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  assert.throws(() => loadStateDict(cut), (e: Error) => {
    assert.ok(e instanceof WeightsError);
    assert.match(e.message, /truncated file: tensor 'stages\.\d\.[\w.]+' \(storage record mit_tiny\/data\/\d+\) is (cut short|missing)/);
    assert.ok(e.message.includes(cut), e.message);
    return true;
  });
});

test('legacy (pre-1.6) torch.save files, foreign pickles, unknown formats and missing paths get clear errors', () => {
  const cases: Array<[string, RegExp]> = [
    [path.join(FIX, 'legacy.pth'), /legacy PyTorch format .* re-save it with torch >= 1\.6/],
    [path.join(FIX, 'foreign.pth'), /no tensors found; top-level keys: w/],
    [tmpCopy('noise.bin', new Uint8Array(64).fill(7)), /unknown weights format \('\.bin'\)/],
    [tmpCopy('empty.safetensors', new Uint8Array(3)), /truncated or not a safetensors file/],
    [path.join(FIX, 'absent.safetensors'), /cannot read weights: ENOENT/],
  ];
  for (const [file, message] of cases) {
    assert.throws(() => loadStateDict(file), (e: Error) => e instanceof WeightsError && message.test(e.message) && e.message.includes(file), file);
  }
});

test("the backbone families' file reader takes PyTorch checkpoints too (torchvision's .pth downloads)", () => {
  const file = path.join(FIX, 'mit_tiny.pth');
  const viaFamilies = readReferenceFile(file);
  const direct = loadStateDict(file);
  assert.deepEqual([...viaFamilies.tensors.keys()], [...direct.tensors.keys()]);
  assert.deepEqual(viaFamilies.tensors.get('stages.3.blocks.0.mlp.fc2.weight'), direct.tensors.get('stages.3.blocks.0.mlp.fc2.weight'));
});
