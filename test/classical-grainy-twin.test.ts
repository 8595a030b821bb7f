import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { GrayImage } from '../src/lib/classical/grayscale';
import { detectCopyMove } from '../src/lib/classical/index';
import { resolveParams } from '../src/lib/classical/params';
import { Rng } from '../src/lib/util/random';
import { clamp, rgb } from './fixtures/translatedCopy';

/**
 * A brick wall's kind of content: flat bricks with sensor grain (sigma 3) between bright mortar
 * stripes, and a disc holding a stripe moved sideways with a brightness change. The stripe carries
 * most of the fine detail, so 2 px along it the detail falls only ~0.075: not peaked by
 * minDetailDrop, though the grain agrees almost perfectly.
 */
function brickWall(): GrayImage {
  const W = 384;
  const H = 288;
  const rng = new Rng('grainy-brick');
  const f = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const u = (x + 0.15 * y) % 47;
      const stripe = Math.max(0, Math.min(1, 3.5 - Math.abs(u - 20) * 0.8));
      f[y * W + x] = 100 + 130 * stripe + rng.normal(0, 3);
    }
  }
  const g: GrayImage = { data: clamp(f), width: W, height: H };
  const src = Uint8Array.from(g.data);
  const [sx, sy, dx, r] = [60, 150, 190, 26];
  for (let y = -r; y <= r; y++) for (let x = -r; x <= r; x++) if (x * x + y * y <= r * r) g.data[(sy + y) * W + sx + x + dx] = Math.max(0, src[(sy + y) * W + sx + x] - 4);
  return g;
}

test('peak test: a copy of grainy content whose detail peaks only a little passes as a grainy twin; each condition of the rule is needed', async () => {
  const before = tf.memory().numTensors;
  const image = rgb(brickWall());
  const defaults = resolveParams({});
  const found = await detectCopyMove(image, { stageWorker: false });
  assert.equal(found.instances.count, 1, found.notes.join('; '));
  const fit = found.debug.candidates.find((c) => c.accepted);
  assert.ok(fit && Math.abs(fit.affine[2] - 190) < 1 && Math.abs(fit.affine[5]) < 1, 'the translation by (190, 0) is verified');
  assert.ok(fit.detailDrop! < defaults.minDetailDrop && fit.detailDrop! >= defaults.grainyMinDrop, `its detail falls ${fit.detailDrop}: between grainyMinDrop and minDetailDrop, so this test shows the grainy rule`);
  for (const strict of [{ grainyMinDrop: 0 }, { grainyMinDrop: 0.09 }, { grainyMinAgreement: 0.99 }, { exactRegionMinGrain: 0.95 }]) {
    const d = await detectCopyMove(image, { stageWorker: false, ...strict });
    assert.equal(d.instances.count, 0, `${JSON.stringify(strict)}: ${d.notes.join('; ')}`);
    assert.ok(d.debug.candidates.some((c) => c.rejectedFor === 'detail not peaked' && Math.abs(c.affine[2] - 190) < 1), JSON.stringify(strict));
  }
  assert.equal(tf.memory().numTensors, before);
});

test('grainyMinDrop and grainyMinAgreement: out-of-range values are refused with their names', () => {
  assert.equal(resolveParams({ 'verify.grainyMinDrop': 0.05 }).grainyMinDrop, 0.05);
  assert.throws(() => resolveParams({ grainyMinDrop: -0.1 }), /grainyMinDrop must lie in \[0, 2\]/);
  assert.throws(() => resolveParams({ grainyMinAgreement: 1.5 }), /grainyMinAgreement must lie in \[-1, 1\]/);
});
