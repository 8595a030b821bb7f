export { initBackend, backendReport, BACKEND_ORDER, type BackendName, type BackendReport, type SkippedBackend } from './init';
export { registerWasmTrainingKernels, wasmTrainingKernelNames } from './kernels/index';
