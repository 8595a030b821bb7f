import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { repoPath } from '../util/paths';

/**
 * The native TensorFlow backend: @tensorflow/tfjs-node(-gpu) built by environment/native.sh against the TensorFlow
 * pip wheel's own libraries (environment/native, outside node_modules), or a copy the user installed into
 * node_modules. This file finds and loads it; init.ts decides whether to use it.
 */

/** What environment/native.sh wrote to environment/native/status.json. */
export interface NativeBuildStatus {
  ok: boolean;
  variant: 'cpu' | 'gpu';
  package: string;
  packageVersion?: string;
  wheel?: string;
  tensorflowVersion?: string;
  packageDir?: string;
  libDir?: string;
  buildSeconds?: number;
  /** Failed builds: the step and the reason. */
  step?: string;
  reason?: string;
}

/** What `sifd info` and notebook 00 show about the active native backend. */
export interface NativeInfo {
  package: string;
  packageVersion: string;
  /** TF_Version() of the loaded library. */
  tensorflowVersion: string;
  /** Where the TensorFlow libraries came from. */
  libraries: string;
  gpu: boolean;
  intraOpThreads: number;
  interOpThreads: number;
}

export interface NativeCandidate {
  /** '@tensorflow/tfjs-node' or '@tensorflow/tfjs-node-gpu'. */
  pkg: string;
  /** What require() is given: a folder (sifd's own build) or the package name (node_modules). */
  request: string;
  libraries: string;
}

export const NATIVE_DIR = 'environment/native';

export function nativeBuildStatus(): NativeBuildStatus | undefined {
  try {
    return JSON.parse(fs.readFileSync(repoPath(NATIVE_DIR, 'status.json'), 'utf8')) as NativeBuildStatus;
  } catch {
    return undefined;
  }
}

/** Why sifd's own build is not there to load (undefined when it is). */
export function nativeBuildProblem(status = nativeBuildStatus()): string | undefined {
  if (process.env.SIFD_NATIVE === '0') return 'SIFD_NATIVE=0';
  if (!status) return `not built (${NATIVE_DIR}/status.json is missing: run \`npm run setup\`)`;
  if (!status.ok) return `the build failed at step '${status.step}': ${status.reason} (see ${NATIVE_DIR}/build.log; delete ${NATIVE_DIR} and run \`npm run setup\` to retry)`;
  return undefined;
}

/**
 * The copies to try, best first: sifd's own build, then packages installed into node_modules by hand
 * (tfjs-node-gpu before tfjs-node). None with SIFD_NATIVE=0.
 */
export function nativeCandidates(): NativeCandidate[] {
  if (process.env.SIFD_NATIVE === '0') return [];
  const out: NativeCandidate[] = [];
  const status = nativeBuildStatus();
  if (!nativeBuildProblem(status) && status?.packageDir) {
    out.push({
      pkg: status.package,
      request: repoPath(status.packageDir),
      libraries: `${status.wheel} wheel, extracted to ${status.libDir ?? NATIVE_DIR} by environment/native.sh`,
    });
  }
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    out.push({ pkg, request: pkg, libraries: `${pkg}'s own libtensorflow (node_modules)` });
  }
  return out;
}

function threadCount(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

/**
 * TensorFlow reads its thread-pool sizes once, when the first op creates its context: they must be in the
 * environment before the package is required. SIFD_TF_THREADS sets the intra-op pool (default: every core);
 * TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS, if set, win. The inter-op pool defaults to 1: tfjs runs one
 * op at a time, so a second pool only competes with the first for the cores.
 */
export function prepareNativeThreads(): { intraOpThreads: number; interOpThreads: number } {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  process.env.TF_NUM_INTRAOP_THREADS ??= String(threadCount('SIFD_TF_THREADS', cores));
  process.env.TF_NUM_INTEROP_THREADS ??= '1';
  // INFO lines (oneDNN's banner still prints: TensorFlow logs it before its log level is read).
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  return {
    intraOpThreads: threadCount('TF_NUM_INTRAOP_THREADS', cores),
    interOpThreads: threadCount('TF_NUM_INTEROP_THREADS', 1),
  };
}

/** The loaded addon's details (call after the 'tensorflow' backend is active). */
export function nativeInfo(candidate: NativeCandidate, backend: unknown, threads: { intraOpThreads: number; interOpThreads: number }): NativeInfo {
  const b = backend as { binding?: { TF_Version?: string }; isUsingGpuDevice?: boolean };
  let packageVersion = 'unknown';
  try {
    const dir = path.isAbsolute(candidate.request) ? candidate.request : path.dirname(require.resolve(`${candidate.request}/package.json`));
    packageVersion = (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // a package without a readable package.json: its version stays unknown
  }
  return {
    package: candidate.pkg,
    packageVersion,
    tensorflowVersion: b.binding?.TF_Version ?? 'unknown',
    libraries: candidate.libraries,
    gpu: !!b.isUsingGpuDevice,
    ...threads,
  };
}
