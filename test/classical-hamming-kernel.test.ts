import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hammingKernelReady, hammingKernelUnavailable, hammingPairs, prepareHammingKernel, setHammingKernelEnabled } from '../src/lib/classical/hammingKernel';
import { detectKeypoints, type Keypoints } from '../src/lib/classical/keypoints';
import { matchKeypoints, type Matches } from '../src/lib/classical/match';
import { loadOpenCv } from '../src/lib/classical/opencv';
import { resolveParams } from '../src/lib/classical/params';
import { toGray } from '../src/lib/classical/grayscale';
import { normalizeContrast } from '../src/lib/classical/contrast';
import { generateImage } from '../src/lib/data/synth/generate';
import { Rng } from '../src/lib/util/random';

/** Random descriptors, with every fifth one a lightly perturbed copy of an earlier one (so some pairs match). */
function descriptors(rng: Rng, count: number, words: number): Keypoints {
  const desc = new Uint32Array(count * words);
  for (let i = 0; i < desc.length; i++) desc[i] = Math.floor(rng.next() * 2 ** 32);
  for (let i = 5; i < count; i += 5) {
    const from = Math.floor(rng.next() * i);
    for (let w = 0; w < words; w++) desc[i * words + w] = desc[from * words + w] ^ (rng.next() < 0.5 ? 1 << Math.floor(rng.next() * 32) : 0);
  }
  // integer positions on a small grid: many pairs sit exactly at the spatial cut-off
  const x = Float32Array.from({ length: count }, () => Math.floor(rng.next() * 40));
  const y = Float32Array.from({ length: count }, () => Math.floor(rng.next() * 40));
  return { count, x, y, angle: new Float32Array(count), size: new Float32Array(count), desc, words, bits: words * 32 };
}

function popcount(v: number): number {
  let n = 0;
  for (let u = v >>> 0; u; u >>>= 1) n += u & 1;
  return n;
}

/** The pairs hammingPairs must report, by the definition. */
function referencePairs(q: Keypoints, c: Keypoints, self: boolean, minDist2: number, cap: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < q.count; i++) {
    for (let j = self ? i + 1 : 0; j < c.count; j++) {
      const dx = c.x[j] - q.x[i];
      const dy = c.y[j] - q.y[i];
      if (dx * dx + dy * dy < minDist2) continue;
      let d = 0;
      for (let w = 0; w < q.words; w++) d += popcount(q.desc[i * q.words + w] ^ c.desc[j * q.words + w]);
      if (d <= cap) out.push([i, j, d]);
    }
  }
  return out;
}

function withKernel<T>(on: boolean, run: () => T): T {
  const prev = setHammingKernelEnabled(on);
  try {
    return run();
  } finally {
    setHammingKernelEnabled(prev);
  }
}

function sameMatches(a: Matches, b: Matches): void {
  assert.equal(a.count, b.count);
  for (const key of ['ax', 'ay', 'bx', 'by', 'distance', 'flipped'] as const) assert.deepEqual(Array.from(a[key]), Array.from(b[key]), key);
}

test('the Hamming kernel assembles and reports exactly the pairs within the cap, in query-then-candidate order', async () => {
  assert.equal(await prepareHammingKernel(), undefined, hammingKernelUnavailable());
  const rng = new Rng('hamming-kernel');
  for (const words of [8, 16]) {
    const q = descriptors(rng, 700, words);
    const c = descriptors(rng, 500, words);
    assert.ok(hammingKernelReady(words));
    // a cap that only near copies pass, ORB's default cap (64 / 0.7), one most random pairs pass, none
    for (const cap of [words / 2, 91.4, words * 32 * 0.45, Infinity]) {
      for (const [a, b, self] of [[q, q, true], [q, c, false]] as const) {
        const got: number[][] = [];
        hammingPairs(a, b, self, 25, cap, (i, j, d) => got.push([i, j, d]));
        const want = referencePairs(a, b, self, 25, cap);
        assert.deepEqual(got, want, `words ${words}, cap ${cap}, self ${self}`);
        if (self && cap === words / 2) assert.ok(want.length > 10, 'the planted near copies are found');
      }
    }
  }
});

test('ORB matching of a real figure gives the same matches in WebAssembly and in JavaScript, mirrored ones included', async () => {
  assert.equal(await prepareHammingKernel(), undefined);
  const cv = await loadOpenCv();
  const p = resolveParams({});
  const rng = new Rng('hamming-kernel-figure');
  for (const family of ['western_blot', 'fluorescence'] as const) {
    const { image } = generateImage(rng.fork(), { family, forged: true, width: 384, height: 384 });
    const eq = normalizeContrast(cv, toGray(image), p.contrast, p.claheClip, p.claheTiles);
    const kp = detectKeypoints(cv, eq, p);
    const mirrored = detectKeypoints(cv, eq, p, true);
    assert.ok(kp.count > 100, `${family}: keypoints found`);
    const wasm = withKernel(true, () => matchKeypoints(kp, mirrored, p));
    const js = withKernel(false, () => matchKeypoints(kp, mirrored, p));
    assert.ok(wasm.count > 0, `${family}: a forged figure has matches`);
    sameMatches(wasm, js);
  }
});
