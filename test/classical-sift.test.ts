import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import type { GrayImage } from '../src/lib/classical/grayscale';
import { detectSift, mirrorDescriptors, SIFT_DIMS, type SiftKeypoints } from '../src/lib/classical/sift';

/** OpenCV's SIFT on the same scene (test/fixtures/make_sift_fixture.py). */
interface Reference {
  x: number[];
  y: number[];
  size: number[];
  angle: number[];
  desc: string;
}
const FIXTURE = path.join(__dirname, 'fixtures', 'sift');
const reference = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'opencv.json'), 'utf8')) as Record<string, Reference>;

async function scene(): Promise<GrayImage> {
  const { data, info } = await sharp(path.join(FIXTURE, 'scene.png')).greyscale().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

function unit(v: ArrayLike<number>, from: number): Float32Array {
  const out = Float32Array.from(Array.prototype.slice.call(v, from, from + SIFT_DIMS) as number[]);
  const n = Math.hypot(...out) || 1;
  return out.map((x) => x / n);
}

function l2(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += (a[k] - b[k]) ** 2;
  return Math.sqrt(s);
}

function angleGap(a: number, b: number): number {
  const d = Math.abs(a - b) % 360;
  return Math.min(d, 360 - d);
}

/**
 * Repeatability: the share of OpenCV's keypoints with a sifd keypoint within 1.5 px, a size within
 * 20% and an angle within 10 degrees; and the L2 distance between their unit descriptors.
 */
function compare(ours: SiftKeypoints, ref: Reference): { repeat: number; medianDist: number; matched: number } {
  const refDesc = Buffer.from(ref.desc, 'base64');
  const dists: number[] = [];
  for (let i = 0; i < ref.x.length; i++) {
    let best = -1;
    let bestD = 1.5;
    for (let j = 0; j < ours.count; j++) {
      const d = Math.hypot(ours.x[j] - ref.x[i], ours.y[j] - ref.y[i]);
      const sizeOk = Math.abs(Math.log(ours.size[j] / ref.size[i])) < Math.log(1.2);
      if (d <= bestD && sizeOk && angleGap(ours.angle[j], ref.angle[i]) < 10) {
        bestD = d;
        best = j;
      }
    }
    if (best >= 0) dists.push(l2(unit(ours.desc, best * SIFT_DIMS), unit(refDesc, i * SIFT_DIMS)));
  }
  dists.sort((a, b) => a - b);
  return { repeat: dists.length / ref.x.length, medianDist: dists[dists.length >> 1] ?? Infinity, matched: dists.length };
}

test('SIFT keypoints and descriptors agree with OpenCV (default contrast 0.04)', async () => {
  const ours = detectSift(await scene());
  const r = compare(ours, reference.default);
  assert.ok(Math.abs(ours.count - reference.default.x.length) <= 0.25 * reference.default.x.length, `${ours.count} keypoints vs OpenCV ${reference.default.x.length}`);
  assert.ok(r.repeat >= 0.85, `repeatability ${r.repeat.toFixed(2)}`);
  assert.ok(r.medianDist < 0.1, `median descriptor distance ${r.medianDist.toFixed(3)}`);
});

test('SIFT at a low contrast threshold (0.01) still follows OpenCV', async () => {
  const ours = detectSift(await scene(), { contrastThreshold: 0.01 });
  const r = compare(ours, reference.low_contrast);
  assert.ok(r.repeat >= 0.8, `repeatability ${r.repeat.toFixed(2)} (${r.matched} of ${reference.low_contrast.x.length})`);
  assert.ok(r.medianDist < 0.1, `median descriptor distance ${r.medianDist.toFixed(3)}`);
});

test('mirrored descriptors equal the descriptors of the mirrored image', async () => {
  const img = await scene();
  const flipped = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) flipped[y * img.width + x] = img.data[y * img.width + img.width - 1 - x];
  const a = detectSift(img, { contrastThreshold: 0.02 });
  const b = detectSift({ ...img, data: flipped }, { contrastThreshold: 0.02 });
  const mirrored = mirrorDescriptors(a.desc);
  const dists: number[] = [];
  const shuffled: number[] = [];
  for (let i = 0; i < a.count; i++) {
    const mx = img.width - 1 - a.x[i];
    const expected = (540 - a.angle[i]) % 360; // theta -> 180 - theta in atan2 terms
    for (let j = 0; j < b.count; j++) {
      // Octaves above the first decimate on even pixels, which the mirror moves by one: ~1 px tolerance.
      if (Math.hypot(b.x[j] - mx, b.y[j] - a.y[i]) < 1.5 && Math.abs(Math.log(b.size[j] / a.size[i])) < 0.1 && angleGap(b.angle[j], expected) < 5) {
        dists.push(l2(mirrored.subarray(i * SIFT_DIMS, (i + 1) * SIFT_DIMS), b.desc.subarray(j * SIFT_DIMS, (j + 1) * SIFT_DIMS)));
        shuffled.push(l2(a.desc.subarray(i * SIFT_DIMS, (i + 1) * SIFT_DIMS), b.desc.subarray(j * SIFT_DIMS, (j + 1) * SIFT_DIMS)));
        break;
      }
    }
  }
  dists.sort((x, y) => x - y);
  shuffled.sort((x, y) => x - y);
  assert.ok(dists.length >= 0.7 * a.count, `${dists.length} of ${a.count} keypoints found again in the mirror`);
  assert.ok(dists[dists.length >> 1] < 0.15, `median mirrored distance ${dists[dists.length >> 1].toFixed(3)}`);
  // Without the permutation the same pairs are far apart (the test can fail).
  assert.ok(shuffled[shuffled.length >> 1] > 0.3, `unpermuted distance ${shuffled[shuffled.length >> 1].toFixed(3)}`);
});

test('RootSIFT descriptors have unit norm and the keypoint cap keeps the strongest', async () => {
  const img = await scene();
  const all = detectSift(img, { contrastThreshold: 0.01 });
  const capped = detectSift(img, { contrastThreshold: 0.01, maxKeypoints: 50, rootSift: true });
  assert.ok(capped.count >= 50 && capped.count <= 75, `${capped.count} keypoints for a cap of 50 positions`);
  const weakest = Math.min(...capped.response);
  const stronger = Array.from(all.response).filter((r) => r > weakest + 1e-6).length;
  assert.ok(stronger <= 80, `${stronger} uncapped keypoints stronger than the weakest kept`);
  for (let i = 0; i < capped.count; i++) {
    const n = Math.hypot(...capped.desc.subarray(i * SIFT_DIMS, (i + 1) * SIFT_DIMS));
    assert.ok(Math.abs(n - 1) < 1e-3, `norm ${n}`);
  }
});

test("OpenCV.js's blur gives the same keypoints as sift.ts's own", async () => {
  const { loadOpenCv } = await import('../src/lib/classical/opencv');
  const { detectSiftKeypoints } = await import('../src/lib/classical/keypoints');
  const { resolveParams } = await import('../src/lib/classical/params');
  const cv = await loadOpenCv();
  const img = await scene();
  const ours = detectSift(img, { contrastThreshold: 0.01, doubleImage: false, rootSift: true });
  const viaCv = detectSiftKeypoints(cv, img, resolveParams({ detector: 'sift', siftContrast: 0.01, rootSift: true, maxKeypoints: 100000 }));
  assert.ok(Math.abs(viaCv.count - ours.count) <= 0.02 * ours.count, `${viaCv.count} vs ${ours.count}`);
  let same = 0;
  for (let i = 0; i < ours.count; i++) {
    for (let j = 0; j < viaCv.count; j++) if (Math.abs(viaCv.x[j] - ours.x[i]) < 0.05 && Math.abs(viaCv.y[j] - ours.y[i]) < 0.05) { same++; break; }
  }
  assert.ok(same >= 0.97 * ours.count, `${same} of ${ours.count} at the same place`);
});
