/**
 * One worker thread per process that runs a detection's native-image stages (nativeStages.ts:
 * dense matching, lane matching) while the main thread runs keypoints, blocks and twins, and then
 * shares the per-transform steps of verification with it (sharedMaps.ts): on two cores a 1 MP
 * figure takes ~0.7x the time. The detector stays synchronous: it posts a job first and, when it
 * needs the result, blocks in Atomics.wait until the worker has replied, then reads the reply with
 * receiveMessageOnPort. Everything the worker runs is a pure function of the image, the parameters
 * and the item, so the results are the ones the main thread would compute. Whenever the worker
 * cannot give them (not started yet, failed, too slow), the detector computes them itself.
 */
import * as os from 'os';
import * as path from 'path';
import { MessageChannel, type MessagePort, receiveMessageOnPort, type Worker } from 'worker_threads';
import { startTsWorker } from '../util/ts-worker';
import type { NativeInput, NativeStageName, NativeStageResult } from './nativeStages';
import type { SentContext, SharedMapItem, SharedMapName, SharedMapResult } from './sharedMaps';

/** Indices into the shared state: the number of the last job the worker finished, and 1 once it listens. */
export const DONE = 0;
export const READY = 1;

/** One native-image stage of a detection; the detection's first job carries its input, kept by the worker for the rest. */
export interface StageJob {
  type: 'stages';
  id: number;
  detection: number;
  stage: NativeStageName;
  input?: Omit<NativeInput, 'memo'>;
}

/**
 * A map shared with the main thread: both claim the next item by Atomics.add on `counter[0]`. The
 * context comes without its windows and panels: the worker computes them once per `detection`.
 */
export interface MapJob {
  type: 'map';
  id: number;
  kind: SharedMapName;
  detection: number;
  context: SentContext;
  items: unknown[];
  counter: Int32Array;
}

export interface StageReply {
  id: number;
  /** A stages job's results by stage; a map job's as [item index, result] for the items the worker claimed. */
  results: Partial<Record<NativeStageName, { result: unknown; ms: number }>> | [number, unknown][];
  error?: string;
}

/** A job's results as the detector takes them. */
export interface StagesAhead {
  /** A stage's result and the worker's time on it (ms); undefined when the worker did not deliver it (see `problem`). */
  take<K extends NativeStageName>(name: K): { result: NativeStageResult<K>; ms: number } | undefined;
  /** Why the worker's results could not be used, once that is known. */
  readonly problem?: string;
}

/**
 * How long the detector waits for a reply before it computes the work itself (a stuck or dead worker):
 * this, plus REPLY_MS_PER_MP per megapixel the job reads (the stages read the figure at native size).
 */
const REPLY_TIMEOUT_MS = 30_000;
const REPLY_MS_PER_MP = 10_000;

interface Shared {
  worker: Worker;
  port: MessagePort;
  state: Int32Array;
  nextId: number;
  ready: Promise<void>;
  /** Replies read off the port while waiting for another job's, by job id (the current detection's only). */
  stash: Map<number, StageReply>;
}

let shared: Shared | undefined;
let unavailable: string | undefined;

/** Gives worker `s` up for the rest of the process (detections then run single-threaded), saying why. */
function giveUp(s: Shared, why: string): void {
  unavailable = why;
  if (shared === s) shared = undefined;
}

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
      stash: new Map(),
      ready: new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
      }),
    };
    worker.on('error', (err) => giveUp(s, `stage worker failed: ${err instanceof Error ? err.message : String(err)}`));
    worker.on('exit', (code) => {
      if (shared === s) giveUp(s, `stage worker exited (code ${code})`);
    });
    shared = s;
    return s;
  } catch (err) {
    unavailable = `stage worker could not start: ${err instanceof Error ? err.message : String(err)}`;
    return undefined;
  }
}

/** The listening worker, starting it if need be; undefined when it is not listening (yet). */
function listening(): Shared | undefined {
  const s = start();
  return s && Atomics.load(s.state, READY) === 1 ? s : undefined;
}

/** Blocks until the worker has finished job `id` and returns its reply, or why there is none (then the worker is given up). */
function replyOf(s: Shared, id: number, pixels: number): StageReply | string {
  const timeout = REPLY_TIMEOUT_MS + (REPLY_MS_PER_MP * pixels) / 1e6;
  const deadline = performance.now() + timeout;
  for (;;) {
    const done = Atomics.load(s.state, DONE);
    if (done >= id) break;
    const left = deadline - performance.now();
    if (left <= 0 || Atomics.wait(s.state, DONE, done, left) === 'timed-out') {
      const problem = `stage worker gave no reply within ${Math.round(timeout / 1000)} s`;
      giveUp(s, problem);
      void s.worker.terminate();
      return problem;
    }
  }
  const stashed = s.stash.get(id);
  if (stashed) {
    s.stash.delete(id);
    return stashed;
  }
  for (let m = receiveMessageOnPort(s.port); m; m = receiveMessageOnPort(s.port)) {
    const r = m.message as StageReply;
    if (r.id === id) return r;
    // a reply no one waited for: a map the main thread finished alone (dropped), or this detection's
    // stages while it waits for a map (kept: taken after verification)
    if (!Array.isArray(r.results)) s.stash.set(r.id, r);
  }
  return 'stage worker reply lost';
}

/**
 * Posts a detection's native-image stages to the worker when it is listening, one job each in
 * `stages`' order (the order the detector takes them in); undefined when it is not listening (the
 * caller computes them itself). Starts the worker for later detections if need be.
 */
export function startStagesAhead(input: Omit<NativeInput, 'memo'>, stages: NativeStageName[]): StagesAhead | undefined {
  if (!stages.length) return undefined;
  const s = listening();
  if (!s) return undefined;
  // a new detection: replies of earlier ones left unread are of no use
  s.stash.clear();
  const detection = nextDetection();
  const { image, native, p, scale } = input;
  const ids = new Map<NativeStageName, number>();
  stages.forEach((stage, k) => {
    const id = s.nextId++;
    ids.set(stage, id);
    const job: StageJob = { type: 'stages', id, detection, stage, ...(k === 0 && { input: { image, native, p, scale } }) };
    s.worker.postMessage(job);
  });
  const pixels = Math.max(image.width * image.height, native.width * native.height);
  let problem: string | undefined;
  return {
    take<K extends NativeStageName>(name: K) {
      const id = ids.get(name);
      if (id === undefined || problem) return undefined;
      const r = replyOf(s, id, pixels);
      if (typeof r === 'string') problem = r;
      else if (r.error) problem = `stage worker failed: ${r.error}`;
      if (problem) return undefined;
      const got = typeof r !== 'string' && !Array.isArray(r.results) ? r.results[name] : undefined;
      return got as { result: NativeStageResult<K>; ms: number } | undefined;
    },
    get problem() {
      return problem;
    },
  };
}

let detections = 0;
/** Items of shared maps the worker computed, since the process started (for tests and benchmarks). */
let itemsByWorker = 0;

export function stageWorkerStats(): { itemsByWorker: number } {
  return { itemsByWorker };
}

/** A number for a detection's maps: the worker computes the image's windows once per number. */
export function nextDetection(): number {
  return ++detections;
}

/**
 * `items.map((item) => local(item))` with the worker taking items too when it is listening and
 * `share` is on: both threads claim the next index from a shared counter, so whichever is free
 * works, and the main thread waits only for items the worker claimed. `local` must compute what
 * SHARED_MAPS[kind] computes (the main thread's own context); a reply that fails is recomputed here.
 */
export function shareMap<K extends SharedMapName>(
  share: boolean,
  kind: K,
  detection: number,
  context: SentContext,
  items: SharedMapItem<K>[],
  local: (item: SharedMapItem<K>) => SharedMapResult<K>,
): SharedMapResult<K>[] {
  const s = share && items.length > 1 ? listening() : undefined;
  if (!s) return items.map(local);
  const counter = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  const id = s.nextId++;
  const job: MapJob = { type: 'map', id, kind, detection, context, items, counter };
  s.worker.postMessage(job);
  const results: (SharedMapResult<K> | undefined)[] = new Array(items.length);
  const mine = new Uint8Array(items.length);
  for (let i = Atomics.add(counter, 0, 1); i < items.length; i = Atomics.add(counter, 0, 1)) {
    results[i] = local(items[i]);
    mine[i] = 1;
  }
  if (mine.every((m) => m === 1)) return results as SharedMapResult<K>[];
  const reply = replyOf(s, id, context.gray.width * context.gray.height);
  const delivered = new Map(typeof reply !== 'string' && !reply.error && Array.isArray(reply.results) ? reply.results : []);
  itemsByWorker += delivered.size;
  // what the worker did not deliver is computed here
  return items.map((item, i) => (mine[i] ? results[i] : delivered.has(i) ? delivered.get(i) : local(item)) as SharedMapResult<K>);
}
