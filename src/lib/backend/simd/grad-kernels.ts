import { DRIVER_PARAMS, gradKernelsWat } from './grad-kernels-wat';

/** sifd's SIMD filter-gradient kernels, bound to one tfjs-wasm heap. Every argument is an i32 (see DRIVER_PARAMS). */
export interface SimdGradKernels {
  conv2dFilterGrad(...args: number[]): void;
  depthwiseFilterGrad(...args: number[]): void;
}

/** The emscripten module inside tfjs-wasm's backend: the heap is exported (stock builds) or imported (threaded). */
interface EmscriptenModuleLike {
  asm?: { memory?: WebAssembly.Memory };
  wasmMemory?: WebAssembly.Memory;
}

const compiled = new Map<boolean, WebAssembly.Module>();
const bound = new WeakMap<WebAssembly.Memory, SimdGradKernels>();
let unavailable: string | undefined;
let enabled = true;

/** Turns the SIMD kernels off (tests of the composed fallbacks, A/B benchmarks); returns the previous setting. */
export function setSimdGradKernelsEnabled(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  return prev;
}

/** The heap of a tfjs-wasm backend, if it can be reached. */
export function wasmHeapMemory(backend: unknown): WebAssembly.Memory | undefined {
  const module = (backend as { wasm?: EmscriptenModuleLike }).wasm;
  const memory = module?.asm?.memory ?? module?.wasmMemory;
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}

function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/**
 * Assembles the kernels (wabt, from the generated text; no binary ships with sifd) for this backend's heap.
 * Resolves to undefined on success, else to the reason they are unavailable (callers then keep the composed
 * kernels). Safe to call more than once.
 */
export async function prepareSimdGradKernels(backend: unknown): Promise<string | undefined> {
  const memory = wasmHeapMemory(backend);
  if (!memory) return (unavailable = 'the wasm backend does not expose its heap');
  const shared = isShared(memory);
  try {
    if (!compiled.has(shared)) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const wabt = await (require('wabt') as () => Promise<WabtLike>)();
      const text = gradKernelsWat(shared);
      const parsed = wabt.parseWat('sifd-grad-kernels.wat', text, { simd: true, bulk_memory: true, threads: shared });
      try {
        // V8 validates the binary when it compiles it (wabt.js's validate() rejects shared memories whatever the features).
        const { buffer } = parsed.toBinary({});
        compiled.set(shared, new WebAssembly.Module(buffer as unknown as BufferSource));
      } finally {
        parsed.destroy();
      }
    }
    unavailable = undefined;
    simdGradKernels(backend);
    return undefined;
  } catch (err) {
    return (unavailable = `sifd's SIMD kernels did not assemble: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The kernels bound to this backend's heap, or undefined when prepareSimdGradKernels did not succeed. */
export function simdGradKernels(backend: unknown): SimdGradKernels | undefined {
  if (!enabled || unavailable !== undefined) return undefined;
  const memory = wasmHeapMemory(backend);
  if (!memory) return undefined;
  let kernels = bound.get(memory);
  if (!kernels) {
    const module = compiled.get(isShared(memory));
    if (!module) return undefined;
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as SimdGradKernels;
    kernels = { conv2dFilterGrad: exports.conv2dFilterGrad, depthwiseFilterGrad: exports.depthwiseFilterGrad };
    bound.set(memory, kernels);
  }
  return kernels;
}

/** Why the SIMD kernels are not in use (undefined when they are or were never asked for). */
export function simdGradKernelsUnavailable(): string | undefined {
  return unavailable;
}

export { DRIVER_PARAMS };

interface WabtLike {
  parseWat(filename: string, text: string, features?: Record<string, boolean>): {
    toBinary(options: object): { buffer: Uint8Array };
    destroy(): void;
  };
}
