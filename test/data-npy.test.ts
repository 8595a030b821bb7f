import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { decodeNpyMasks, encodeNpyMasks, maskLayout, MaskShapeError, readMasks, readNpyHeader, writeNpyMasks } from '../src/lib/data/npy';
import { DatasetError } from '../src/lib/errors';

// Fixtures written by numpy itself: test/fixtures/data/make_npy_fixtures.py. Each holds the same
// (N=2, H=5, W=7) pattern: pixel (n, y, x) is forged when (x + 2y + 3n) % 4 == 0.
const DIR = path.join(__dirname, 'fixtures', 'data', 'npy');
const N = 2;
const H = 5;
const W = 7;
function pattern(count = N): Uint8Array {
  const out = new Uint8Array(count * H * W);
  for (let n = 0; n < count; n++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) out[(n * H + y) * W + x] = (x + 2 * y + 3 * n) % 4 === 0 ? 1 : 0;
  return out;
}

const GOOD: Array<[string, number]> = [
  ['u8_nhw.npy', 2],
  ['bool_hw.npy', 1],
  ['int8_nhw.npy', 2],
  ['int16_nhw.npy', 2],
  ['int64_nhw.npy', 2],
  ['float32_hwn.npy', 2],
  ['float64_nhw.npy', 2],
  ['float16_nhw.npy', 2],
  ['fortran_u8_nhw.npy', 2],
  ['bigendian_i2_nhw.npy', 2],
  ['bigendian_f4_hwn.npy', 2],
  ['v2_u8_nhw.npy', 2],
];

for (const [name, count] of GOOD) {
  test(`numpy-written ${name} reads as uint8 (N,H,W) 0/1`, () => {
    const m = readMasks(path.join(DIR, name), { height: H, width: W });
    assert.deepEqual([m.count, m.height, m.width], [count, H, W]);
    assert.deepEqual(Array.from(m.data), Array.from(pattern(count)));
    // Without the image size a tiny (2, 5, 7) mask fits both (N,H,W) and (H,W,N): ambiguous.
    if (count > 1) assert.throws(() => readMasks(path.join(DIR, name)), /ambiguous 3-D mask shape/);
  });
}

test('readNpyHeader reads shape and dtype without the data', () => {
  const h = readNpyHeader(path.join(DIR, 'bigendian_f4_hwn.npy'));
  assert.deepEqual(h.shape, [5, 7, 2]);
  assert.equal(h.descr, '>f4');
  assert.equal(h.bigEndian, true);
  assert.equal(h.dataBytes, 5 * 7 * 2 * 4);
  assert.equal(h.dataOffset + h.dataBytes, h.fileBytes);
  const f = readNpyHeader(path.join(DIR, 'fortran_u8_nhw.npy'));
  assert.equal(f.fortranOrder, true);
  assert.equal(readNpyHeader(path.join(DIR, 'v2_u8_nhw.npy')).dataOffset % 64, 0);
});

test('bad .npy files fail with the file name and the reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['truncated.npy', /truncated \.npy: shape \(2, 5, 7\) \|u1 needs 70 data bytes, file has 61/],
    ['not_npy.npy', /not an \.npy file/],
    ['complex_nhw.npy', /unsupported mask dtype '<c8'/],
    ['one_d.npy', /mask must be 2-D .* got shape \(35\)/],
    ['ambiguous_3d.npy', /ambiguous 3-D mask shape \(11, 12, 13\)/],
  ];
  for (const [name, reason] of cases) {
    const file = path.join(DIR, name);
    assert.throws(() => readMasks(file), (err: unknown) => {
      assert.ok(err instanceof DatasetError, name);
      assert.equal(err.file, file);
      assert.match(err.message, reason);
      assert.ok(err.message.startsWith(file));
      return true;
    });
  }
  assert.throws(() => readNpyHeader(path.join(DIR, 'truncated.npy')), /needs 70 data bytes/);
  assert.throws(() => readMasks(path.join(DIR, 'missing.npy')), /missing\.npy: cannot read mask: ENOENT/);
});

test('mask size mismatch names both shapes', () => {
  const file = path.join(DIR, 'u8_nhw.npy');
  assert.throws(() => readMasks(file, { height: 6, width: 7 }), (err: unknown) => {
    assert.ok(err instanceof MaskShapeError);
    assert.equal(err.kind, 'mismatch');
    assert.match(err.message, /mask shape \(2, 5, 7\) is 5x7 \(HxW\) but the image is 6x7/);
    return true;
  });
});

test('layout rule: channels <= 10 first or last; both fit -> ambiguous unless the image size decides', () => {
  assert.deepEqual(maskLayout([3, 64, 80]), { layout: 'NHW', count: 3, height: 64, width: 80 });
  assert.deepEqual(maskLayout([64, 80, 3]), { layout: 'HWN', count: 3, height: 64, width: 80 });
  assert.deepEqual(maskLayout([64, 80]), { layout: 'HW', count: 1, height: 64, width: 80 });
  assert.throws(() => maskLayout([2, 5, 3]), (e: unknown) => e instanceof MaskShapeError && e.kind === 'ambiguous');
  assert.deepEqual(maskLayout([2, 5, 3], { height: 5, width: 3 }), { layout: 'NHW', count: 2, height: 5, width: 3 });
  assert.deepEqual(maskLayout([2, 5, 3], { height: 2, width: 5 }), { layout: 'HWN', count: 3, height: 2, width: 5 });
  assert.throws(() => maskLayout([11, 64, 12]), /neither the first nor the last axis/);
  assert.throws(() => maskLayout([2, 2, 2, 2]), (e: unknown) => e instanceof MaskShapeError && e.kind === 'rank');
});

test('the writer matches numpy byte for byte and round-trips', () => {
  const masks = { data: pattern(), count: N, height: H, width: W };
  assert.ok(encodeNpyMasks(masks).equals(fs.readFileSync(path.join(DIR, 'u8_nhw.npy'))));
  const empty = { data: new Uint8Array(0), count: 0, height: H, width: W };
  assert.ok(encodeNpyMasks(empty).equals(fs.readFileSync(path.join(DIR, 'u8_empty_nhw.npy'))));
  const back = decodeNpyMasks(encodeNpyMasks(masks), { height: H, width: W });
  assert.deepEqual(back, { ...masks, data: back.data });
  assert.deepEqual(Array.from(back.data), Array.from(masks.data));
});

test('numpy.load reads a written mask back exactly (skipped without a Python that has numpy)', (t) => {
  const python = [process.env.SIFD_NUMPY_PYTHON, '/tmp/npvenv/bin/python', 'python3'].find(
    (p) => p && spawnSync(p, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0,
  );
  if (!python) {
    t.skip('no Python with numpy found (set SIFD_NUMPY_PYTHON); the byte-exact fixture test covers the format');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-npy-'));
  try {
    // 3 instances of a larger size, so the header length differs from the fixtures'.
    const count = 3, h = 130, w = 257;
    const data = new Uint8Array(count * h * w).map((_, i) => (i * 7919) % 3 === 0 ? 1 : 0);
    const file = path.join(dir, 'm.npy');
    writeNpyMasks(file, { data, count, height: h, width: w });
    const code = 'import sys, numpy as np; a = np.load(sys.argv[1]); print(a.dtype, a.shape, int(a.sum()), int((a.reshape(-1) * np.arange(a.size) % 1000003).sum()))';
    const out = spawnSync(python, ['-c', code, file], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    let sum = 0;
    let weighted = 0;
    data.forEach((v, i) => { sum += v; weighted += v * (i % 1000003); });
    assert.equal(out.stdout.trim(), `uint8 (${count}, ${h}, ${w}) ${sum} ${weighted}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a header longer than the first read (v1, padded to 2 KiB) still parses', () => {
  const src = fs.readFileSync(path.join(DIR, 'u8_nhw.npy'));
  const dict = src.toString('latin1', 10, 10 + src.readUInt16LE(8)).trimEnd();
  const header = dict + ' '.repeat(2048 - 10 - dict.length - 1) + '\n';
  const bytes = Buffer.concat([src.subarray(0, 8), Buffer.from([header.length & 255, header.length >> 8]), Buffer.from(header, 'latin1'), src.subarray(128)]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-npy-long-'));
  try {
    const file = path.join(dir, 'long.npy');
    fs.writeFileSync(file, bytes);
    assert.equal(readNpyHeader(file).dataOffset, 2048);
    assert.deepEqual(Array.from(readMasks(file, { height: H, width: W }).data), Array.from(pattern()));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
