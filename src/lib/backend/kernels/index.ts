import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input';
import { depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig } from './depthwise-backprop';
import { maxPoolGradConfig } from './max-pool-grad';
import { unsortedSegmentSumConfig } from './unsorted-segment-sum';
import { captureStockConcat, captureStockIdentity, concatConfig, identityConfig, splitVConfig } from './copy-kernels';
import { resizeBilinearGradConfig, resizeBilinearGradCpuConfig, resizeBilinearGradTensorflowConfig } from './resize-bilinear-grad';
import { captureStockSum, sumConfig } from './sum';
import { captureStockStep, stepTensorflowConfig } from './step-tensorflow';

/** The kernels sifd adds to (or replaces on) the wasm backend so models can train there. */
const TRAINING_KERNELS: tf.KernelConfig[] = [
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  depthwiseBackpropFilterConfig,
  depthwiseBackpropInputConfig,
  unsortedSegmentSumConfig,
  maxPoolGradConfig,
  // Faster versions of stock kernels that dominate a training step's backward pass (see each file).
  splitVConfig,
  concatConfig,
  sumConfig,
  identityConfig,
  resizeBilinearGradConfig,
];

export function wasmTrainingKernelNames(): string[] {
  return TRAINING_KERNELS.map((k) => k.kernelName);
}

/** Registers the training kernels on 'wasm', replacing slower built-ins of the same name. Idempotent. */
export function registerWasmTrainingKernels(): void {
  for (const config of TRAINING_KERNELS) {
    const existing = tf.getKernel(config.kernelName, 'wasm');
    if (existing?.kernelFunc === config.kernelFunc) continue;
    // Ours fall back to the package's kernel for the cases they do not cover.
    if (config === concatConfig) captureStockConcat(existing);
    if (config === sumConfig) captureStockSum(existing);
    if (config === identityConfig) captureStockIdentity(existing);
    if (existing) tf.unregisterKernel(config.kernelName, 'wasm');
    // Keep the stock kernel's setup (it binds the wasm function the fallback calls, on every setBackend).
    tf.registerKernel({ ...config, setupFunc: config.setupFunc ?? existing?.setupFunc, disposeFunc: config.disposeFunc ?? existing?.disposeFunc });
  }
}

/**
 * Corrections to tfjs 4.22's cpu kernels, registered whatever backend runs (cpu is also the reference the wasm
 * kernels are checked against): ResizeBilinearGrad ignored halfPixelCenters and swapped H and W. Idempotent.
 */
export function registerCpuKernelFixes(): void {
  replaceKernel(resizeBilinearGradCpuConfig);
}

/**
 * On the native 'tensorflow' backend: the ResizeBilinearGrad correction (tfjs-node drops halfPixelCenters) and a
 * Step kernel of two TensorFlow ops instead of tfjs-node's six (every ReLU gradient runs it). Idempotent.
 */
export function registerTensorflowKernelFixes(): void {
  replaceKernel(resizeBilinearGradTensorflowConfig);
  captureStockStep(tf.getKernel(stepTensorflowConfig.kernelName, 'tensorflow'));
  replaceKernel(stepTensorflowConfig);
}

function replaceKernel(config: tf.KernelConfig): void {
  const existing = tf.getKernel(config.kernelName, config.backendName);
  if (existing?.kernelFunc === config.kernelFunc) return;
  if (existing) tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
}
