/**
 * The stage worker's thread (started by stageWorker.ts): runs one job at a time, one of a detection's
 * native-image stages (nativeStages.ts) or its share of a map (sharedMaps.ts), replies on its own
 * port, then raises the job's number in the shared state so that the detector, blocked in
 * Atomics.wait, reads the reply synchronously.
 */
import { type MessagePort, parentPort, workerData } from 'worker_threads';
import { detectionMemo, isNativeStage, NATIVE_STAGES, type NativeInput } from './nativeStages';
import { isSharedMap, type MapContext, mapContext, SHARED_MAPS } from './sharedMaps';
import type { MapJob, StageJob, StageReply } from './stageWorker';
import { DONE, READY } from './stageWorker';
import { imageWindows } from './verify';

const { port, state } = workerData as { port: MessagePort; state: Int32Array };

/** The last detection's map context, with its windows computed here once (and its panels when asked). */
let context: { detection: number; value: MapContext } | undefined;

/** The current detection's stage input, with a memo its stages share (exact twins and exact regions: the twin pairs). */
let stageInput: { detection: number; value: NativeInput } | undefined;

function runStage(job: StageJob): StageReply['results'] {
  if (job.input) stageInput = { detection: job.detection, value: { ...job.input, memo: detectionMemo() } };
  if (!isNativeStage(job.stage)) throw new Error(`unknown native stage '${job.stage}'`);
  if (stageInput?.detection !== job.detection) throw new Error(`no input for detection ${job.detection}`);
  const t0 = performance.now();
  const result = NATIVE_STAGES[job.stage](stageInput.value);
  return { [job.stage]: { result, ms: performance.now() - t0 } };
}

function runMap(job: MapJob): [number, unknown][] {
  if (!isSharedMap(job.kind)) throw new Error(`unknown shared map '${job.kind}'`);
  const done: [number, unknown][] = [];
  // nothing left to claim (the main thread did it all): no windows to compute
  if (Atomics.load(job.counter, 0) >= job.items.length) return done;
  if (context?.detection !== job.detection) {
    context = { detection: job.detection, value: mapContext(job.context, imageWindows(job.context.gray, job.context.p)) };
  }
  const run = SHARED_MAPS[job.kind] as (c: MapContext, item: unknown) => unknown;
  for (let i = Atomics.add(job.counter, 0, 1); i < job.items.length; i = Atomics.add(job.counter, 0, 1)) done.push([i, run(context.value, job.items[i])]);
  return done;
}

parentPort!.on('message', (job: StageJob | MapJob) => {
  const reply: StageReply = { id: job.id, results: job.type === 'map' ? [] : {} };
  try {
    reply.results = job.type === 'map' ? runMap(job) : runStage(job);
  } catch (err) {
    reply.error = err instanceof Error ? err.message : String(err);
  }
  port.postMessage(reply);
  Atomics.store(state, DONE, job.id);
  Atomics.notify(state, DONE);
});

Atomics.store(state, READY, 1);
parentPort!.postMessage('ready');
