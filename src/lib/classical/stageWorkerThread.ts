/**
 * The stage worker's thread (started by stageWorker.ts): runs the native-image stages of one
 * detection at a time (nativeStages.ts), replies on its own port, then raises the job's number in
 * the shared state so that the detector, blocked in Atomics.wait, reads the reply synchronously.
 */
import { type MessagePort, parentPort, workerData } from 'worker_threads';
import { isNativeStage, NATIVE_STAGES } from './nativeStages';
import type { StageJob, StageReply } from './stageWorker';
import { DONE, READY } from './stageWorker';

const { port, state } = workerData as { port: MessagePort; state: Int32Array };

parentPort!.on('message', (job: StageJob) => {
  const reply: StageReply = { id: job.id, results: {} };
  try {
    for (const name of job.stages) {
      if (!isNativeStage(name)) throw new Error(`unknown native stage '${name}'`);
      const t0 = performance.now();
      const result = NATIVE_STAGES[name](job.native, job.p, job.scale);
      reply.results[name] = { result, ms: performance.now() - t0 };
    }
  } catch (err) {
    reply.error = err instanceof Error ? err.message : String(err);
  }
  port.postMessage(reply);
  Atomics.store(state, DONE, job.id);
  Atomics.notify(state, DONE);
});

Atomics.store(state, READY, 1);
parentPort!.postMessage('ready');
