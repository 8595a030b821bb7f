import { filterGradWat } from './filter-grad-wat';
import { heapKernelsWat } from './heap-kernels-wat';

/**
 * The text of sifd's SIMD kernel module. It imports tfjs-wasm's heap as "env" "memory"; `shared` declares it
 * shared (the threaded build), with the wasm32 maximum so any memory tfjs-wasm created satisfies the import.
 */
export function simdKernelsWat(shared: boolean): string {
  const memory = shared ? '(memory 1 65536 shared)' : '(memory 1)';
  return ['(module', `(import "env" "memory" ${memory})`, filterGradWat(), heapKernelsWat(), ')'].join('\n');
}
