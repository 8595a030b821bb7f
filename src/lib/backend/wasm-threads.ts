import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker as WorkerThread, type WorkerOptions } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';

/**
 * Multithreaded tfjs-wasm in Node.
 *
 * tfjs-backend-wasm 4.22 ships a threaded SIMD build (emscripten pthreads + XNNPACK's pthreadpool) but never uses it
 * in Node, for three reasons this module works around without touching node_modules:
 * 1. the flag WASM_HAS_MULTITHREAD_SUPPORT returns false whenever IS_NODE (tfjs issue 3830), so `init()` loads the
 *    single-threaded binary;
 * 2. even when forced, `init()` hands emscripten a Blob URL for the pthread worker script and a Blob as the main
 *    script; Node's worker_threads only start files (and the worker's importScripts reads files), so workers fail;
 * 3. the C++ side caps the pool at emscripten_num_logical_cores() / 2 ("hyperthreads"), i.e. 1 thread on a 2-core
 *    machine, whatever setThreadsCount asks for.
 * So we register our own 'wasm' backend factory: it runs the package's emscripten glue
 * (wasm-out/tfjs-backend-wasm-threaded-simd.js) with file paths for the worker (wasm-pthread-worker.cjs, which
 * evaluates the package's worker script) and the main script, instantiates the .wasm itself so the
 * logical-core import reports 2x the wanted threads, and wraps the module in the package's own BackendWasm,
 * so every registered wasm kernel (and ours) runs unchanged. Idle pool workers are terminated and the pool's
 * running workers unref'd, so they never keep a script from exiting.
 */

/** tfjs-wasm's threadpool holds at most 8 threads (the glue pre-spawns 8 workers). */
export const MAX_WASM_THREADS = 8;
const INIT_TIMEOUT_MS = 60_000;

interface EmscriptenWorker {
  onerror: ((e: unknown) => void) | null;
  terminate(): unknown;
  unref(): void;
}

interface ThreadedModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number;
  PThread: { unusedWorkers: EmscriptenWorker[]; runningWorkers: EmscriptenWorker[] };
  tfjs?: Record<string, unknown>;
}

type WasmPackage = typeof import('@tensorflow/tfjs-backend-wasm');

/** The global WebAssembly API, typed here: tslab's compiler has no WebAssembly typings. */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<object>;
}
const wasmApi = () => (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** worker_threads' Worker without the parent's execArgv: pthread workers run plain JS, no loaders needed. */
class PlainWorker extends WorkerThread {
  constructor(filename: string | URL, options: WorkerOptions = {}) {
    super(filename, { execArgv: [], ...options });
  }
}

/**
 * The thread count sifd asks for: SIFD_WASM_THREADS if set (1 = the stock single-threaded build), else every core
 * Node reports, capped at MAX_WASM_THREADS.
 */
export function wantedWasmThreads(): number {
  const env = process.env.SIFD_WASM_THREADS?.trim();
  if (env) {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new Error(`SIFD_WASM_THREADS='${env}' is not a positive integer`);
    return Math.min(n, MAX_WASM_THREADS);
  }
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(cores, MAX_WASM_THREADS));
}

/** A tfjs backend factory for the threaded SIMD build with `threads` XNNPACK threads (the caller's included). */
export function threadedWasmFactory(threads: number): () => Promise<tf.KernelBackend> {
  return async () => {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as WasmPackage;
    const gluePath = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
    const dir = path.dirname(gluePath);
    const workerPath = path.join(__dirname, 'wasm-pthread-worker.cjs');
    if (!fs.existsSync(workerPath)) throw new Error(`pthread worker script missing: ${workerPath}`);
    const binary = await fs.promises.readFile(path.join(dir, 'tfjs-backend-wasm-threaded-simd.wasm'));
    const glue = require(gluePath) as (config: object) => Promise<ThreadedModule>;

    let fail: (err: unknown) => void = () => undefined;
    const emscriptenOnError = new Map<EmscriptenWorker, EmscriptenWorker['onerror']>();
    const failed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    const g = globalThis as { Worker?: unknown };
    const hadWorker = 'Worker' in g;
    const globalWorker = g.Worker;
    const config: Record<string, unknown> & Partial<ThreadedModule> = {
      locateFile: (file: string) => {
        if (!file.endsWith('.worker.js')) return path.join(dir, file);
        // The glue runs `new Worker(<this path>)` right after this call, with the global Worker it set to
        // worker_threads' Worker; start it without our execArgv (e.g. tsx's loader: the worker runs plain JS).
        g.Worker = PlainWorker;
        return workerPath;
      },
      mainScriptUrlOrBlob: gluePath,
      instantiateWasm(info: { env: Record<string, unknown> }, receive: (instance: unknown, module: unknown) => void) {
        // The C++ side uses min(wanted, logical cores / 2) threads.
        info.env.emscripten_num_logical_cores = () => 2 * threads;
        wasmApi().compile(binary)
          .then(async (module) => {
            const instance = await wasmApi().instantiate(module, info);
            receive(instance, module); // loads the module into the pool's workers and attaches their handlers
            // emscripten's worker error handler throws from an event listener (a process crash); fail init instead.
            for (const w of config.PThread?.unusedWorkers ?? []) {
              emscriptenOnError.set(w, w.onerror);
              w.onerror = (e) => fail(e);
            }
          })
          .catch((e) => fail(e));
        return {};
      },
      onAbort: (what: unknown) => fail(new Error(`threaded wasm aborted: ${String(what)}`)),
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`threaded wasm did not start in ${INIT_TIMEOUT_MS / 1000} s`)), INIT_TIMEOUT_MS);
      timer.unref();
    });
    let module: ThreadedModule;
    try {
      module = await Promise.race([glue(config), failed, timeout]);
    } catch (err) {
      for (const w of config.PThread?.unusedWorkers ?? []) w.terminate();
      throw err;
    } finally {
      clearTimeout(timer);
      // Leave the global namespace as it was (a global Worker makes some libraries think they run in a browser).
      // The pool's threads all exist by now: XNNPACK creates its threadpool once, in BackendWasm's constructor below.
      if (hadWorker) g.Worker = globalWorker;
      else delete g.Worker;
    }
    module.tfjs = {
      init: module.cwrap('init', null, []),
      initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
      getThreadsCount: module.cwrap('get_threads_count', 'number', []),
      registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
      disposeData: module.cwrap('dispose_data', null, ['number']),
      dispose: module.cwrap('dispose', null, []),
    };
    wasm.setThreadsCount(threads);
    // Creates the XNNPACK threadpool: threads - 1 pool workers start running.
    const backend = new wasm.BackendWasm(module as unknown as ConstructorParameters<WasmPackage['BackendWasm']>[0]);
    const pool = module.PThread;
    for (const w of pool.unusedWorkers) w.terminate();
    pool.unusedWorkers.length = 0; // a later pthread_create spawns a fresh worker
    for (const w of pool.runningWorkers) {
      if (emscriptenOnError.has(w)) w.onerror = emscriptenOnError.get(w)!; // errors from here on are emscripten's again
      w.unref();
    }
    return backend as unknown as tf.KernelBackend;
  };
}

/** The XNNPACK thread count of the active wasm backend (1 for the single-threaded builds). */
export function activeWasmThreads(): number {
  try {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as WasmPackage;
    return Math.max(1, wasm.getThreadsCount());
  } catch {
    return 1;
  }
}
