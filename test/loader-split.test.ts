import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readFamilies, stratifiedSplit } from '../src/lib/data/split';
import type { Label, Sample } from '../src/lib/data/types';

function samples(n: number, label: Label, prefix: string): Sample[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, split: 'train', label, imagePath: `/d/${prefix}${i}.png` }));
}

test('stratified split keeps label proportions and is independent of input order', () => {
  const all = [...samples(40, 'forged', 'f'), ...samples(60, 'authentic', 'a')];
  const s = stratifiedSplit(all, { valFraction: 0.2, seed: 7 });
  assert.deepEqual(s.strata, { authentic: [48, 12], forged: [32, 8] });
  assert.equal(s.train.length + s.val.length, 100);
  assert.equal(new Set([...s.train, ...s.val].map((x) => x.id)).size, 100);
  const reversed = stratifiedSplit(all.slice().reverse(), { valFraction: 0.2, seed: 7 });
  assert.deepEqual(reversed.val.map((x) => x.id).sort(), s.val.map((x) => x.id).sort());
  const other = stratifiedSplit(all, { valFraction: 0.2, seed: 8 });
  assert.notDeepEqual(other.val.map((x) => x.id).sort(), s.val.map((x) => x.id).sort());
});

test('families from the manifest refine the strata; tiny strata still reach both sides', () => {
  const all = [...samples(10, 'forged', 'f'), ...samples(3, 'authentic', 'a')];
  const families = new Map<string, string>(all.map((x, i) => [x.id, i % 2 ? 'gel' : 'sem']));
  const s = stratifiedSplit(all, { valFraction: 0.1, seed: 1, families });
  assert.deepEqual(Object.keys(s.strata), ['authentic/gel', 'authentic/sem', 'forged/gel', 'forged/sem']);
  // forged/gel has 5 samples: round(0.5) = 1 to val; authentic/gel has 1 sample: stays in train
  assert.deepEqual(s.strata['forged/gel'], [4, 1]);
  assert.deepEqual(s.strata['authentic/sem'], [1, 1]);
  assert.deepEqual(s.strata['authentic/gel'], [1, 0]);
  assert.throws(() => stratifiedSplit(all, { valFraction: 1 }), /valFraction/);
  assert.throws(() => stratifiedSplit([...all, all[0]], { valFraction: 0.2 }), /appears twice/);
});

test('families come from a synthetic manifest; no manifest means no families; a broken one is an error', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-split-'));
  try {
    assert.equal(readFamilies(dir), undefined);
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ images: [{ id: '7', family: 'gel' }, { id: '9', family: 'sem' }] }));
    assert.deepEqual([...readFamilies(dir)!], [['7', 'gel'], ['9', 'sem']]);
    fs.writeFileSync(path.join(dir, 'manifest.json'), '{ not json');
    assert.throws(() => readFamilies(dir), (e: Error) => e.message.includes('manifest.json') && /cannot parse/.test(e.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
