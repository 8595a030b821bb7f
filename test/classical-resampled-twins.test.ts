import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resampledTwinMap } from '../src/lib/classical/resampledTwins';
import { computeEvidence, evidencePlanes, inputChannels } from '../src/lib/evidence/index';
import { ConfigError } from '../src/lib/errors';
import { pasteResampled, texture } from './fixtures/resampled';

const total = (m: Uint8Array) => m.reduce((a, v) => a + v, 0);
/** Share of a footprint's pixels the map marks. */
const covered = (map: Uint8Array, f: Uint8Array) => f.reduce((a, v, p) => a + (v && map[p]), 0) / total(f);
/** Marked pixels further than `d` pixels from every footprint pixel. */
function outside(map: Uint8Array, W: number, H: number, footprints: Uint8Array[], d = 2): number {
  let n = 0;
  for (let p = 0; p < W * H; p++) {
    if (!map[p]) continue;
    const x = p % W;
    const y = (p - x) / W;
    let near = false;
    for (let yy = Math.max(0, y - d); yy <= Math.min(H - 1, y + d) && !near; yy++) {
      for (let xx = Math.max(0, x - d); xx <= Math.min(W - 1, x + d); xx++) if (footprints.some((f) => f[yy * W + xx])) near = true;
    }
    if (!near) n++;
  }
  return n;
}

test('resampled twins: copies turned by odd angles or rescaled mark copy and source, and nothing else', () => {
  const [W, H] = [160, 120];
  const cases: Array<[string, number, number, number]> = [
    ['turned 37 degrees, RGB', 37, 1, 3],
    ['turned 203 degrees, grey', 203, 1, 1],
    ['shrunk to 0.75', 0, 0.75, 3],
    ['enlarged 1.3x and turned 12 degrees, grey', 12, 1.3, 1],
  ];
  for (const [name, degrees, scale, channels] of cases) {
    const img = texture(W, H, `resampled-${name}`, channels);
    assert.equal(total(resampledTwinMap(img)), 0, `${name}: evidence in an untouched image`);
    const { copy, source } = pasteResampled(img, [30, 30], 13, [115, 80], degrees, scale);
    const map = resampledTwinMap(img);
    assert.ok(covered(map, copy) >= 0.85, `${name}: copy covered ${covered(map, copy).toFixed(2)}`);
    assert.ok(covered(map, source) >= 0.85, `${name}: source covered ${covered(map, source).toFixed(2)}`);
    assert.equal(outside(map, W, H, [copy, source]), 0, `${name}: marks away from copy and source`);
  }
});

test('resampled twins: a brightened copy keeps no exact values, and a flat area matches nothing', () => {
  const [W, H] = [160, 120];
  const img = texture(W, H, 'resampled-bright');
  pasteResampled(img, [30, 30], 13, [115, 80], 37, 1, 6);
  assert.equal(total(resampledTwinMap(img)), 0, 'a copy 6 grey levels brighter');
  // two flat squares of one colour equal each other under every turn: not evidence
  const flat = texture(W, H, 'resampled-flat');
  for (const [x0, y0] of [[10, 10], [100, 60]]) {
    for (let y = y0; y < y0 + 40; y++) for (let x = x0; x < x0 + 40; x++) flat.data.set([200, 200, 200], (y * W + x) * 3);
  }
  assert.equal(total(resampledTwinMap(flat)), 0, 'flat squares');
});

test('resampled twins: images smaller than a verification disc give an empty map; bad options name themselves', () => {
  assert.equal(total(resampledTwinMap(texture(12, 40, 'tiny'))), 0);
  const img = texture(40, 40, 'opts');
  assert.throws(() => resampledTwinMap(img, { verifyRadius: 0 }), (e: unknown) => e instanceof ConfigError && /verifyRadius must be an integer >= 1, got 0/.test(e.message));
  assert.throws(() => resampledTwinMap(img, { minScale: 2, maxScale: 1 }), (e: unknown) => e instanceof ConfigError && /minScale < maxScale/.test(e.message));
  assert.throws(() => resampledTwinMap(img, { minAgreement: 1.5 }), (e: unknown) => e instanceof ConfigError && /minAgreement must be in \[0, 1\]/.test(e.message));
});

test('evidence twins-blocks-resampled: three planes, the third the resampled-twin map', () => {
  assert.equal(evidencePlanes('twins-blocks-resampled'), 3);
  assert.equal(inputChannels('twins-blocks-resampled'), 6);
  const img = texture(160, 120, 'resampled-evidence');
  pasteResampled(img, [30, 30], 13, [115, 80], 51, 1);
  const planes = computeEvidence('twins-blocks-resampled', img)!;
  const n = 160 * 120;
  assert.equal(planes.length, 3 * n);
  assert.deepEqual(planes.subarray(0, 2 * n), computeEvidence('twins-blocks', img));
  assert.deepEqual(planes.subarray(2 * n), resampledTwinMap(img));
  assert.ok(total(planes.subarray(2 * n)) > 500);
});
