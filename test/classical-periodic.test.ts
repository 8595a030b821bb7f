import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GrayImage } from '../src/lib/classical/grayscale';
import { detectCopyMove } from '../src/lib/classical/index';
import { findLattice, latticeBreaks, periodicBreakRegions } from '../src/lib/classical/periodicBreaks';
import { ConfigError } from '../src/lib/errors';
import { Rng } from '../src/lib/util/random';
import { blobTexture } from './fixtures/texture';
import { renderCheckerboard } from '../src/lib/data/synth/checkerboard';
import { pasteTurned } from '../src/lib/data/synth/turnedPaste';

const W = 240;
const H = 200;
const SQUARE = 20;

/** The board every test here starts from. */
const checkerboard = (): GrayImage => renderCheckerboard(W, H, SQUARE);

const rgb = (g: GrayImage) => {
  const data = new Uint8Array(g.width * g.height * 3);
  for (let i = 0; i < g.width * g.height; i++) data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = g.data[i];
  return { data, width: g.width, height: g.height, channels: 3 };
};

/** Share of `mask` that `found` covers, and share of `found` inside `mask`. */
function overlap(found: Uint8Array, mask: Uint8Array): { recall: number; precision: number } {
  let both = 0;
  let inMask = 0;
  let inFound = 0;
  for (let p = 0; p < mask.length; p++) {
    both += found[p] & mask[p];
    inMask += mask[p];
    inFound += found[p];
  }
  return { recall: both / inMask, precision: inFound ? both / inFound : 0 };
}

test('the lattice of a checkerboard is its two shortest repeats, the diagonals; an untouched board has no breaks inside', () => {
  const g = checkerboard();
  const lattice = findLattice(g);
  assert.ok(lattice, 'no lattice found in a checkerboard');
  const lengths = [lattice.v1, lattice.v2].map(([dx, dy]) => Math.hypot(dx, dy));
  assert.deepEqual(lengths.map((l) => Math.round(l * 100) / 100), [Math.hypot(SQUARE, SQUARE), Math.hypot(SQUARE, SQUARE)].map((l) => Math.round(l * 100) / 100));
  assert.notEqual(lattice.v1[0] * lattice.v2[1] - lattice.v1[1] * lattice.v2[0], 0, 'the two vectors are parallel');
  const { pairs } = periodicBreakRegions(g);
  assert.equal(pairs.length, 0, 'regions found on an untouched checkerboard');
  const breaks = latticeBreaks(g, lattice);
  assert.equal(breaks.reduce((s, v) => s + v, 0), 0, 'an exactly periodic board breaks nowhere');
});

test('a disc pasted off the lattice, as is or turned, is one region, the copy alone', () => {
  for (const degrees of [0, 35]) {
    const g = checkerboard();
    // source and copy 13 and 7 px off each other's lattice position
    const mask = pasteTurned(g, 62, 58, 155, 125, 16, degrees);
    const { pairs, map, lattice } = periodicBreakRegions(g);
    assert.ok(lattice, `turn ${degrees}: the paste hid the lattice`);
    assert.equal(pairs.length, 1, `turn ${degrees}: ${pairs.length} regions`);
    assert.equal(pairs[0].source.length, 0, 'a source was named: any lattice twin of the copy would do');
    const { recall, precision } = overlap(map, mask);
    assert.ok(recall > 0.6 && precision > 0.8, `turn ${degrees}: recall ${recall.toFixed(2)}, precision ${precision.toFixed(2)}`);
  }
});

test('a copy pasted onto the lattice (a whole period away) leaves the pattern as it was: nothing to find', () => {
  const g = checkerboard();
  pasteTurned(g, 60, 60, 60 + 2 * SQUARE, 60 + 2 * SQUARE, 15, 0);
  assert.equal(periodicBreakRegions(g).pairs.length, 0);
});

test('no lattice in a texture, in stripes (periodic one way only) or in a flat figure', () => {
  const f = blobTexture(W, H, new Rng('periodic-texture'), { base: 120, areaPerBlob: 120, maxRadius: 9, amplitude: 60, noise: 5 });
  const texture = { data: Uint8Array.from(f, (v) => Math.max(0, Math.min(255, Math.round(v)))), width: W, height: H };
  assert.equal(findLattice(texture), null, 'texture');
  const stripes = { data: Uint8Array.from({ length: W * H }, (_, p) => ((p % W) % 16 < 8 ? 200 : 40)), width: W, height: H };
  assert.equal(findLattice(stripes), null, 'stripes');
  assert.equal(findLattice({ data: new Uint8Array(W * H).fill(90), width: W, height: H }), null, 'flat');
});

test('the detector reports a break of a checkerboard as one event (on by default), and nothing on the untouched board', async () => {
  const g = checkerboard();
  assert.equal((await detectCopyMove(rgb(g))).instances.count, 0, 'events on an untouched checkerboard');
  const mask = pasteTurned(g, 62, 58, 155, 125, 16, 35);
  const found = await detectCopyMove(rgb(g));
  assert.equal(found.instances.count, 1, `${found.instances.count} events: ${found.notes.join('; ')}`);
  assert.ok(overlap(found.instances.data.subarray(0, W * H), mask).recall > 0.6);
  assert.ok(found.notes.some((n) => n.startsWith('periodic breaks: 0 joined a found event, 1 added')), found.notes.join('; '));
  assert.equal((await detectCopyMove(rgb(g), { periodicBreaks: false })).instances.count, 0, 'without the stage the gate leaves nothing: the test no longer shows what it adds');
});

test('periodic breaks reject bad options by name', () => {
  const g = checkerboard();
  assert.throws(() => periodicBreakRegions(g, { minAgreement: 1.5 }), (e: Error) => e instanceof ConfigError && /minAgreement/.test(e.message));
  assert.throws(() => periodicBreakRegions(g, { samples: 3 }), (e: Error) => e instanceof ConfigError && /samples/.test(e.message));
  assert.throws(() => periodicBreakRegions(g, { tolerance: Number.NaN }), (e: Error) => e instanceof ConfigError && /tolerance/.test(e.message));
});
