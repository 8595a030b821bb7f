import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GrayImage } from '../src/lib/classical/grayscale';
import type { Affine } from '../src/lib/classical/geometry';
import { resolveParams } from '../src/lib/classical/params';
import { refineAffine } from '../src/lib/classical/refineAffine';
import { refineVerified } from '../src/lib/classical/refineCopy';
import { imageWindows, verifyCopy } from '../src/lib/classical/verify';
import { Rng } from '../src/lib/util/random';
import { blobTexture } from './fixtures/texture';
import { pasteInterpolated } from './fixtures/resampled';

function field(w: number, h: number, seed: string): GrayImage {
  const f = blobTexture(w, h, new Rng(seed), { base: 120, areaPerBlob: 60, maxRadius: 6, amplitude: 60, noise: 6 });
  return { data: Uint8Array.from(f, (v) => Math.max(0, Math.min(255, Math.round(v)))), width: w, height: h };
}

/** The furthest any corner of the box (x0, y0)-(x1, y1) lands apart under a and b. */
function cornerError(a: Affine, b: Affine, x0: number, y0: number, x1: number, y1: number): number {
  let m = 0;
  for (const [x, y] of [[x0, y0], [x1, y0], [x0, y1], [x1, y1]]) {
    m = Math.max(m, Math.hypot(a[0] * x + a[1] * y + a[2] - (b[0] * x + b[1] * y + b[2]), a[3] * x + a[4] * y + a[5] - (b[3] * x + b[4] * y + b[5])));
  }
  return m;
}

test('refineAffine: a keypoint fit 0.7 px off a rotated, rescaled, bilinear copy is brought to within 0.25 px, and verification agrees more', () => {
  const g = field(260, 200, 'refine-affine');
  const [sx, sy, r] = [60, 70, 34];
  const t = (22 * Math.PI) / 180;
  const s = 1.15;
  // source centre (60, 70) -> copy centre (185, 120)
  const lin = [s * Math.cos(t), -s * Math.sin(t), s * Math.sin(t), s * Math.cos(t)];
  const truth: Affine = [lin[0], lin[1], 185 - lin[0] * sx - lin[1] * sy, lin[2], lin[3], 120 - lin[2] * sx - lin[3] * sy];
  const source = pasteInterpolated(g, truth, sx, sy, r);
  // what RANSAC on keypoints might give: slightly off in rotation, scale and position
  const off: Affine = [truth[0] * 1.006, truth[1] - 0.004, truth[2] + 0.45, truth[3] + 0.004, truth[4] * 0.995, truth[5] - 0.35];
  const box = [sx - r, sy - r, sx + r, sy + r] as const;
  assert.ok(cornerError(off, truth, ...box) > 0.7, 'the start should be off by more than 0.7 px');
  const refined = refineAffine(g, off, source);
  assert.ok(refined, 'refinement failed');
  assert.ok(cornerError(refined, truth, ...box) < 0.25, `refined transform still ${cornerError(refined, truth, ...box).toFixed(3)} px off`);

  const p = resolveParams({});
  const inliers = new Float32Array([sx - 10, sy, sx + 10, sy + 5, sx, sy - 12]);
  const mapped = new Float32Array(6);
  for (let k = 0; k < 6; k += 2) {
    mapped[k] = truth[0] * inliers[k] + truth[1] * inliers[k + 1] + truth[2];
    mapped[k + 1] = truth[3] * inliers[k] + truth[4] * inliers[k + 1] + truth[5];
  }
  const base = { src: inliers, dst: mapped, inliers: 3, cluster: 0, flipped: false };
  const before = verifyCopy(g, { ...base, affine: off }, p);
  const after = verifyCopy(g, { ...base, affine: refined }, p);
  assert.ok(after.meanZncc > before.meanZncc + 0.03, `mean ZNCC ${before.meanZncc.toFixed(3)} -> ${after.meanZncc.toFixed(3)}`);
  // as well as the true transform itself does (the bilinear copy is not its source exactly)
  const exact = verifyCopy(g, { ...base, affine: truth }, p);
  assert.ok(after.meanZncc > exact.meanZncc - 0.01, `refined mean ZNCC ${after.meanZncc.toFixed(3)}, the true transform's ${exact.meanZncc.toFixed(3)}`);
  assert.ok(after.support > 0.95, `refined support ${after.support.toFixed(3)}`);
});

test('refineAffine: a region too small to fit, or a start with nothing to lock on to, gives null or stays within maxShift', () => {
  const g = field(120, 100, 'refine-none');
  const tiny = new Uint8Array(120 * 100);
  for (let y = 40; y < 45; y++) for (let x = 40; x < 45; x++) tiny[y * 120 + x] = 1;
  assert.equal(refineAffine(g, [1, 0, 40, 0, 1, 10], tiny), null);
  // an untouched image: whatever Gauss-Newton does, it may not wander further than maxShift
  const region = new Uint8Array(120 * 100);
  for (let y = 20; y < 50; y++) for (let x = 10; x < 40; x++) region[y * 120 + x] = 1;
  const start: Affine = [1, 0, 60, 0, 1, 30];
  const out = refineAffine(g, start, region, { maxShift: 2 });
  if (out) assert.ok(cornerError(out, start, 10, 20, 39, 49) <= 2 + 1e-9);
});

test('refineVerified: a copy turned by an odd angle and interpolated verifies from its own side (copy onto source) far better', () => {
  // grainy texture: the editor's bilinear interpolation softens the copy, so windows over the sharp
  // source compare it with a twice-softened copy, windows over the copy with a once-softened source
  const f = blobTexture(600, 520, new Rng('two-way'), { base: 120, areaPerBlob: 60, maxRadius: 6, amplitude: 60, noise: 20 });
  const g: GrayImage = { data: Uint8Array.from(f, (v) => Math.max(0, Math.min(255, Math.round(v)))), width: 600, height: 520 };
  const [sx, sy, r] = [150, 150, 36];
  const t = (37 * Math.PI) / 180;
  const lin = [Math.cos(t), -Math.sin(t), Math.sin(t), Math.cos(t)];
  const truth: Affine = [lin[0], lin[1], 420 - lin[0] * sx - lin[1] * sy, lin[2], lin[3], 330 - lin[2] * sx - lin[3] * sy];
  pasteInterpolated(g, truth, sx, sy, r);
  const p = resolveParams({});
  const windows = imageWindows(g, p);
  const src = new Float32Array([sx - 15, sy, sx + 15, sy + 8, sx, sy - 15, sx + 5, sy + 15]);
  const dst = src.map((_, k) => (k % 2 === 0 ? truth[0] * src[k] + truth[1] * src[k + 1] + truth[2] : truth[3] * src[k - 1] + truth[4] * src[k] + truth[5]));
  const forward = { affine: truth, src, dst, inliers: 4, cluster: 0, flipped: false };
  const v = verifyCopy(g, forward, p, windows);
  assert.ok(v.meanZncc > 0.6 && v.meanZncc < 0.93, `source onto copy verifies at ${v.meanZncc.toFixed(3)}`);
  const best = refineVerified(g, windows, { t: forward, v }, p, 100);
  assert.ok(best.v.meanZncc > 0.97, `best verification ${best.v.meanZncc.toFixed(3)} (source onto copy ${v.meanZncc.toFixed(3)})`);
  const [x, y] = [best.t.affine[0] * 420 + best.t.affine[1] * 330 + best.t.affine[2], best.t.affine[3] * 420 + best.t.affine[4] * 330 + best.t.affine[5]];
  assert.ok(Math.hypot(x - sx, y - sy) < 1, 'the better verification maps the copy onto its source');
  assert.equal(best.t.src, dst, "the copy's points are the turned-round transform's sources");
  // off: the first verification as it was
  assert.equal(refineVerified(g, windows, { t: forward, v }, { ...p, refineAffine: false }, 100).v, v);
});
