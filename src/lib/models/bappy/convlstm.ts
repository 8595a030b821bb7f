import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../../errors';
import type { ParamStore } from '../params';
import { conv2dSymmetric } from '../segformer/ops';

/**
 * A convolutional LSTM (Shi et al. 2015) from raw tf ops, sifd's own rather than tfjs-layers'
 * `convLstm2d`: its weights live in the model's ParamStore (stable checkpoint names), it runs
 * inside tf.variableGrads like every other sifd layer, and its gradients are checked against
 * finite differences in test/bappy.test.ts. One step, where * is a 'same' convolution and each
 * gate has one bias:
 *   i, f, o = sigmoid(Wx_{i,f,o} * x + Wh_{i,f,o} * h + b),  g = tanh(Wx_g * x + Wh_g * h + b_g)
 *   c_t = f c_{t-1} + i g,  h_t = o tanh(c_t)
 * The forget-gate bias starts at 1 (Jozefowicz et al. 2015), so early on the cell remembers.
 */
export type ConvLstmState = {
  /** [B,h,w,hidden] */
  h: tf.Tensor4D;
  /** [B,h,w,hidden] */
  c: tf.Tensor4D;
};

export interface ConvLstmCell {
  readonly hidden: number;
  /** The input's share of the gates, W_x * x + b, for any number of inputs at once: [N,h,w,cin] -> [N,h,w,4 hidden]. */
  project(x: tf.Tensor4D): tf.Tensor4D;
  /** One step from the projected input zx_t and the previous state -> the new state (the caller owns both). */
  recur(zx: tf.Tensor4D, state: ConvLstmState): ConvLstmState;
  /** One step from x_t itself: recur(project(x), state). */
  step(x: tf.Tensor4D, state: ConvLstmState): ConvLstmState;
  /** The zero state for inputs [B,h,w,*]. */
  zeroState(batch: number, height: number, width: number): ConvLstmState;
}

/**
 * The gate convolution over [x, h] is split into its x part and its h part (the same sums): the x
 * part of every step runs as one batched convolution before the loop, so each of the 64 sequential
 * steps only convolves h, which is what makes the sequence affordable on a CPU.
 */
export function makeConvLstmCell(p: ParamStore, prefix: string, cin: number, hidden: number, kernel = 3): ConvLstmCell {
  if (kernel % 2 !== 1) throw new ModelError(`ConvLSTM '${prefix}': the kernel must be odd for a 'same' convolution, got ${kernel}`);
  const pad = (kernel - 1) / 2;
  // Gates [i, f, o, g] along the output channels.
  const wx = p.convKernel(`${prefix}/wx`, [kernel, kernel, cin, 4 * hidden], kernel * kernel * 4 * hidden) as tf.Tensor as tf.Tensor4D;
  const wh = p.convKernel(`${prefix}/wh`, [kernel, kernel, hidden, 4 * hidden], kernel * kernel * 4 * hidden) as tf.Tensor as tf.Tensor4D;
  const b = p.zeros(`${prefix}/b`, [4 * hidden]);
  const forgetBias = new Float32Array(4 * hidden).fill(1, hidden, 2 * hidden);
  tf.tidy(() => b.assign(tf.tensor1d(forgetBias)));
  const cell: ConvLstmCell = {
    hidden,
    project(x) {
      if (x.shape[3] !== cin) throw new ModelError(`ConvLSTM '${prefix}': input has ${x.shape[3]} channels, the cell expects ${cin}`);
      return tf.tidy(() => conv2dSymmetric(x, wx, 1, pad).add(b) as tf.Tensor4D);
    },
    recur(zx, state) {
      return tf.tidy(() => {
        const z = zx.add(conv2dSymmetric(state.h, wh, 1, pad));
        const [i, f, o, g] = tf.split(z, 4, 3) as tf.Tensor4D[];
        const c = tf.sigmoid(f).mul(state.c).add(tf.sigmoid(i).mul(tf.tanh(g))) as tf.Tensor4D;
        const h = tf.sigmoid(o).mul(tf.tanh(c)) as tf.Tensor4D;
        return { h, c };
      });
    },
    step(x, state) {
      return tf.tidy(() => cell.recur(cell.project(x), state));
    },
    zeroState(batch, height, width) {
      return { h: tf.zeros([batch, height, width, hidden]), c: tf.zeros([batch, height, width, hidden]) };
    },
  };
  return cell;
}

/**
 * Runs the cell over a sequence xs[t] ([B,h,w,cin] each) from the zero state and returns every
 * h_t ([B,h,w,hidden]; the caller owns them). Intermediate cell states are freed as it goes (tfjs
 * keeps its own copies of what the gradient tape needs).
 */
export function runConvLstm(cell: ConvLstmCell, xs: tf.Tensor4D[]): tf.Tensor4D[] {
  if (xs.length === 0) throw new ModelError('ConvLSTM: empty sequence');
  const [b, hh, ww] = xs[0].shape;
  const projected = tf.tidy(() => tf.split(cell.project(tf.concat(xs, 0)), xs.length, 0)) as tf.Tensor4D[];
  let state = cell.zeroState(b, hh, ww);
  const outputs: tf.Tensor4D[] = [];
  projected.forEach((zx) => {
    const next = cell.recur(zx, state);
    if (outputs.length === 0) state.h.dispose(); // the zero state; later h_t are outputs
    state.c.dispose();
    zx.dispose();
    outputs.push(next.h);
    state = next;
  });
  state.c.dispose();
  return outputs;
}
