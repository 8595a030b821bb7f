import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import { detectCopyMove, prepareStageWorker, stopStageWorker } from '../src/lib/classical/index';
import { resolveParams } from '../src/lib/classical/params';
import { startStagesAhead } from '../src/lib/classical/stageWorker';
import { generateImage } from '../src/lib/data/synth/generate';
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

test('a stage the worker cannot run comes back as a problem with nothing to take, and the worker answers the next job', { skip: cores < 2 }, async () => {
  assert.equal(await prepareStageWorker(), undefined);
  const gray = { width: 8, height: 8, data: new Uint8Array(64) };
  // an unknown stage name stands for any failure inside the worker
  const ahead = startStagesAhead(gray, resolveParams({}), 1, ['dense', 'no-such-stage' as 'dense']);
  assert.ok(ahead, 'the worker is listening');
  assert.equal(ahead.take('dense'), undefined);
  assert.match(String(ahead.problem), /stage worker failed: unknown native stage 'no-such-stage'/);
  // the next job is answered as usual
  const next = startStagesAhead(gray, resolveParams({}), 1, ['dense']);
  assert.deepEqual(next?.take('dense')?.result, []);
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
