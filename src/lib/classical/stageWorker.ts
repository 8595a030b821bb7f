/**
 * One worker thread per process that runs a detection's native-image stages (nativeStages.ts:
 * dense matching, lane matching) while the main thread runs keypoints, blocks and twins: on two
 * cores a 1 MP figure's proposals finish ~0.4 s sooner. The detector stays synchronous: it posts
 * the job first and, when it needs a result, blocks in Atomics.wait until the worker has replied,
 * then reads the reply with receiveMessageOnPort. The stages are pure functions of the image and
 * the parameters, so the results are the ones the main thread would compute. Whenever the worker
 * cannot give them (not started yet, failed, too slow), the detector computes them itself.
 */
import * as os from 'os';
import * as path from 'path';
import { MessageChannel, type MessagePort, receiveMessageOnPort, type Worker } from 'worker_threads';
import { startTsWorker } from '../util/ts-worker';
import type { GrayImage } from './grayscale';
import type { NativeStageName, NativeStageResult } from './nativeStages';
import type { ClassicalParams } from './params';

/** Indices into the shared state: the number of the last job the worker finished, and 1 once it listens. */
export const DONE = 0;
export const READY = 1;

export interface StageJob {
  id: number;
  stages: NativeStageName[];
  native: GrayImage;
  p: ClassicalParams;
  scale: number;
}

export interface StageReply {
  id: number;
  results: Partial<Record<NativeStageName, { result: unknown; ms: number }>>;
  error?: string;
}

/** A job's results as the detector takes them. */
export interface StagesAhead {
  /** A stage's result and the worker's time on it (ms); undefined when the worker did not deliver it (see `problem`). */
  take<K extends NativeStageName>(name: K): { result: NativeStageResult<K>; ms: number } | undefined;
  /** Why the worker's results could not be used, once that is known. */
  readonly problem?: string;
}

/** How long the detector waits for a reply before it computes the stages itself (a stuck or dead worker). */
const REPLY_TIMEOUT_MS = 30_000;

interface Shared {
  worker: Worker;
  port: MessagePort;
  state: Int32Array;
  nextId: number;
  ready: Promise<void>;
}

let shared: Shared | undefined;
let unavailable: string | undefined;

/**
 * Starts the worker (once per process) and resolves when it listens; resolves to why it cannot run
 * (a single core, or it failed to start), else undefined. Detection never waits for it: until it
 * is ready, the stages run on the main thread.
 */
export async function prepareStageWorker(): Promise<string | undefined> {
  const s = start();
  if (s) await s.ready.catch(() => undefined);
  return unavailable;
}

/** Why the stage worker is not used (undefined while it is, or before prepareStageWorker). */
export function stageWorkerUnavailable(): string | undefined {
  return unavailable;
}

/** Stops the worker; the next detection that asks for it starts a new one. */
export async function stopStageWorker(): Promise<void> {
  const s = shared;
  shared = undefined;
  if (!s) return;
  s.port.close();
  await s.worker.terminate();
}

function start(): Shared | undefined {
  if (shared || unavailable) return shared;
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  if (cores < 2) {
    unavailable = `one core (${cores}): the native-image stages run on the main thread`;
    return undefined;
  }
  try {
    const { port1, port2 } = new MessageChannel();
    const state = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
    const worker = startTsWorker(path.join(__dirname, 'stageWorkerThread.ts'), {
      workerData: { port: port2, state },
      transferList: [port2],
    });
    // the process need not wait for an idle worker, nor for replies read with receiveMessageOnPort
    worker.unref();
    port1.unref();
    const s: Shared = {
      worker,
      port: port1,
      state,
      nextId: 1,
      ready: new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
      }),
    };
    const fail = (why: string) => {
      unavailable = why;
      if (shared === s) shared = undefined;
    };
    worker.on('error', (err) => fail(`stage worker failed: ${err instanceof Error ? err.message : String(err)}`));
    worker.on('exit', (code) => {
      if (shared === s) fail(`stage worker exited (code ${code})`);
    });
    shared = s;
    return s;
  } catch (err) {
    unavailable = `stage worker could not start: ${err instanceof Error ? err.message : String(err)}`;
    return undefined;
  }
}

/**
 * Posts a detection's native-image stages to the worker when it is listening; undefined when it is
 * not (the caller computes them itself). Starts the worker for later detections if need be.
 */
export function startStagesAhead(native: GrayImage, p: ClassicalParams, scale: number, stages: NativeStageName[]): StagesAhead | undefined {
  if (!stages.length) return undefined;
  const s = start();
  if (!s || Atomics.load(s.state, READY) !== 1) return undefined;
  const id = s.nextId++;
  const job: StageJob = { id, stages, native: { width: native.width, height: native.height, data: native.data }, p: { ...p }, scale };
  s.worker.postMessage(job);
  let reply: StageReply | undefined;
  let problem: string | undefined;
  const wait = (): void => {
    if (reply || problem) return;
    const deadline = performance.now() + REPLY_TIMEOUT_MS;
    for (;;) {
      const done = Atomics.load(s.state, DONE);
      if (done >= id) break;
      const left = deadline - performance.now();
      if (left <= 0 || Atomics.wait(s.state, DONE, done, left) === 'timed-out') {
        problem = `stage worker gave no reply within ${REPLY_TIMEOUT_MS / 1000} s`;
        unavailable = problem;
        if (shared === s) shared = undefined;
        void s.worker.terminate();
        return;
      }
    }
    // replies of earlier jobs a failed detection never took come first
    for (let m = receiveMessageOnPort(s.port); m; m = receiveMessageOnPort(s.port)) {
      const r = m.message as StageReply;
      if (r.id === id) {
        reply = r;
        break;
      }
    }
    if (!reply) problem = 'stage worker reply lost';
    else if (reply.error) problem = `stage worker failed: ${reply.error}`;
  };
  return {
    take<K extends NativeStageName>(name: K) {
      wait();
      const got = reply?.error ? undefined : reply?.results[name];
      return got as { result: NativeStageResult<K>; ms: number } | undefined;
    },
    get problem() {
      return problem;
    },
  };
}
