import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/random';

/**
 * A very small U-Net: two resolutions, one skip connection. Big enough to learn a foreground
 * mask on synthetic data in a few epochs on a CPU, small enough for unit tests.
 *
 *   x [B,H,W,Cin] -> enc1a, enc1b (C) -> down (2C, stride 2) -> mid (2C)
 *   -> upsample to H x W, concat enc1 -> dec (C) -> head 1x1 -> logits [B,H,W,1]
 */
export interface TinyUnetParams {
  params: Map<string, tf.Variable>;
  channels: number;
}

const LAYERS = (cin: number, c: number): Array<[string, number, number, number]> => [
  // [name, kernel, in, out]
  ['enc1a', 3, cin, c],
  ['enc1b', 3, c, c],
  ['down', 3, c, 2 * c],
  ['mid', 3, 2 * c, 2 * c],
  ['dec', 3, 3 * c, c],
  ['head', 1, c, 1],
];

/** He-normal conv kernels and zero biases, drawn from `rng` (same seed -> same weights). */
export function createTinyUnet(inputChannels: number, channels: number, rng: Rng): TinyUnetParams {
  const params = new Map<string, tf.Variable>();
  for (const [name, k, cin, cout] of LAYERS(inputChannels, channels)) {
    const size = k * k * cin * cout;
    const std = Math.sqrt(2 / (k * k * cin));
    const w = new Float32Array(size);
    for (let i = 0; i < size; i++) w[i] = rng.normal(0, std);
    params.set(`${name}/w`, variableFrom(tf.tensor4d(w, [k, k, cin, cout])));
    params.set(`${name}/b`, variableFrom(tf.zeros([cout])));
  }
  return { params, channels };
}

/** A trainable Variable holding `init`'s values; `init` itself is disposed. */
function variableFrom(init: tf.Tensor): tf.Variable {
  const v = tf.variable(init, true);
  init.dispose();
  return v;
}

function conv(p: Map<string, tf.Variable>, name: string, x: tf.Tensor4D, stride = 1): tf.Tensor4D {
  const w = p.get(`${name}/w`) as tf.Variable<tf.Rank.R4>;
  const b = p.get(`${name}/b`) as tf.Variable<tf.Rank.R1>;
  return tf.conv2d(x, w, stride, 'same').add(b);
}

/** Logits [B,H,W,1] for images [B,H,W,Cin]. Call inside tf.tidy (or a gradient scope). */
export function tinyUnetLogits(net: TinyUnetParams, x: tf.Tensor4D): tf.Tensor4D {
  const p = net.params;
  const [, h, w] = x.shape;
  const e1 = tf.relu(conv(p, 'enc1b', tf.relu(conv(p, 'enc1a', x)))); // [B,H,W,C]
  const d = tf.relu(conv(p, 'down', e1, 2)); // [B,H/2,W/2,2C]
  const m = tf.relu(conv(p, 'mid', d)); // [B,H/2,W/2,2C]
  const up = tf.image.resizeBilinear(m, [h, w]); // [B,H,W,2C]
  const dec = tf.relu(conv(p, 'dec', tf.concat([up, e1], 3))); // [B,H,W,C]
  return conv(p, 'head', dec); // [B,H,W,1]
}
