import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../params';

/**
 * The convolutional building blocks of torchvision's backbones, NHWC, from raw tf ops (gradients
 * through tf.variableGrads, every backend). Parameter names end in `w`/`b` (conv; `dw` for a
 * depthwise kernel), `gamma`/`beta` (BatchNorm) and the buffers `mean`/`var`, which is what the
 * weight maps translate to torchvision's `weight`/`bias`/`running_mean`/`running_var`.
 */

export interface ConvSpec {
  cin: number;
  cout: number;
  kernel: number;
  stride?: number;
  /** Atrous rate; PyTorch pads dilation * (kernel - 1) / 2 on each side, as every conv here does. */
  dilation?: number;
  /** One filter per channel (groups = cin = cout). */
  depthwise?: boolean;
  bias?: boolean;
}

export type Conv = (x: tf.Tensor4D) => tf.Tensor4D;

/** Conv2d with PyTorch's symmetric padding dilation * (k - 1) / 2. */
export function makeConv(p: ParamStore, prefix: string, spec: ConvSpec): Conv {
  const { cin, cout, kernel: k, stride = 1, dilation = 1, depthwise = false, bias = false } = spec;
  // kaiming_normal_(mode='fan_out') as torchvision initialises these convs
  const w = depthwise
    ? p.convKernel(`${prefix}/dw`, [k, k, cin, 1], k * k)
    : p.convKernel(`${prefix}/w`, [k, k, cin, cout], k * k * cout);
  const b = bias ? p.zeros(`${prefix}/b`, [cout]) : null;
  const pad = (dilation * (k - 1)) / 2;
  return (x) =>
    tf.tidy(() => {
      const y = convPadded(x, w as tf.Tensor4D, { stride, dilation, pad, depthwise });
      return (b ? y.add(b) : y) as tf.Tensor4D;
    });
}

type ConvOp = (x: tf.Tensor4D, w: tf.Tensor4D, stride: number, pad: 'valid' | 'same') => tf.Tensor4D;
const conv2d: ConvOp = (x, w, s, pad) => tf.conv2d(x, w, s, pad);
const depthwise2d: ConvOp = (x, w, s, pad) => tf.depthwiseConv2d(x, w, s, pad);

/**
 * A convolution padded symmetrically by `pad`, written so every backend runs it and trains it:
 * - the native TensorFlow backend accepts only 'valid'/'same' padding, and TensorFlow's 'same' pads a
 *   strided conv asymmetrically (0 before, 1 after for k 3, stride 2, even size) where PyTorch pads 1
 *   and 1: so anything but a stride-1 'same' is padded with zeros first and convolved 'valid';
 * - tfjs has no gradient for dilated conv2d ("dilation rates greater than 1 are not yet supported in
 *   gradients"), so a dilated conv runs as atrous convolution by space-to-batch: the padded input is
 *   split into rate x rate phases, each convolved densely, and interleaved back.
 */
export function convPadded(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  o: { stride: number; dilation: number; pad: number; depthwise: boolean },
): tf.Tensor4D {
  const op = o.depthwise ? depthwise2d : conv2d;
  const k = w.shape[0];
  if (o.dilation > 1) return atrous(x, w, o.dilation, o.pad, op);
  if (o.pad === 0) return op(x, w, o.stride, 'valid');
  if (o.stride === 1 && 2 * o.pad === k - 1) return op(x, w, 1, 'same');
  return tf.tidy(() => op(tf.pad(x, [[0, 0], [o.pad, o.pad], [o.pad, o.pad], [0, 0]]), w, o.stride, 'valid'));
}

/** Stride-1 convolution at rate `d` with symmetric padding `pad`, through spaceToBatchND (differentiable). */
function atrous(x: tf.Tensor4D, w: tf.Tensor4D, d: number, pad: number, op: ConvOp): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, wd] = x.shape;
    const k = w.shape[0];
    // 'same'-padded with a rate at least the map's size, every tap but the centre reads padding only
    // (DeepLab's ASPP on small maps): the centre tap alone is the exact result, without the padding.
    if (2 * pad === d * (k - 1) && k % 2 === 1 && d >= h && d >= wd) {
      const c = (k - 1) / 2;
      return op(x, w.slice([c, c, 0, 0], [1, 1, -1, -1]) as tf.Tensor4D, 1, 'valid');
    }
    // pad the far side further so each padded side is a multiple of d; the extra rows are cropped below
    const extraH = (d - ((h + 2 * pad) % d)) % d;
    const extraW = (d - ((wd + 2 * pad) % d)) % d;
    const phases = tf.spaceToBatchND(x, [d, d], [[pad, pad + extraH], [pad, pad + extraW]]) as tf.Tensor4D;
    const y = tf.batchToSpaceND(op(phases, w, 1, 'valid'), [d, d], [[0, 0], [0, 0]]) as tf.Tensor4D;
    return y.slice([0, 0, 0, 0], [-1, h + 2 * pad - d * (w.shape[0] - 1), wd + 2 * pad - d * (w.shape[1] - 1), -1]);
  });
}

/** A layer whose behaviour depends on the mode (BatchNorm, and any block containing one). */
export type Layer = (x: tf.Tensor4D, training: boolean) => tf.Tensor4D;

/**
 * BatchNorm2d. Eval mode (training false) normalises with the running statistics, as PyTorch's
 * `model.eval()` does. Training mode normalises with the batch's own mean and biased variance and
 * moves the running statistics by `momentum` (PyTorch's rule, unbiased variance), so a fine-tuned
 * model's eval mode stays consistent; callers who want BatchNorm frozen while fine-tuning (as
 * torchvision's detection backbones do) run the backbone with training false.
 */
export function makeBatchNorm(p: ParamStore, prefix: string, channels: number, eps: number, momentum: number): Layer {
  const gamma = p.ones(`${prefix}/gamma`, [channels]);
  const beta = p.zeros(`${prefix}/beta`, [channels]);
  const mean = p.buffer(`${prefix}/mean`, [channels], 0);
  const variance = p.buffer(`${prefix}/var`, [channels], 1);
  return (x, training) =>
    tf.tidy(() => {
      if (!training) return tf.batchNorm4d(x, mean as tf.Tensor1D, variance as tf.Tensor1D, beta as tf.Tensor1D, gamma as tf.Tensor1D, eps);
      const m = tf.moments(x, [0, 1, 2]);
      const n = x.size / channels;
      mean.assign(mean.mul(1 - momentum).add(m.mean.mul(momentum)));
      variance.assign(variance.mul(1 - momentum).add(m.variance.mul((momentum * n) / Math.max(n - 1, 1))));
      return tf.batchNorm4d(x, m.mean as tf.Tensor1D, m.variance as tf.Tensor1D, beta as tf.Tensor1D, gamma as tf.Tensor1D, eps);
    });
}

export type Activation = 'relu' | 'hardswish' | 'none';

/** torch.nn.Hardsigmoid: relu6(x + 3) / 6. */
export function hardsigmoid(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.relu6(x.add(3)).div(6));
}

/** torch.nn.Hardswish: x * relu6(x + 3) / 6. */
export function hardswish(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => x.mul(hardsigmoid(x)));
}

export function activate<T extends tf.Tensor>(x: T, act: Activation): T {
  if (act === 'relu') return tf.relu(x);
  if (act === 'hardswish') return hardswish(x) as T;
  return x;
}

/**
 * torchvision's Conv2dNormActivation (conv without bias, BatchNorm, activation), its parameters under
 * `${prefix}/0` (conv) and `${prefix}/1` (norm) as the Sequential numbers them.
 */
export function makeConvBnAct(
  p: ParamStore,
  prefix: string,
  spec: ConvSpec,
  act: Activation,
  bn: { eps: number; momentum: number },
): Layer {
  const conv = makeConv(p, `${prefix}/0`, spec);
  const norm = makeBatchNorm(p, `${prefix}/1`, spec.cout, bn.eps, bn.momentum);
  return (x, training) => tf.tidy(() => activate(norm(conv(x), training), act));
}

/** MaxPool2d with PyTorch's symmetric padding (padded cells never win: -Infinity). */
export function maxPoolPadded(x: tf.Tensor4D, kernel: number, stride: number, pad: number): tf.Tensor4D {
  return tf.tidy(() => tf.maxPool(tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], -Infinity), kernel, stride, 'valid'));
}
