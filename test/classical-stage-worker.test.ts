import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import { detectCopyMove, prepareStageWorker, stopStageWorker } from '../src/lib/classical/index';
import { resolveParams } from '../src/lib/classical/params';
import type { Affine, CopyTransform } from '../src/lib/classical/geometry';
import { mapContext, SHARED_MAPS } from '../src/lib/classical/sharedMaps';
import { nextDetection, shareMap, stageWorkerStats, startStagesAhead } from '../src/lib/classical/stageWorker';
import { imageWindows } from '../src/lib/classical/verify';
import { blobTexture } from './fixtures/texture';
import { generateImage } from '../src/lib/data/synth/generate';
import type { Image } from '../src/lib/data/types';
import { Rng } from '../src/lib/util/random';

const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;

test('the stage worker gives the detector the results it computes itself (a blot with copied lanes, dense and lane matching on)', async (t) => {
  const why = await prepareStageWorker();
  if (cores < 2) {
    assert.match(String(why), /one core/);
    t.skip('one core: the stage worker is not used');
    return;
  }
  assert.equal(why, undefined);
  const rng = new Rng('stage-worker-test');
  for (const family of ['western_blot', 'fluorescence'] as const) {
    const { image } = generateImage(rng.fork(), { family, forged: true, width: 384, height: 320 });
    const here = await detectCopyMove(image, { stageWorker: false });
    const ahead = await detectCopyMove(image, { stageWorker: true });
    // the worker ran dense and lane matching: the detector waited for it instead of timing them itself
    assert.ok('stage worker wait' in ahead.debug.timings, `${family}: the worker was not used (${Object.keys(ahead.debug.timings).join(', ')})`);
    assert.ok(!('stage worker wait' in here.debug.timings));
    assert.ok(ahead.debug.timings.dense > 0 && ahead.debug.timings.lanes > 0);
    assert.deepEqual(ahead.instances, here.instances, family);
    assert.deepEqual(ahead.scores, here.scores, family);
    assert.deepEqual(ahead.debug.candidates, here.debug.candidates, family);
    assert.deepEqual(ahead.notes, here.notes, family);
  }
});

test('a stage the worker cannot run comes back as a problem, the later stages of that detection are left to the main thread, and the next detection is served', { skip: cores < 2 }, async () => {
  assert.equal(await prepareStageWorker(), undefined);
  const native = { width: 8, height: 8, data: new Uint8Array(64) };
  const image: Image = { width: 8, height: 8, channels: 1, data: new Uint8Array(64) };
  // an unknown stage name stands for any failure inside the worker
  const ahead = startStagesAhead({ image, native, p: resolveParams({}), scale: 1 }, ['no-such-stage' as 'dense', 'dense']);
  assert.ok(ahead, 'the worker is listening');
  assert.equal(ahead.take('no-such-stage' as 'dense'), undefined);
  assert.match(String(ahead.problem), /stage worker failed: unknown native stage 'no-such-stage'/);
  assert.equal(ahead.take('dense'), undefined);
  const next = startStagesAhead({ image, native, p: resolveParams({}), scale: 1 }, ['dense', 'lanes']);
  assert.deepEqual(next?.take('dense')?.result, []);
  assert.deepEqual(next?.take('lanes')?.result.pairs, []);
  assert.equal(next?.problem, undefined);
});

test('after the worker is stopped, detection runs on the main thread and the worker starts again', { skip: cores < 2 }, async () => {
  const { image } = generateImage(new Rng('stage-worker-stop'), { family: 'western_blot', forged: true, width: 256, height: 256 });
  await prepareStageWorker();
  await stopStageWorker();
  const here = await detectCopyMove(image, { stageWorker: false });
  const again = await detectCopyMove(image);
  assert.deepEqual(again.instances, here.instances);
  assert.ok('stage worker wait' in again.debug.timings, 'detectCopyMove waits for the restarted worker');
  await stopStageWorker();
});

test('verification shared with the worker: both threads claim items, and every result is the one computed here', { skip: cores < 2 }, async () => {
  assert.equal(await prepareStageWorker(), undefined);
  const W = 200;
  const H = 140;
  const f = blobTexture(W, H, new Rng('shared-map'), { base: 110, areaPerBlob: 60, maxRadius: 6, amplitude: 60, noise: 4 });
  const gray = { data: Uint8Array.from(f, (v) => Math.max(0, Math.min(255, Math.round(v)))), width: W, height: H };
  // a 40 px square copied 100 px right, and three transforms that copy nothing
  for (let y = 30; y < 70; y++) for (let x = 20; x < 60; x++) gray.data[y * W + x + 100] = gray.data[y * W + x];
  const proposal = (a: Affine): CopyTransform => {
    const src: number[] = [];
    const dst: number[] = [];
    for (let y = 34; y < 66; y += 8) for (let x = 24; x < 56; x += 8) src.push(x, y), dst.push(a[0] * x + a[1] * y + a[2], a[3] * x + a[4] * y + a[5]);
    return { affine: a, src: Float32Array.from(src), dst: Float32Array.from(dst), inliers: src.length / 2, cluster: 0, flipped: false };
  };
  const transforms = [proposal([1, 0, 100, 0, 1, 0]), proposal([1, 0, 60, 0, 1, 50]), proposal([1, 0, 110, 0, 1, 60]), proposal([1, 0, 0, 0, 1, 60])];
  const p = resolveParams({});
  const context = { gray, p, minArea: 100 };
  const here = mapContext(context, imageWindows(gray, p));
  const plain = transforms.map((t) => SHARED_MAPS.verify(here, t));
  assert.ok(plain[0].v.meanZncc > 0.95 && plain[0].v.sourceArea > 1000 && plain.slice(1).every((r) => r.v.sourceArea < 100), 'one copy among look-alikes');
  // the main thread made slow, so that the worker claims items too
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const slow = (t: CopyTransform) => (Atomics.wait(pause, 0, 0, 60), SHARED_MAPS.verify(here, t));
  const before = stageWorkerStats().itemsByWorker;
  const shared = shareMap(true, 'verify', nextDetection(), context, transforms, slow);
  assert.ok(stageWorkerStats().itemsByWorker > before, 'the worker computed some items');
  assert.deepEqual(shared, plain);
  // refinement too (null: kept as it was), and with sharing off the items are mapped here
  const items = plain.map(({ t, v }) => ({ t, v }));
  const refinedHere = items.map((x) => SHARED_MAPS.refine(here, x));
  assert.deepEqual(shareMap(true, 'refine', nextDetection(), context, items, (x) => (Atomics.wait(pause, 0, 0, 60), SHARED_MAPS.refine(here, x))), refinedHere);
  const itemsNow = stageWorkerStats().itemsByWorker;
  assert.deepEqual(shareMap(false, 'verify', nextDetection(), context, transforms, (t) => SHARED_MAPS.verify(here, t)), plain);
  assert.equal(stageWorkerStats().itemsByWorker, itemsNow);
});
