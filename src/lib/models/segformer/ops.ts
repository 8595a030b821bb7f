import * as tf from '@tensorflow/tfjs';
import { matmul } from './matmul';
import type { ParamStore } from './params';

/**
 * Small layers built from raw tf ops, so gradients flow through tf.variableGrads and the
 * project's WASM kernels (no tfjs-layers). Each `make*` registers its weights in a ParamStore
 * under `prefix` and returns a pure function of tensors.
 */

/** Dense layer on the last axis: [..., cin] -> [..., cout]. */
export function makeLinear(p: ParamStore, prefix: string, cin: number, cout: number, bias = true): (x: tf.Tensor) => tf.Tensor {
  const w = p.truncNormal(`${prefix}/w`, [cin, cout], 0.02);
  const b = bias ? p.zeros(`${prefix}/b`, [cout]) : null;
  return (x) =>
    tf.tidy(() => {
      const lead = x.shape.slice(0, -1);
      const y = matmul(x.reshape([-1, cin]), w); // [M, cout]
      return (b ? y.add(b) : y).reshape([...lead, cout]);
    });
}

/** LayerNorm over the last axis. */
export function makeLayerNorm(p: ParamStore, prefix: string, dim: number, eps = 1e-6): (x: tf.Tensor) => tf.Tensor {
  const gamma = p.ones(`${prefix}/gamma`, [dim]);
  const beta = p.zeros(`${prefix}/beta`, [dim]);
  return (x) =>
    tf.tidy(() => {
      const mean = x.mean(-1, true);
      const centered = x.sub(mean);
      const variance = centered.square().mean(-1, true);
      return centered.mul(variance.add(eps).rsqrt()).mul(gamma).add(beta);
    });
}

/** Conv2d NHWC with bias and symmetric integer padding (PyTorch semantics: pad = k // 2 by default). */
export function makeConv2d(
  p: ParamStore,
  prefix: string,
  cin: number,
  cout: number,
  kernel: number,
  stride: number,
  pad: number | 'valid' = Math.floor(kernel / 2),
): (x: tf.Tensor4D) => tf.Tensor4D {
  const w = p.convKernel(`${prefix}/w`, [kernel, kernel, cin, cout], kernel * kernel * cout);
  const b = p.zeros(`${prefix}/b`, [cout]);
  return (x) => tf.tidy(() => conv2dSymmetric(x, w as tf.Tensor4D, stride, pad).add(b) as tf.Tensor4D);
}

/**
 * tf.conv2d with PyTorch's symmetric integer padding, written so every backend runs it: the native TensorFlow
 * backend accepts only 'valid' and 'same' (numeric padding throws "TF Backend supports only 'valid' and 'same'
 * padding", in the forward and the gradient kernels). A stride-1 odd kernel padded by k // 2 is exactly 'same';
 * anything else is padded with zeros first and convolved 'valid' (the same sums: TensorFlow's 'same' would pad a
 * strided conv asymmetrically).
 */
export function conv2dSymmetric(x: tf.Tensor4D, w: tf.Tensor4D, stride: number, pad: number | 'valid'): tf.Tensor4D {
  const k = w.shape[0];
  if (pad === 'valid' || pad === 0) return tf.conv2d(x, w, stride, 'valid');
  if (stride === 1 && k % 2 === 1 && w.shape[1] === k && pad === (k - 1) / 2) return tf.conv2d(x, w, 1, 'same');
  return tf.tidy(() => tf.conv2d(tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]), w, stride, 'valid'));
}

/** 3x3 depthwise conv with bias, stride 1, padding 1 (= 'same', which every backend accepts): [B,H,W,C] -> [B,H,W,C]. */
export function makeDepthwise3x3(p: ParamStore, prefix: string, channels: number): (x: tf.Tensor4D) => tf.Tensor4D {
  const w = p.convKernel(`${prefix}/w`, [3, 3, channels, 1], 9);
  const b = p.zeros(`${prefix}/b`, [channels]);
  return (x) => tf.tidy(() => tf.depthwiseConv2d(x, w as tf.Tensor4D, 1, 'same').add(b) as tf.Tensor4D);
}

/**
 * GELU, the exact erf form (PyTorch's nn.GELU() and HF's "gelu"): pretrained MiT/ViT weights were
 * trained with it, and the tanh approximation differs by up to ~1e-3, beyond weight-import parity.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => x.mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5));
}

/**
 * Multi-head scaled dot-product attention.
 * q: [B, N, C], k/v: [B, M, C] -> [B, N, C].
 */
export function multiHeadAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, heads: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, n, c] = q.shape;
    const m = k.shape[1];
    const d = c / heads;
    const split = (t: tf.Tensor, len: number) => t.reshape([b, len, heads, d]).transpose([0, 2, 1, 3]); // [B,h,len,d]
    const qh = split(q, n);
    const kh = split(k, m);
    const vh = split(v, m);
    const attn = tf.softmax(matmul(qh, kh, false, true).mul(1 / Math.sqrt(d))); // [B,h,N,M]
    return matmul(attn, vh).transpose([0, 2, 1, 3]).reshape([b, n, c]) as tf.Tensor3D; // [B,N,C]
  });
}
