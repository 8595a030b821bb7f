/**
 * sifd's own WebAssembly kernels (the training backend's SIMD kernels, the classical detector's
 * Hamming matcher): the WebAssembly API, typed locally, and assembling a kernel from its text.
 * tslab compiles notebook imports without the DOM/WebAssembly declarations, where
 * `WebAssembly.Memory` and friends do not exist as types.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
export type WasmModule = object;
interface WasmApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
}
export const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface WabtLike {
  parseWat(filename: string, text: string, features?: Record<string, boolean>): {
    toBinary(options: object): { buffer: Uint8Array };
    destroy(): void;
  };
}

/**
 * Compiles WebAssembly text with wabt (no binary ships with sifd). V8 validates the binary when it
 * compiles it (wabt.js's validate() rejects shared memories whatever the features). Rejects when
 * wabt is missing or the text does not assemble.
 */
export async function assembleWat(filename: string, text: string, features: Record<string, boolean> = {}): Promise<WasmModule> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wabt = await (require('wabt') as () => Promise<WabtLike>)();
  const parsed = wabt.parseWat(filename, text, features);
  try {
    return new wasmApi.Module(parsed.toBinary({}).buffer);
  } finally {
    parsed.destroy();
  }
}
