import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/random';

/**
 * The exact bench net of issue 5, so PyTorch can reproduce it (NHWC, 'same' padding, biases, ReLU after every
 * conv except the head, glorot-uniform weights, zero biases):
 * enc1 conv3x3 3->16, conv3x3 16->16, maxpool2 | enc2 conv3x3 16->32, depthwise3x3, conv1x1 32->32, maxpool2 |
 * mid conv3x3 32->64, conv3x3 64->64 | up2 bilinear x2, concat enc2 (96), conv3x3 96->32 |
 * up1 bilinear x2, concat enc1 (48), conv3x3 48->16 | head conv1x1 16->1 (logits; sigmoid lives in the loss).
 * Also a tiny segmentation model: input [N, H, W, 3] with H, W divisible by 4.
 */
export interface BenchNet {
  /** Weights by stable name (`enc1/conv1/w`, ...), in creation order. */
  params: Map<string, tf.Variable>;
  /** [N, H, W, 3] -> logits [N, H, W, 1]. */
  forward(x: tf.Tensor4D): tf.Tensor4D;
  dispose(): void;
}

interface ConvSpec {
  name: string;
  k: number;
  cin: number;
  cout: number;
  depthwise?: boolean;
}

const LAYERS: ConvSpec[] = [
  { name: 'enc1/conv1', k: 3, cin: 3, cout: 16 },
  { name: 'enc1/conv2', k: 3, cin: 16, cout: 16 },
  { name: 'enc2/conv1', k: 3, cin: 16, cout: 32 },
  { name: 'enc2/dw', k: 3, cin: 32, cout: 1, depthwise: true },
  { name: 'enc2/pw', k: 1, cin: 32, cout: 32 },
  { name: 'mid/conv1', k: 3, cin: 32, cout: 64 },
  { name: 'mid/conv2', k: 3, cin: 64, cout: 64 },
  { name: 'up2/conv', k: 3, cin: 96, cout: 32 },
  { name: 'up1/conv', k: 3, cin: 48, cout: 16 },
  { name: 'head/conv', k: 1, cin: 16, cout: 1 },
];

/** Glorot-uniform as Keras computes it: fan_in = k*k*cin, fan_out = k*k*cout (depthwise: cout = multiplier). */
function glorot(rng: Rng, shape: number[], fanIn: number, fanOut: number): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-limit, limit);
  return data;
}

export function createBenchNet(seed: number | string = 0): BenchNet {
  const rng = new Rng(seed);
  const params = new Map<string, tf.Variable>();
  for (const l of LAYERS) {
    const shape = [l.k, l.k, l.cin, l.cout]; // conv: [k, k, Cin, Cout]; depthwise: [k, k, C, multiplier]
    const w = glorot(rng, shape, l.k * l.k * l.cin, l.k * l.k * l.cout);
    const biasSize = l.depthwise ? l.cin * l.cout : l.cout;
    // tidy frees the initial values; the Variables hold their own copies and survive it.
    tf.tidy(() => {
      params.set(`${l.name}/w`, tf.variable(tf.tensor(w, shape), true));
      params.set(`${l.name}/b`, tf.variable(tf.zeros([biasSize]), true));
    });
  }
  const p = (name: string) => params.get(name)!;
  const conv = (x: tf.Tensor4D, name: string, relu = true): tf.Tensor4D => {
    const spec = LAYERS.find((l) => l.name === name)!;
    const w = p(`${name}/w`) as tf.Tensor4D;
    const y = spec.depthwise ? tf.depthwiseConv2d(x, w, 1, 'same') : tf.conv2d(x, w, 1, 'same');
    const biased = tf.add(y, p(`${name}/b`)) as tf.Tensor4D;
    return relu ? tf.relu(biased) : biased;
  };
  const up2 = (x: tf.Tensor4D): tf.Tensor4D =>
    tf.image.resizeBilinear(x, [x.shape[1] * 2, x.shape[2] * 2], false, true); // half-pixel = torch align_corners=False

  return {
    params,
    forward(x: tf.Tensor4D): tf.Tensor4D {
      return tf.tidy(() => {
        const e1 = conv(conv(x, 'enc1/conv1'), 'enc1/conv2'); // [N, H, W, 16]
        const e2 = conv(conv(conv(tf.maxPool(e1, 2, 2, 'valid'), 'enc2/conv1'), 'enc2/dw'), 'enc2/pw'); // [N, H/2, W/2, 32]
        const m = conv(conv(tf.maxPool(e2, 2, 2, 'valid'), 'mid/conv1'), 'mid/conv2'); // [N, H/4, W/4, 64]
        const u2 = conv(tf.concat([up2(m), e2], 3), 'up2/conv'); // [N, H/2, W/2, 32]
        const u1 = conv(tf.concat([up2(u2), e1], 3), 'up1/conv'); // [N, H, W, 16]
        return conv(u1, 'head/conv', false); // [N, H, W, 1] logits
      });
    },
    dispose() {
      for (const v of params.values()) v.dispose();
      params.clear();
    },
  };
}
