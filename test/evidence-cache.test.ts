import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { test } from 'node:test';
import { computeEvidence, computeEvidenceCached } from '../src/lib/evidence/index';
import { texture } from './fixtures/texture';
import type { Image } from '../src/lib/data/types';

/** A texture with a 24 px square pasted 40 px to the right: both evidence planes mark it. */
function forgedFigure(seed: string): Image {
  const img = texture(96, 80, seed);
  const { data, width } = img;
  for (let y = 20; y < 44; y++) for (let x = 8; x < 32; x++) for (let c = 0; c < 3; c++) data[(y * width + x + 48) * 3 + c] = data[(y * width + x) * 3 + c];
  return img;
}

function entries(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.bin'));
}

function withCacheDir<T>(dir: string, fn: () => T): T {
  const before = process.env.SIFD_EVIDENCE_CACHE;
  process.env.SIFD_EVIDENCE_CACHE = dir;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env.SIFD_EVIDENCE_CACHE;
    else process.env.SIFD_EVIDENCE_CACHE = before;
  }
}

test('evidence cache: a figure seen once is read back bit for bit; another figure misses', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-evcache-'));
  try {
    const img = forgedFigure('a');
    const fresh = computeEvidence('twins-blocks', img)!;
    assert.ok(fresh.reduce((s, v) => s + v, 0) > 0, 'the pasted square is evidence');
    const first = withCacheDir(dir, () => computeEvidenceCached('twins-blocks', img))!;
    assert.deepEqual(first, fresh);
    assert.equal(entries(dir).length, 1);
    const again = withCacheDir(dir, () => computeEvidenceCached('twins-blocks', { ...img, data: img.data.slice() }))!;
    assert.deepEqual(again, fresh, 'same pixels in another buffer hit the same entry');
    assert.equal(entries(dir).length, 1);
    withCacheDir(dir, () => computeEvidenceCached('twins-blocks', forgedFigure('b')));
    withCacheDir(dir, () => computeEvidenceCached('exact-twins', img));
    assert.equal(entries(dir).length, 3, 'other pixels and another kind are other entries');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('evidence cache: a truncated or foreign entry is recomputed and rewritten, never trusted', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-evcache-'));
  try {
    const img = forgedFigure('c');
    const fresh = computeEvidence('twins-blocks', img)!;
    withCacheDir(dir, () => computeEvidenceCached('twins-blocks', img));
    const file = path.join(dir, entries(dir)[0]);
    const whole = fs.readFileSync(file);
    fs.writeFileSync(file, whole.subarray(0, whole.length - 5));
    assert.deepEqual(withCacheDir(dir, () => computeEvidenceCached('twins-blocks', img)), fresh);
    assert.equal(fs.readFileSync(file).length, whole.length, 'rewritten whole');
    const flipped = Buffer.from(whole);
    flipped.writeUInt32LE(7, 4); // another width in the header
    fs.writeFileSync(file, flipped);
    assert.deepEqual(withCacheDir(dir, () => computeEvidenceCached('twins-blocks', img)), fresh);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('evidence cache: SIFD_EVIDENCE_CACHE=off computes without writing; a kind without planes stays null', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-evcache-'));
  try {
    const img = forgedFigure('d');
    assert.deepEqual(withCacheDir('off', () => computeEvidenceCached('twins-blocks', img)), computeEvidence('twins-blocks', img));
    assert.equal(withCacheDir(dir, () => computeEvidenceCached('none', img)), null);
    assert.equal(entries(dir).length, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
