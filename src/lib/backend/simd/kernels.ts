import { assembleWat, type WasmMemory, type WasmModule, wasmApi } from '../../util/wasm';
import { simdKernelsWat } from './module-wat';

/**
 * sifd's SIMD kernels, bound to one tfjs-wasm heap. Every argument is an i32: pointers are byte offsets into the
 * heap (see filter-grad-wat.ts and heap-kernels-wat.ts for each function's parameters).
 */
export interface SimdKernels {
  /** (x, dy, dw, n, h, w, cin, ho, wo, cout, kh, kw, sh, sw, dh, dw, padTop, padLeft); see filter-grad-wat.ts */
  conv2dFilterGrad(...args: number[]): void;
  depthwiseFilterGrad(...args: number[]): void;
  sumLeading(src: number, dst: number, rows: number, inner: number): void;
  copyRows(dst: number, dstStride: number, src: number, srcStride: number, rows: number, len: number): void;
  maxPoolGrad(...args: number[]): void;
  resizeBilinearGrad(dy: number, dx: number, table: number, n: number, h: number, w: number, c: number, ho: number, wo: number): void;
}

const FUNCTIONS = ['conv2dFilterGrad', 'depthwiseFilterGrad', 'sumLeading', 'copyRows', 'maxPoolGrad', 'resizeBilinearGrad'] as const;

/** The emscripten module inside tfjs-wasm's backend: the heap is exported (stock builds) or imported (threaded). */
interface EmscriptenModuleLike {
  asm?: { memory?: WasmMemory };
  wasmMemory?: WasmMemory;
}

const compiled = new Map<boolean, WasmModule>();
const bound = new WeakMap<WasmMemory, SimdKernels>();
let unavailable: string | undefined;
let enabled = true;

/** Turns the SIMD kernels off (tests of the fallbacks, A/B benchmarks); returns the previous setting. */
export function setSimdKernelsEnabled(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  return prev;
}

/** The heap of a tfjs-wasm backend, if it can be reached. */
export function wasmHeapMemory(backend: unknown): WasmMemory | undefined {
  const module = (backend as { wasm?: EmscriptenModuleLike }).wasm;
  const memory = module?.asm?.memory ?? module?.wasmMemory;
  return memory instanceof wasmApi.Memory ? memory : undefined;
}

function isShared(memory: WasmMemory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/**
 * Assembles the kernels (wabt, from the generated text; no binary ships with sifd) for this backend's heap.
 * Resolves to undefined on success, else to the reason they are unavailable (callers then keep the composed
 * kernels). Safe to call more than once.
 */
export async function prepareSimdKernels(backend: unknown): Promise<string | undefined> {
  const memory = wasmHeapMemory(backend);
  if (!memory) return (unavailable = 'the wasm backend does not expose its heap');
  const shared = isShared(memory);
  try {
    if (!compiled.has(shared)) {
      compiled.set(shared, await assembleWat('sifd-simd-kernels.wat', simdKernelsWat(shared), { simd: true, bulk_memory: true, threads: shared }));
    }
    unavailable = undefined;
    simdKernels(backend);
    return undefined;
  } catch (err) {
    return (unavailable = `sifd's SIMD kernels did not assemble: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The kernels bound to this backend's heap, or undefined when prepareSimdKernels did not succeed. */
export function simdKernels(backend: unknown): SimdKernels | undefined {
  if (!enabled || unavailable !== undefined) return undefined;
  const memory = wasmHeapMemory(backend);
  if (!memory) return undefined;
  let kernels = bound.get(memory);
  if (!kernels) {
    const module = compiled.get(isShared(memory));
    if (!module) return undefined;
    const exports = new wasmApi.Instance(module, { env: { memory } }).exports as unknown as SimdKernels;
    kernels = Object.fromEntries(FUNCTIONS.map((f) => [f, exports[f]])) as unknown as SimdKernels;
    bound.set(memory, kernels);
  }
  return kernels;
}

/** Why prepareSimdKernels failed (undefined when it succeeded or never ran); setSimdKernelsEnabled is not a reason. */
export function simdKernelsUnavailable(): string | undefined {
  return unavailable;
}
