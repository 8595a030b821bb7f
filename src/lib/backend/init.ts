import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { BackendError } from '../errors';
import { registerCpuKernelFixes, registerTensorflowKernelFixes, registerWasmTrainingKernels, wasmTrainingKernelNames } from './kernels/index';
import { NATIVE_DIR, nativeBuildProblem, nativeCandidates, nativeInfo, prepareNativeThreads, type NativeInfo } from './native';
import { withoutNewProcessHandlers } from '../util/process-handlers';
import { prepareSimdKernels, simdKernelsUnavailable } from './simd/kernels';
import { activeWasmThreads, threadedWasmFactory, wantedWasmThreads } from './wasm-threads';

/** The backends sifd can run on, in the order `initBackend` tries them. */
export const BACKEND_ORDER = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];

export interface SkippedBackend {
  backend: string;
  reason: string;
}

export interface BackendReport {
  /** The active tfjs backend. */
  backend: BackendName;
  /** Which package provides it (e.g. '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-backend-wasm'). */
  provider: string;
  /** Why the backend was chosen: the default order, `prefer`, or the SIFD_BACKEND env var. */
  chosenBy: 'default order' | 'prefer option' | 'SIFD_BACKEND';
  /** Every earlier choice that was skipped, with the reason. */
  skipped: SkippedBackend[];
  /** WASM only: whether the SIMD build runs, and the project's training kernels registered on it. */
  wasmSimd?: boolean;
  wasmKernels?: string[];
  /** WASM only: XNNPACK threads (the calling thread included); 1 = the stock single-threaded build. */
  wasmThreads?: number;
  /** WASM only: whether sifd's own SIMD kernels (simd/) run, or why not (the composed kernels run then). */
  wasmSimdKernels?: { active: boolean; reason?: string };
  /** tensorflow only: the package, TensorFlow's version, where its libraries came from, its thread pools. */
  native?: NativeInfo;
  tfjsVersion: string;
}

let report: BackendReport | undefined;
let queue: Promise<unknown> = Promise.resolve();

/** The report of the last `initBackend`, or undefined if it has not run yet. */
export function backendReport(): BackendReport | undefined {
  return report;
}

function isBackendName(name: string): name is BackendName {
  return (BACKEND_ORDER as readonly string[]).includes(name);
}

function errorText(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0];
}

/** Runs one tiny op on the active backend and checks its value, so a broken native install is caught here. */
function smokeTest(): void {
  const sum = tf.tidy(() => tf.conv2d(tf.ones([1, 3, 3, 1]) as tf.Tensor4D, tf.ones([3, 3, 1, 1]) as tf.Tensor4D, 1, 'valid').sum().dataSync()[0]);
  if (sum !== 9) throw new Error(`smoke op gave ${sum}, expected 9`);
}

async function tryTensorflow(skipped: SkippedBackend[]): Promise<{ provider: string; native: NativeInfo } | undefined> {
  const problem = nativeBuildProblem();
  if (problem) skipped.push({ backend: `tensorflow (${NATIVE_DIR})`, reason: problem });
  const threads = prepareNativeThreads();
  for (const candidate of nativeCandidates()) {
    const label = `tensorflow (${candidate.request === candidate.pkg ? candidate.pkg : NATIVE_DIR})`;
    try {
      require(candidate.request);
    } catch (err) {
      skipped.push({ backend: label, reason: `not installed: ${errorText(err)}` });
      continue;
    }
    if (!tf.findBackendFactory('tensorflow')) {
      // package.json aliases @tensorflow/tfjs-node to plain tfjs for danfojs, so require() alone proves nothing.
      skipped.push({ backend: label, reason: "require()-able but it registers no 'tensorflow' backend (npm alias of @tensorflow/tfjs)" });
      continue;
    }
    try {
      if (!(await tf.setBackend('tensorflow'))) throw new Error('tf.setBackend returned false');
      registerTensorflowKernelFixes();
      smokeTest();
      return { provider: candidate.pkg, native: nativeInfo(candidate, tf.backend(), threads) };
    } catch (err) {
      skipped.push({ backend: label, reason: `smoke op failed: ${errorText(err)}` });
    }
  }
  return undefined;
}

/** Whether tfjs already created the named backend (then its factory is no longer consulted). */
function backendCreated(name: string): boolean {
  const registry = (tf.engine() as unknown as { registry?: Record<string, unknown> }).registry;
  return !!registry && name in registry;
}

function wasmSimdKernelsState(): { active: boolean; reason?: string } {
  const reason = simdKernelsUnavailable();
  return reason === undefined ? { active: true } : { active: false, reason };
}

async function tryWasm(skipped: SkippedBackend[]): Promise<boolean> {
  try {
    // Loaded lazily so importing the library never fails when the package is absent.
    const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    // In Node the .wasm binaries sit next to the package's main file; point tfjs there (no network).
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    if (tf.getBackend() !== 'wasm') wasm.setWasmPaths(dir + path.sep);
    const threads = wantedWasmThreads();
    const stock = tf.findBackendFactory('wasm');
    let ok = false;
    if (threads > 1 && stock && !backendCreated('wasm')) {
      // The threaded SIMD build over worker_threads (wasm-threads.ts); the stock build if it cannot start.
      tf.removeBackend('wasm');
      const threaded = threadedWasmFactory(threads);
      let initError: unknown;
      tf.registerBackend('wasm', async () => {
        try {
          return await threaded();
        } catch (err) {
          initError = err; // tfjs only logs a factory's error and returns false
          throw err;
        }
      }, 2);
      try {
        ok = await withoutNewProcessHandlers(() => tf.setBackend('wasm'));
        if (!ok) throw initError ?? new Error('the threaded build did not start');
      } catch (err) {
        skipped.push({ backend: `wasm (${threads} threads)`, reason: `${errorText(err)}; using the single-threaded build` });
        tf.removeBackend('wasm');
        tf.registerBackend('wasm', stock, 2);
      }
    }
    // The emscripten module's crash-on-any-rejection handlers would kill a notebook kernel.
    if (!ok) ok = await withoutNewProcessHandlers(() => tf.setBackend('wasm'));
    if (!ok) throw new Error('tf.setBackend returned false');
    registerWasmTrainingKernels();
    await prepareSimdKernels(tf.backend()); // on failure the composed kernels run; the report says why
    smokeTest();
    return true;
  } catch (err) {
    skipped.push({ backend: 'wasm', reason: errorText(err) });
    return false;
  }
}

/**
 * The cpu backend prints an "install tfjs-node" banner on its first write, also when it only serves as a
 * reference or fallback next to wasm; `sifd info` says why tfjs-node is absent, so mark it as used.
 */
function silenceCpuBanner(): void {
  try {
    const cpu = tf.engine().findBackend('cpu') as unknown as { firstUse?: boolean } | null;
    if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
  } catch {
    // No cpu backend registered: nothing to silence.
  }
}

async function tryCpu(skipped: SkippedBackend[]): Promise<boolean> {
  try {
    if (!(await tf.setBackend('cpu'))) throw new Error('tf.setBackend returned false');
    smokeTest();
    return true;
  } catch (err) {
    skipped.push({ backend: 'cpu', reason: errorText(err) });
    return false;
  }
}

async function choose(prefer: BackendName | undefined, chosenBy: BackendReport['chosenBy']): Promise<BackendReport> {
  const skipped: SkippedBackend[] = [];
  const start = prefer ? BACKEND_ORDER.indexOf(prefer) : 0;
  for (const name of BACKEND_ORDER.slice(0, start)) {
    skipped.push({ backend: name, reason: chosenBy === 'SIFD_BACKEND' ? `SIFD_BACKEND=${prefer}` : `prefer: '${prefer}'` });
  }
  const base = { chosenBy, skipped, tfjsVersion: tf.version.tfjs };
  silenceCpuBanner();
  registerCpuKernelFixes();
  for (const name of BACKEND_ORDER.slice(start)) {
    if (name === 'tensorflow') {
      const native = await tryTensorflow(skipped);
      if (native) return { backend: 'tensorflow', ...native, ...base };
    } else if (name === 'wasm') {
      if (await tryWasm(skipped)) {
        const wasmSimd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
        return {
          backend: 'wasm', provider: '@tensorflow/tfjs-backend-wasm', wasmSimd, wasmKernels: wasmTrainingKernelNames(),
          wasmThreads: activeWasmThreads(),
          wasmSimdKernels: wasmSimdKernelsState(),
          ...base,
        };
      }
    } else if (await tryCpu(skipped)) {
      return { backend: 'cpu', provider: '@tensorflow/tfjs-backend-cpu', ...base };
    }
    if (chosenBy === 'SIFD_BACKEND') {
      const why = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
      throw new BackendError(`SIFD_BACKEND=${prefer} was requested but could not start (${why})`);
    }
  }
  throw new BackendError(`no tfjs backend could start: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`);
}

/**
 * Selects and initialises the tfjs backend: tensorflow (sifd's own build in environment/native, then tfjs-node-gpu or
 * tfjs-node from node_modules; SIFD_NATIVE=0 skips sifd's build) -> wasm with the
 * project's training kernels -> cpu. `prefer` starts the search at that backend; the env var SIFD_BACKEND
 * forces one (and fails if it cannot start). Idempotent: later calls with the same choice return the same report.
 */
export function initBackend(opts: { prefer?: string } = {}): Promise<BackendReport> {
  const env = process.env.SIFD_BACKEND?.trim();
  const requested = env || opts.prefer;
  const chosenBy: BackendReport['chosenBy'] = env ? 'SIFD_BACKEND' : opts.prefer ? 'prefer option' : 'default order';
  if (requested !== undefined && !isBackendName(requested)) {
    const source = env ? 'SIFD_BACKEND' : 'prefer';
    return Promise.reject(new BackendError(`${source}='${requested}' is not a backend; choose one of ${BACKEND_ORDER.join(', ')}`));
  }
  // An explicit type: tslab's compiler (TS 5.0, non-strict) does not carry the narrowing into the closure.
  const wanted: BackendName | undefined = requested as BackendName | undefined;
  // Calls run one after another, so concurrent callers never race two setBackend()s.
  const next = queue.then(async () => {
    if (report && (wanted === undefined || report.backend === wanted) && tf.getBackend() === report.backend) {
      return report;
    }
    report = await choose(wanted, chosenBy);
    return report;
  });
  queue = next.catch(() => undefined);
  return next;
}
