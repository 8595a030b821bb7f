import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../../errors';
import type { ParamStore } from '../params';
import { makeConv2d, makeLinear } from '../segformer/ops';
import { makeConvLstmCell, runConvLstm } from './convlstm';
import { fromPatches, PATCH_COUNT, sequenceOrder, toPatches, type SequenceOrder } from './patches';

/**
 * The two networks of Bappy et al.'s system, built from raw tf ops on a ParamStore. Both see an
 * image as its 64 patches (patches.ts) and run their convolutions on all B*64 patches at once; a
 * patch's pixels never see another patch's except through the ConvLSTM's state.
 */

/**
 * Patch CNN: [N,p,p,cin] -> [N,2] logits (authentic, manipulated). Three 3x3 convolutions (the last
 * two strided), the 1/4 map average-pooled to 2x2 and flattened (where in the patch a feature lies
 * still counts), a hidden fully connected layer and the 2-way output. Patch sides: multiples of 8.
 */
export function makePatchCnn(p: ParamStore, prefix: string, cin: number, width: number): (patches: tf.Tensor4D) => tf.Tensor2D {
  const c1 = makeConv2d(p, `${prefix}/conv1`, cin, width, 3, 1);
  const c2 = makeConv2d(p, `${prefix}/conv2`, width, 2 * width, 3, 2);
  const c3 = makeConv2d(p, `${prefix}/conv3`, 2 * width, 4 * width, 3, 2);
  const fc = makeLinear(p, `${prefix}/fc`, 16 * width, 4 * width);
  const head = makeLinear(p, `${prefix}/head`, 4 * width, 2);
  return (x) =>
    tf.tidy(() => {
      const f = tf.relu(c3(tf.relu(c2(tf.relu(c1(x)))))); // [N,p/4,p/4,4w]
      const k = f.shape[1] / 2;
      const pooled = tf.avgPool(f, k, k, 'valid').reshape([x.shape[0], 16 * width]); // [N, 2*2*4w]
      return head(tf.relu(fc(pooled))) as tf.Tensor2D;
    });
}

/** [N,q,q,16C] -> [N,4q,4q,C]: sub-pixel upsampling by 4 with rank-4 transposes only (every backend). */
function pixelShuffle4(x: tf.Tensor4D): tf.Tensor4D {
  const [n, q, , ch] = x.shape;
  const c = ch / 16;
  return tf.tidy(() => x.reshape([n * q, q, 4, 4 * c]).transpose([0, 2, 1, 3]).reshape([n, 4 * q, 4 * q, c]) as tf.Tensor4D);
}

export interface LocalizerOutputs {
  /** [B,H,W,1] per-pixel manipulation logits. */
  pixelLogits: tf.Tensor4D;
  /** [B,64] per-patch manipulation logits (raster order) from the ConvLSTM's hidden state. */
  patchLogits: tf.Tensor2D;
}

export interface LocalizerOptions {
  cin: number;
  width: number;
  hidden: number;
  kernel: number;
  order: SequenceOrder;
}

/**
 * The localisation network: each patch encoded to 1/4 of its side (two strided convolutions), the
 * 64 encodings fed in `order` to a ConvLSTM, each step's hidden state upsampled back to the patch
 * (sub-pixel convolution), joined with the patch's full-resolution features and decoded to one
 * logit per pixel; the hidden state's spatial mean also gives a per-patch logit.
 * Patch sides must be multiples of 4.
 */
export function makeLocalizer(p: ParamStore, prefix: string, o: LocalizerOptions): (images: tf.Tensor4D) => LocalizerOutputs {
  const w = o.width;
  const enc1 = makeConv2d(p, `${prefix}/enc1`, o.cin, w, 3, 1);
  const enc2 = makeConv2d(p, `${prefix}/enc2`, w, 2 * w, 3, 2);
  const enc3 = makeConv2d(p, `${prefix}/enc3`, 2 * w, 2 * w, 3, 2);
  const cell = makeConvLstmCell(p, `${prefix}/convlstm`, 2 * w, o.hidden, o.kernel);
  const up = makeConv2d(p, `${prefix}/up`, o.hidden, 16 * 8, 1, 1);
  const fuse = makeConv2d(p, `${prefix}/fuse`, 8 + w, 8, 3, 1);
  const pixel = makeConv2d(p, `${prefix}/pixel`, 8, 1, 1, 1);
  const patch = makeLinear(p, `${prefix}/patch`, o.hidden, 1);
  const order = sequenceOrder(o.order);
  return (images) =>
    tf.tidy(() => {
      const [b, h, , c] = images.shape;
      const side = h / 8;
      if (side % 4 !== 0) throw new ModelError(`bappy-convlstm: patch side ${side} must be a multiple of 4 (input a multiple of 32)`);
      const patches = toPatches(images).reshape([b * PATCH_COUNT, side, side, c]) as tf.Tensor4D;
      const f1 = tf.relu(enc1(patches)); // [B*64,p,p,w]
      const f3 = tf.relu(enc3(tf.relu(enc2(f1)))); // [B*64,p/4,p/4,2w]
      const q = side / 4;
      const steps = tf.unstack(f3.reshape([b, PATCH_COUNT, q, q, 2 * w]), 1) as tf.Tensor4D[]; // 64 x [B,q,q,2w], raster
      const hs = runConvLstm(cell, order.map((k) => steps[k])); // hs[t] belongs to patch order[t]
      const raster = new Array<tf.Tensor4D>(PATCH_COUNT);
      order.forEach((k, t) => (raster[k] = hs[t]));
      const hidden = tf.stack(raster, 1).reshape([b * PATCH_COUNT, q, q, o.hidden]) as tf.Tensor4D;
      const upsampled = tf.relu(pixelShuffle4(up(hidden))); // [B*64,p,p,8]
      const logits = pixel(tf.relu(fuse(tf.concat([upsampled, f1], 3) as tf.Tensor4D)));
      const pixelLogits = fromPatches(logits.reshape([b, PATCH_COUNT, side, side, 1]) as tf.Tensor5D);
      const patchLogits = patch(hidden.mean([1, 2])).reshape([b, PATCH_COUNT]) as tf.Tensor2D;
      return { pixelLogits, patchLogits };
    });
}
