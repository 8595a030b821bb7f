import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sameCopy, softenWithin } from '../bench/classical-transforms';
import type { Image } from '../src/lib/data/types';

test('transform bench: softenWithin blurs 3x3 inside the region only, averaging region pixels; sameCopy accepts either direction', () => {
  const W = 6;
  const H = 5;
  const data = new Uint8Array(W * H * 3);
  for (let p = 0; p < W * H; p++) data.fill(p % 2 ? 200 : 0, p * 3, p * 3 + 3);
  const img: Image = { data, width: W, height: H, channels: 3 };
  const region = new Uint8Array(W * H);
  for (const p of [8, 9, 14, 15]) region[p] = 1; // a 2x2 block at (2, 1)
  const before = Uint8Array.from(data);
  softenWithin(img, region);
  for (let p = 0; p < W * H; p++) {
    if (region[p]) assert.equal(data[p * 3], 100, `pixel ${p}: the mean of the block's 0, 200, 0, 200`);
    else assert.deepEqual([...data.subarray(p * 3, p * 3 + 3)], [...before.subarray(p * 3, p * 3 + 3)], `pixel ${p} outside the region is untouched`);
  }
  const fwd = [1, 0, 40, 0, 1, 10] as const;
  const probes: [number, number][] = [[10, 10], [20, 10], [10, 20]];
  assert.ok(sameCopy([...fwd], [...fwd], probes));
  assert.ok(sameCopy([1, 0, -40, 0, 1, -10], [...fwd], probes), 'the inverse transform is the same copy');
  assert.ok(!sameCopy([1, 0, 20, 0, 1, 10], [...fwd], probes));
});
