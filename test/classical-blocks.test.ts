import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BLOCK_DEFAULTS, blockDescriptors, blockDescriptorsAt, blockMatchTransforms, blockTwinMap, SYMMETRIES, symmetricDescriptor } from '../src/lib/classical/blockMatch';
import { exactTwinMap } from '../src/lib/classical/exactTwins';
import { applyAffine } from '../src/lib/classical/ransac';
import type { GrayImage } from '../src/lib/classical/grayscale';
import { detectCopyMove } from '../src/lib/classical/index';
import { resolveParams } from '../src/lib/classical/params';
import { detectionMemo, STAGES, type StageInput, type TransformStage } from '../src/lib/classical/stages';
import { Rng } from '../src/lib/util/random';
import { blobTexture } from './fixtures/texture';
import { SQUARE_SYMMETRIES as SYMS } from './fixtures/symmetries';

/** Smooth random field plus pixel noise, as uint8 grey: textured everywhere, no repeats. */
function field(w: number, h: number, rng: Rng): Uint8Array {
  const f = blobTexture(w, h, rng, { base: 120, areaPerBlob: 200, maxRadius: 14, amplitude: 50, noise: 3 });
  return Uint8Array.from(f, (v) => Math.max(0, Math.min(255, Math.round(v))));
}

test('the descriptor of a mirrored or turned block is the signed permutation the matcher uses (all 8 symmetries)', () => {
  const rng = new Rng('blocks-perm');
  const base = field(8, 8, rng);
  const dOf = (data: Uint8Array) => Array.from(blockDescriptors({ data, width: 8, height: 8 }, 0.1).codes);
  const desc = dOf(base);
  SYMMETRIES.forEach(({ t, fx, fy }, d) => {
    // block_d(x, y) = block(phi_d(x, y)): transpose, then flip x, then flip y.
    const turned = new Uint8Array(64);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) {
      let [u, v] = t ? [y, x] : [x, y];
      if (fx) u = 7 - u;
      if (fy) v = 7 - v;
      turned[y * 8 + x] = base[v * 8 + u];
    }
    assert.deepEqual(symmetricDescriptor(desc, d), dOf(turned), `symmetry ${d}`);
  });
});

test('a copy under each of the 8 symmetries is found with the exact transform; an untouched image gives none', () => {
  const W = 160;
  const H = 120;
  const s = 28;
  const [sx0, sy0, cx0, cy0] = [14, 20, 104, 70];
  SYMS.forEach((sym, k) => {
    const rng = new Rng(`blocks-sym-${k}`);
    const data = field(W, H, rng);
    const clean: GrayImage = { data: data.slice(), width: W, height: H };
    assert.equal(blockMatchTransforms(clean, BLOCK_DEFAULTS, 16).length, 0, `symmetry ${k}: false transform in an untouched image`);
    for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) {
      const [u, v] = sym(x, y, s);
      data[(cy0 + y) * W + cx0 + x] = data[(sy0 + v) * W + sx0 + u];
    }
    const found = blockMatchTransforms({ data, width: W, height: H }, BLOCK_DEFAULTS, 16);
    assert.ok(found.length >= 1, `symmetry ${k}: nothing found`);
    // Some transform (either direction) maps every source pixel onto the copy pixel it was written to.
    const maps = found.some((t) => {
      for (const [x, y] of [[0, 0], [s - 1, 0], [3, s - 5], [s - 1, s - 1]]) {
        const [u, v] = sym(x, y, s);
        const src: [number, number] = [sx0 + u, sy0 + v];
        const dst: [number, number] = [cx0 + x, cy0 + y];
        const a = applyAffine(t.affine, ...src);
        const b = applyAffine(t.affine, ...dst);
        const fwd = Math.abs(a[0] - dst[0]) < 1e-9 && Math.abs(a[1] - dst[1]) < 1e-9;
        const back = Math.abs(b[0] - src[0]) < 1e-9 && Math.abs(b[1] - src[1]) < 1e-9;
        if (!fwd && !back) return false;
      }
      return true;
    });
    assert.ok(maps, `symmetry ${k}: no transform maps the source onto the copy: ${found.map((t) => t.affine.join(',')).join(' | ')}`);
    assert.equal(found[0].flipped, k === 1 || k === 2 || k === 4 || k === 7, `symmetry ${k}: mirror flag`);
  });
});

test('the detector finds a brightness-shifted mirrored copy of a smooth band (few corners) thanks to block matching', async () => {
  const rng = new Rng('blocks-detect');
  const W = 200;
  const H = 140;
  const g = field(W, H, rng);
  // A soft horizontal band: smooth, hardly any keypoints.
  for (let y = 0; y < 16; y++) for (let x = 0; x < 44; x++) {
    const v = 70 * Math.exp(-(((y - 7.5) / 5) ** 2)) * Math.min(1, x / 6, (43 - x) / 6);
    g[(30 + y) * W + 20 + x] = Math.max(0, g[(30 + y) * W + 20 + x] - v);
  }
  // Its mirror image, 12 levels brighter, pasted lower right.
  for (let y = 0; y < 16; y++) for (let x = 0; x < 44; x++) g[(100 + y) * W + 130 + x] = Math.min(255, g[(30 + y) * W + 20 + 43 - x] + 12);
  const rgb = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = g[i];
  const image = { data: rgb, width: W, height: H, channels: 3 };
  const hit = (d: Awaited<ReturnType<typeof detectCopyMove>>) => {
    let inCopy = 0;
    for (let k = 0; k < d.instances.count; k++) for (let y = 100; y < 116; y++) for (let x = 130; x < 174; x++) inCopy += d.instances.data[k * W * H + y * W + x];
    return inCopy / (16 * 44);
  };
  const withBlocks = await detectCopyMove(image);
  const keypointsOnly = await detectCopyMove(image, { blockMatching: false });
  assert.ok(hit(withBlocks) > 0.6, `copy coverage ${hit(withBlocks).toFixed(2)}`);
  assert.ok(hit(keypointsOnly) < 0.3, `keypoints alone already cover ${hit(keypointsOnly).toFixed(2)}: the test no longer shows what blocks add`);
  assert.ok(withBlocks.debug.timings.blocks >= 0);
});

test('a mirror-symmetric object is not taken for a copy of itself (source and copy would touch)', async () => {
  const rng = new Rng('blocks-symmetric');
  const W = 180;
  const H = 140;
  const g = field(W, H, rng);
  // Left half of a 48x36 object drawn at random, right half its mirror image: one symmetric object.
  const [x0, y0, w, h] = [60, 50, 48, 36];
  for (let y = 0; y < h; y++) for (let x = 0; x < w / 2; x++) g[(y0 + y) * W + x0 + w - 1 - x] = g[(y0 + y) * W + x0 + x];
  const rgb = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = g[i];
  const d = await detectCopyMove({ data: rgb, width: W, height: H, channels: 3 });
  assert.equal(d.instances.count, 0, `flagged: ${d.debug.candidates.map((c) => `${c.affine.join(',')} ${c.reason ?? 'accepted'}`).join(' | ')}`);
  assert.ok(d.debug.candidates.some((c) => /touch/.test(c.reason ?? '')), 'the mirror transform was never considered');
});

test('a large image is matched at reduced size and the transform comes back in full-resolution pixels', () => {
  const rng = new Rng('blocks-large');
  const W = 1100;
  const H = 620; // above the pixel budget: matched at half size
  const small = field(W / 2, H / 2, rng);
  const data = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[y * W + x] = small[(y >> 1) * (W / 2) + (x >> 1)];
  // A 120x90 region mirrored left-right and pasted at (700, 400).
  for (let y = 0; y < 90; y++) for (let x = 0; x < 120; x++) data[(400 + y) * W + 700 + x] = data[(100 + y) * W + 100 + 119 - x];
  const found = blockMatchTransforms({ data, width: W, height: H }, BLOCK_DEFAULTS, 16);
  const ok = found.some((t) => {
    for (const [x, y] of [[100, 100], [219, 100], [150, 189]]) {
      const [u, v] = applyAffine(t.affine, x, y);
      const want = [700 + 119 - (x - 100), 400 + (y - 100)];
      const [bu, bv] = applyAffine(t.affine, want[0], want[1]);
      if (!((Math.abs(u - want[0]) <= 2 && Math.abs(v - want[1]) <= 2) || (Math.abs(bu - x) <= 2 && Math.abs(bv - y) <= 2))) return false;
    }
    return true;
  });
  assert.ok(ok, `no transform maps the source onto the copy: ${found.map((t) => t.affine.join(',')).join(' | ')}`);
});

test('blockTwinMap marks a brightness-shifted, mirrored copy and its source, which exact twins cannot see', () => {
  const [W, H, s] = [180, 130, 32];
  const data = field(W, H, new Rng('blocks-map'));
  const clean = { data: data.slice(), width: W, height: H };
  assert.equal(blockTwinMap(clean, BLOCK_DEFAULTS, 16).reduce((a, v) => a + v, 0), 0, 'evidence in an untouched image');
  // a vertical mirror, 9 grey levels brighter
  for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) data[(80 + y) * W + 130 + x] = Math.min(255, data[(10 + s - 1 - y) * W + 12 + x] + 9);
  const map = blockTwinMap({ data, width: W, height: H }, BLOCK_DEFAULTS, 16);
  const inside = (x0: number, y0: number) => {
    let n = 0;
    for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) n += map[(y0 + y) * W + x0 + x];
    return n / (s * s);
  };
  assert.ok(inside(12, 10) > 0.9, `source covered ${inside(12, 10)}`);
  assert.ok(inside(130, 80) > 0.9, `copy covered ${inside(130, 80)}`);
  const outside = map.reduce((a, v) => a + v, 0) - (inside(12, 10) + inside(130, 80)) * s * s;
  assert.ok(outside <= 0.05 * 2 * s * s, `${outside} pixels marked outside source and copy`);
  const rgb = { data: Uint8Array.from({ length: W * H * 3 }, (_, i) => data[Math.floor(i / 3)]), width: W, height: H, channels: 3 };
  assert.equal(exactTwinMap(rgb).reduce((a, v) => a + v, 0), 0, 'not pixel-exact: exact twins see nothing');
});

test('blockDescriptorsAt: several quantisations in one pass give each one exactly as alone (the block and near-block stages share them)', () => {
  const rng = new Rng('blocks-at');
  const g: GrayImage = { data: field(61, 47, rng), width: 61, height: 47 };
  const [coarse, fine] = blockDescriptorsAt(g, [BLOCK_DEFAULTS.blockQuant, 1]);
  assert.deepEqual(coarse, blockDescriptors(g, BLOCK_DEFAULTS.blockQuant));
  assert.deepEqual(fine, blockDescriptors(g, 1));
  assert.equal(fine.codes.length, (61 - 7) * (47 - 7) * 15);
  assert.deepEqual(blockDescriptorsAt({ data: new Uint8Array(20), width: 5, height: 4 }, [1, 2]), [0, 1].map(() => ({ codes: new Int16Array(0), cols: 0, rows: 0 })));
});

test('one detection computes the block descriptors once: the block and near-block stages share one pass', () => {
  const rng = new Rng('blocks-memo');
  const g: GrayImage = { data: field(200, 150, rng), width: 200, height: 150 };
  for (let y = 0; y < 40; y++) for (let x = 0; x < 40; x++) g.data[(90 + y) * 200 + 140 + x] = g.data[(10 + y) * 200 + 20 + x];
  const calls: string[] = [];
  const memo = detectionMemo();
  const counted = <T>(key: string, compute: () => T): T => memo(key, () => (calls.push(key), compute()));
  const input = { native: g, scale: 1, p: resolveParams({}), lap: () => {}, memo: counted } as unknown as StageInput;
  const alone = ['blocks', 'near'].map((name) => {
    const stage = STAGES.find((s) => s.name === name)!;
    assert.equal(stage.kind, 'transforms');
    return (stage as TransformStage).propose(input);
  });
  assert.deepEqual(calls, ['block-codes:200x150:4,1']);
  // the block stage proposes what it proposes with descriptors of its own
  assert.ok(alone[0].transforms.length > 0 && alone[1].transforms.length > 0, 'both stages find the pasted copy');
  assert.deepEqual(alone[0].transforms, blockMatchTransforms(g, input.p, input.p.minDistance).map((t) => ({ ...t })));
});
