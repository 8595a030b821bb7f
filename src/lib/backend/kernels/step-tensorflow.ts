import * as tf from '@tensorflow/tfjs';

/** The parts of tfjs-node's NodeJSKernelBackend the kernels below use. */
export interface TensorflowBackendLike {
  binding: { TF_ATTR_BOOL: number; TF_ATTR_TYPE: number; TF_FLOAT: number };
  executeSingleOutput(name: string, opAttrs: { name: string; type: number; value: unknown }[], inputs: tf.TensorInfo[]): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

let stockStep: tf.KernelConfig | undefined;

/** Keeps tfjs-node's own Step kernel for the cases the one below leaves to it. */
export function captureStockStep(existing: tf.KernelConfig | undefined): void {
  if (existing && existing.kernelFunc !== stepTensorflowConfig.kernelFunc) stockStep = existing;
}

/**
 * Step on tensorflow, the mask of every ReLU gradient (tfjs-core's Relu gradient is dy * step(x)). tfjs-node's kernel
 * builds it from six ops and two full-size constants (isNaN, greater, ones, fill, where, select): about a fifth of a
 * bench-net training step. For alpha 0 and float32, sign(relu(x)) is the same values (1 where x > 0, else 0, NaN
 * kept) in two TensorFlow ops; other cases go to tfjs-node's kernel.
 */
export const stepTensorflowConfig: tf.KernelConfig = {
  kernelName: tf.Step,
  backendName: 'tensorflow',
  kernelFunc: (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const alpha = (args.attrs as { alpha?: number } | undefined)?.alpha ?? 0;
    if ((alpha !== 0 || x.dtype !== 'float32') && stockStep) return stockStep.kernelFunc(args);
    if (alpha !== 0 || x.dtype !== 'float32') throw new Error(`Step(alpha ${alpha}, ${x.dtype}) on tensorflow needs tfjs-node's own kernel, which is not registered`);
    const backend = args.backend as unknown as TensorflowBackendLike;
    const t = [{ name: 'T', type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT }];
    const relu = backend.executeSingleOutput('Relu', t, [x]);
    try {
      return backend.executeSingleOutput('Sign', t, [relu]);
    } finally {
      backend.disposeData(relu.dataId);
    }
  },
};
