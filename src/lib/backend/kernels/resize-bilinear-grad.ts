import * as tf from '@tensorflow/tfjs';
import { simdKernels } from '../simd/kernels';
import { heapOffset, kernelInput, type WasmBackendLike } from './compose';
import type { TensorflowBackendLike } from './step-tensorflow';

/**
 * Source coordinates of tfjs's forward bilinear resize along one axis, for every output index: the two input
 * indices read and the weight of the second ([lo, hi, frac] triples). The same formulas as the forward kernel
 * (cpu and wasm), including half-pixel centres, so the gradient below is exactly its adjoint.
 */
export function bilinearTaps(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): Float32Array {
  const effIn = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const effOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  const ratio = effIn / effOut;
  const taps = new Float32Array(3 * outSize);
  for (let o = 0; o < outSize; o++) {
    const src = halfPixelCenters ? ratio * (o + 0.5) - 0.5 : ratio * o;
    const lo = Math.max(0, Math.floor(src));
    taps[3 * o] = lo;
    taps[3 * o + 1] = Math.min(inSize - 1, Math.ceil(src));
    taps[3 * o + 2] = src - lo;
  }
  return taps;
}

/**
 * dx of a bilinear resize: each dy pixel adds its four weighted shares to the input pixels the forward pass read.
 * tfjs 4.22's own kernels (cpu and wasm) ignore halfPixelCenters, so the gradient of a half-pixel resize (PyTorch's
 * align_corners=False, which the bench net uses) is not the adjoint of its forward pass; the cpu kernel also
 * returns a [N, W, H, C] shape, which breaks non-square images. This one is correct for every attribute.
 */
export function resizeBilinearGradValues(
  dy: Float32Array, imagesShape: number[], dyShape: number[], alignCorners: boolean, halfPixelCenters: boolean,
): Float32Array {
  const [n, h, w, c] = imagesShape;
  const [, ho, wo] = dyShape;
  const rows = bilinearTaps(h, ho, alignCorners, halfPixelCenters);
  const cols = bilinearTaps(w, wo, alignCorners, halfPixelCenters);
  const dx = new Float32Array(n * h * w * c);
  let at = 0;
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < ho; r++) {
      const top = (b * h + rows[3 * r]) * w;
      const bottom = (b * h + rows[3 * r + 1]) * w;
      const rf = rows[3 * r + 2];
      for (let col = 0; col < wo; col++) {
        const left = cols[3 * col];
        const right = cols[3 * col + 1];
        const cf = cols[3 * col + 2];
        const p00 = (top + left) * c;
        const p01 = (top + right) * c;
        const p10 = (bottom + left) * c;
        const p11 = (bottom + right) * c;
        const w00 = (1 - rf) * (1 - cf);
        const w01 = (1 - rf) * cf;
        const w10 = rf * (1 - cf);
        const w11 = rf * cf;
        for (let d = 0; d < c; d++) {
          const g = dy[at++];
          dx[p00 + d] += g * w00;
          dx[p01 + d] += g * w01;
          dx[p10 + d] += g * w10;
          dx[p11 + d] += g * w11;
        }
      }
    }
  }
  return dx;
}

/** The kernel's inputs and attributes, as both configs below read them. */
function gradArgs({ inputs, attrs }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap }) {
  const a = attrs as unknown as { alignCorners?: boolean; halfPixelCenters?: boolean };
  return {
    images: kernelInput(inputs, tf.ResizeBilinearGrad, 'images'),
    dy: kernelInput(inputs, tf.ResizeBilinearGrad, 'dy'),
    alignCorners: !!a.alignCorners,
    halfPixelCenters: !!a.halfPixelCenters,
  };
}

/** wasm: sifd's SIMD kernel for channels in fours (the taps above go in as a table), else the loop above. */
export const resizeBilinearGradConfig: tf.KernelConfig = {
  kernelName: tf.ResizeBilinearGrad,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { images, dy, alignCorners, halfPixelCenters } = gradArgs(args);
    const [n, h, w, c] = images.shape;
    const [, ho, wo] = dy.shape;
    const wasm = args.backend as unknown as WasmBackendLike;
    const out = wasm.makeOutput(images.shape, 'float32');
    const simd = c % 4 === 0 && dy.dtype === 'float32' ? simdKernels(args.backend) : undefined;
    if (simd) {
      const table = wasm.makeOutput([3 * (ho + wo)], 'float32');
      try {
        const t = wasm.typedArrayFromHeap(table) as Float32Array;
        t.set(bilinearTaps(h, ho, alignCorners, halfPixelCenters));
        t.set(bilinearTaps(w, wo, alignCorners, halfPixelCenters), 3 * ho);
        simd.resizeBilinearGrad(heapOffset(wasm, dy), heapOffset(wasm, out), heapOffset(wasm, table), n, h, w, c, ho, wo);
      } finally {
        wasm.disposeData(table.dataId);
      }
      return out;
    }
    const dx = resizeBilinearGradValues(wasm.typedArrayFromHeap(dy) as Float32Array, images.shape, dy.shape, alignCorners, halfPixelCenters);
    (wasm.typedArrayFromHeap(out) as Float32Array).set(dx);
    return out;
  },
};

/** cpu: the same correct gradient (the reference the wasm kernels are tested against, and what cpu training uses). */
export const resizeBilinearGradCpuConfig: tf.KernelConfig = {
  kernelName: tf.ResizeBilinearGrad,
  backendName: 'cpu',
  kernelFunc: (args) => {
    const { images, dy, alignCorners, halfPixelCenters } = gradArgs(args);
    const cpu = args.backend as unknown as { data: { get(id: object): { values: Float32Array } }; makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo };
    const dyValues = cpu.data.get(dy.dataId).values;
    return cpu.makeTensorInfo(images.shape, 'float32', resizeBilinearGradValues(dyValues, images.shape, dy.shape, alignCorners, halfPixelCenters));
  },
};

/**
 * tensorflow (tfjs-node): TensorFlow's own ResizeBilinearGrad op, given the half_pixel_centers attribute that
 * tfjs-node's kernel leaves out (so its gradient of a half-pixel resize was the align_corners=False one of the old
 * TF 1 convention, not the adjoint of the forward pass).
 */
export const resizeBilinearGradTensorflowConfig: tf.KernelConfig = {
  kernelName: tf.ResizeBilinearGrad,
  backendName: 'tensorflow',
  kernelFunc: (args) => {
    const { images, dy, alignCorners, halfPixelCenters } = gradArgs(args);
    const backend = args.backend as unknown as TensorflowBackendLike;
    const { binding } = backend;
    return backend.executeSingleOutput(tf.ResizeBilinearGrad, [
      { name: 'T', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
      { name: 'align_corners', type: binding.TF_ATTR_BOOL, value: alignCorners },
      { name: 'half_pixel_centers', type: binding.TF_ATTR_BOOL, value: halfPixelCenters },
    ], [dy, images]);
  },
};
