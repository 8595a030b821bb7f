import { test } from 'node:test';
import assert from 'node:assert/strict';
import { denseMatchTransforms, rankFeatures, sortByCode } from '../src/lib/classical/denseMatch';
import type { GrayImage } from '../src/lib/classical/grayscale';
import { detectCopyMove } from '../src/lib/classical/index';
import { resolveParams } from '../src/lib/classical/params';
import { applyAffine, singularValues } from '../src/lib/classical/ransac';
import { ConfigError } from '../src/lib/errors';
import { Rng } from '../src/lib/util/random';
import { blobTexture } from './fixtures/texture';
import { pasteTurned } from '../src/lib/data/synth/turnedPaste';

/** Blobby micrograph-like grey texture with pixel noise: no repeats of its own. */
function field(w: number, h: number, seed: string): GrayImage {
  const f = blobTexture(w, h, new Rng(seed), { base: 120, areaPerBlob: 120, maxRadius: 9, amplitude: 60, noise: 5 });
  return { data: Uint8Array.from(f, (v) => Math.max(0, Math.min(255, Math.round(v)))), width: w, height: h };
}

const rgb = (g: GrayImage) => {
  const data = new Uint8Array(g.width * g.height * 3);
  for (let i = 0; i < g.width * g.height; i++) data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = g.data[i];
  return { data, width: g.width, height: g.height, channels: 3 };
};

test('rank features do not change when the image turns by a quarter or mirrors; flat discs carry none', () => {
  const W = 40;
  const H = 30;
  const g = field(W, H, 'rank-invariance');
  // the image turned by 90 degrees: (x, y) -> (H-1-y, x), and mirrored: (x, y) -> (W-1-x, y)
  const turned: GrayImage = { data: new Uint8Array(W * H), width: H, height: W };
  const mirrored: GrayImage = { data: new Uint8Array(W * H), width: W, height: H };
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      turned.data[x * H + (H - 1 - y)] = g.data[y * W + x];
      mirrored.data[y * W + (W - 1 - x)] = g.data[y * W + x];
    }
  }
  const f = rankFeatures(g);
  const ft = rankFeatures(turned);
  const fm = rankFeatures(mirrored);
  let compared = 0;
  for (let y = 5; y < H - 5; y++) {
    for (let x = 5; x < W - 5; x++) {
      const p = y * W + x;
      assert.equal(f.valid[p], 1);
      const pt = x * H + (H - 1 - y);
      const pm = y * W + (W - 1 - x);
      for (let k = 0; k < f.dims; k++) {
        assert.equal(ft.data[pt * f.dims + k], f.data[p * f.dims + k], `turned, pixel (${x}, ${y}), feature ${k}`);
        assert.equal(fm.data[pm * f.dims + k], f.data[p * f.dims + k], `mirrored, pixel (${x}, ${y}), feature ${k}`);
      }
      compared++;
    }
  }
  assert.equal(compared, 30 * 20);
  const flat = rankFeatures({ data: new Uint8Array(400).fill(200), width: 20, height: 20 });
  assert.equal(flat.valid.reduce((a, v) => a + v, 0), 0, 'a flat image has no valid discs');
});

test('dense matching proposes a copy turned by an odd angle with the right transform, a similarity', () => {
  const W = 160;
  const H = 128;
  for (const degrees of [33, 141]) {
    const g = field(W, H, `dense-turn-${degrees}`);
    const [sx, sy, cx, cy, r] = [40, 40, 115, 80, 17];
    pasteTurned(g, sx, sy, cx, cy, r, degrees);
    const found = denseMatchTransforms(g);
    // the transform maps one disc onto the other (either direction) as a turn by +-degrees
    const hit = found.find((t) => {
      const [x, y] = applyAffine(t.affine, sx, sy);
      const [u, v] = applyAffine(t.affine, cx, cy);
      return Math.hypot(x - cx, y - cy) < 3 || Math.hypot(u - sx, v - sy) < 3;
    });
    assert.ok(hit, `turn by ${degrees}: no proposal maps source and copy (${found.length} proposals)`);
    const [s0, s1] = singularValues(hit.affine);
    assert.ok(Math.abs(s0 - 1) < 0.08 && Math.abs(s1 - 1) < 0.08, `scale ${s0.toFixed(2)}, ${s1.toFixed(2)}`);
    const angle = Math.abs((Math.atan2(hit.affine[3], hit.affine[0]) * 180) / Math.PI);
    assert.ok(Math.abs(angle - Math.min(degrees, 360 - degrees)) < 4, `turn by ${degrees}: fitted ${angle.toFixed(1)} degrees`);
    assert.ok(hit.inliers >= 100, `inliers ${hit.inliers}`);
    // a similarity, no shear: the linear part is a scaled rotation (or, mirrored, a scaled reflection)
    const [a, b, , c, d] = hit.affine;
    assert.ok(hit.flipped ? Math.abs(a + d) < 1e-9 && Math.abs(b - c) < 1e-9 : Math.abs(a - d) < 1e-9 && Math.abs(b + c) < 1e-9, `not a similarity: ${hit.affine.join(', ')}`);
  }
});

test('the detector finds a small turned copy that keypoints miss with dense matching (on by default), and with resampled twins on (off by default); an untouched texture stays clean', async () => {
  const W = 160;
  const H = 128;
  const g = field(W, H, 'dense-detect-b');
  // the gate open: this test is about what each proposal stage finds, not about the image-level gate
  const noTwins = { resampledTwins: false, denseMatching: false, minEventScore: 0, maxEventShare: 1 };
  const clean = await detectCopyMove(rgb(g), { ...noTwins, denseMatching: true });
  assert.equal(clean.instances.count, 0, 'copies found in an untouched texture');
  assert.equal((await detectCopyMove(rgb(g))).instances.count, 0, 'copies found in an untouched texture with the defaults');
  const mask = pasteTurned(g, 40, 44, 112, 78, 14, 57);
  const coverage = (d: Awaited<ReturnType<typeof detectCopyMove>>) => {
    let inCopy = 0;
    let copyArea = 0;
    for (let p = 0; p < W * H; p++) {
      copyArea += mask[p];
      let any = 0;
      for (let k = 0; k < d.instances.count; k++) any |= d.instances.data[k * W * H + p];
      inCopy += any & mask[p];
    }
    return inCopy / copyArea;
  };
  const withDense = await detectCopyMove(rgb(g), { ...noTwins, denseMatching: true });
  const without = await detectCopyMove(rgb(g), noTwins);
  assert.ok(coverage(withDense) > 0.6, `copy coverage ${coverage(withDense).toFixed(2)}`);
  assert.ok(coverage(without) < 0.3, `keypoints and blocks already cover ${coverage(without).toFixed(2)}: the test no longer shows what dense matching adds`);
  assert.ok(withDense.debug.timings.dense >= 0, 'the dense stage ran');
  // the copy was turned with nearest-neighbour sampling: resampled twins (opt-in) mark it pixel for pixel
  const twins = await detectCopyMove(rgb(g), { ...noTwins, resampledTwins: true });
  assert.ok((await detectCopyMove(rgb(g))).debug.timings.dense >= 0, 'dense matching is on by default');
  assert.ok(coverage(twins) > 0.85, `resampled twins cover ${coverage(twins).toFixed(2)} of the copy`);
  assert.ok(twins.debug.timings.resampled >= 0, 'the resampled-twin stage ran');
  assert.equal(twins.instances.count, twins.scores.length, 'one score per instance');
  assert.equal((await detectCopyMove(rgb(g))).debug.timings.resampled, undefined, 'resampled twins are off by default');
});

test('gate: a turned copy with noise of its own, verified below minEventScore, passes from denseMinScore when its detail peaks; with the lower gate off it is dropped', async () => {
  const W = 256;
  const H = 192;
  const g = field(W, H, 'dense-gate-57');
  const mask = pasteTurned(g, 50, 50, 180, 120, 22, 57);
  // the editor's noise on the copy (sigma 3) takes its mean ZNCC to ~0.9; its grain still peaks at the transform
  const rng = new Rng('dense-gate-noise');
  for (let p = 0; p < W * H; p++) if (mask[p]) g.data[p] = Math.max(0, Math.min(255, Math.round(g.data[p] + rng.normal(0, 3))));
  // few keypoints: the copy is proposed by dense matching alone
  const opts = { maxKeypoints: 8 };
  const found = await detectCopyMove(rgb(g), opts);
  assert.equal(found.instances.count, 1, found.notes.join('; '));
  assert.ok(found.scores[0] < resolveParams({}).minEventScore, `the event scores ${found.scores[0]}: not below minEventScore, so this test does not show the lower gate`);
  assert.ok(found.notes.some((n) => n.includes('kept (peaked dense copy)')), found.notes.join('; '));
  const dense = found.debug.candidates.filter((c) => c.accepted && c.stage === 'dense');
  assert.ok(dense.length > 0 && dense.every((c) => c.detailDrop! >= resolveParams({}).denseMinDrop), 'the dense copy peaks at its transform');
  const strict = await detectCopyMove(rgb(g), { ...opts, denseMinScore: 0.95 });
  assert.equal(strict.instances.count, 0, strict.notes.join('; '));
  assert.ok(strict.notes.some((n) => n.includes('scoring below minEventScore')), strict.notes.join('; '));
});

test('a large image is matched at reduced size and the transform comes back in full-resolution pixels', () => {
  const W = 720;
  const H = 560; // 403,200 px: over the budget, matched at half size
  const g = field(W, H, 'dense-large');
  pasteTurned(g, 150, 150, 520, 380, 60, 30);
  const hit = denseMatchTransforms(g).find((t) => {
    const [x, y] = applyAffine(t.affine, 150, 150);
    const [u, v] = applyAffine(t.affine, 520, 380);
    return Math.hypot(x - 520, y - 380) < 6 || Math.hypot(u - 150, v - 150) < 6;
  });
  assert.ok(hit, 'no full-resolution transform between source and copy');
  // its point pairs lie on the full-resolution discs (radius 60), one end on each, and span them
  const onDisc = (x: number, y: number, cx: number, cy: number) => Math.hypot(x - cx, y - cy) <= 62;
  let spread = 0;
  for (let k = 0; k < hit.src.length; k += 2) {
    const [x, y, u, v] = [hit.src[k], hit.src[k + 1], hit.dst[k], hit.dst[k + 1]];
    assert.ok((onDisc(x, y, 150, 150) && onDisc(u, v, 520, 380)) || (onDisc(x, y, 520, 380) && onDisc(u, v, 150, 150)), `pair (${x}, ${y}) -> (${u}, ${v}) is off the discs`);
    spread = Math.max(spread, Math.abs(x - hit.src[0]), Math.abs(y - hit.src[1]));
  }
  assert.ok(spread > 40, `points span ${spread} px: not full-resolution pixels`);
});

test('dense matching rejects bad options by name', () => {
  const g = field(32, 32, 'dense-options');
  assert.throws(() => denseMatchTransforms(g, { radius: 0 }), (e: Error) => e instanceof ConfigError && /radius/.test(e.message));
  assert.throws(() => denseMatchTransforms(g, { iterations: 1.5 }), (e: Error) => e instanceof ConfigError && /iterations/.test(e.message));
  assert.throws(() => denseMatchTransforms(g, { minArea: Number.NaN }), (e: Error) => e instanceof ConfigError && /minArea/.test(e.message));
  assert.deepEqual(denseMatchTransforms({ data: new Uint8Array(64), width: 8, height: 8 }), [], 'an image smaller than a disc has no proposals');
});

test('rank features (sliding histograms) equal the quantiles of each disc sorted from scratch', () => {
  const rng = new Rng('rank-reference');
  for (const [W, H, r, minContrast] of [[41, 33, 4, 4], [30, 37, 3, 1.5], [52, 45, 5, 0]] as const) {
    // half noise, half a narrow band of grey levels: ties, flat discs and busy ones
    const data = Uint8Array.from({ length: W * H }, (_, i) => (i % 7 < 3 ? rng.int(0, 255) : rng.int(100, 108)));
    const f = rankFeatures({ data, width: W, height: H }, r, minContrast);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const p = y * W + x;
        const inside = x >= r && y >= r && x < W - r && y < H - r;
        const outer: number[] = [];
        const inner: number[] = [];
        if (inside) {
          for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) {
            const d2 = dx * dx + dy * dy;
            if (d2 <= r * r + r) outer.push(data[p + dy * W + dx]);
            if (d2 <= (r * r) / 4 + r / 2) inner.push(data[p + dy * W + dx]);
          }
        }
        const mean = outer.reduce((a, v) => a + v, 0) / outer.length;
        const variance = outer.reduce((a, v) => a + v * v, 0) / outer.length - mean * mean;
        const expectValid = inside && variance >= minContrast * minContrast;
        assert.equal(f.valid[p], expectValid ? 1 : 0, `valid at (${x}, ${y}), r ${r}`);
        if (!expectValid) continue;
        outer.sort((a, b) => a - b);
        inner.sort((a, b) => a - b);
        const want = [
          ...Array.from({ length: 9 }, (_, q) => outer[Math.floor(((q + 0.5) / 9) * outer.length)]),
          ...Array.from({ length: 5 }, (_, q) => inner[Math.floor(((q + 0.5) / 5) * inner.length)]),
        ];
        assert.deepEqual(Array.from(f.data.subarray(p * f.dims, (p + 1) * f.dims)), want, `features at (${x}, ${y}), r ${r}`);
      }
    }
  }
});

test('the radix sort of hash codes orders by unsigned code, equal codes by index, as a comparison sort does', () => {
  const rng = new Rng('radix-codes');
  for (const n of [0, 1, 7, 1000, 5003]) {
    // few distinct codes (long runs of ties), negative ones (unsigned order) and the extremes
    const pool = [0, 1, -1, 0x7fffffff, -0x80000000, ...Array.from({ length: 20 }, () => rng.int(-0x80000000, 0x7fffffff))];
    const codes = Int32Array.from({ length: n }, () => pool[rng.int(0, pool.length - 1)]);
    const order = new Int32Array(n);
    sortByCode(codes, order, new Int32Array(n));
    const want = Array.from({ length: n }, (_, i) => i).sort((a, b) => (codes[a] >>> 0) - (codes[b] >>> 0) || a - b);
    assert.deepEqual(Array.from(order), want, `n ${n}`);
  }
});
