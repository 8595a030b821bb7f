export { initBackend, backendReport, BACKEND_ORDER, type BackendName, type BackendReport, type SkippedBackend } from './init';
export { registerWasmTrainingKernels, registerTensorflowKernelFixes, wasmTrainingKernelNames } from './kernels/index';
export { nativeBuildStatus, type NativeInfo } from './native';
