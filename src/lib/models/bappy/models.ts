import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../../errors';
import { bceWithLogits } from '../../losses/bce';
import { diceLoss } from '../../losses/dice';
import { weightedSum } from '../../losses/weighted';
import type { Rng } from '../../util/random';
import { ParamStore } from '../params';
import type { ForwardInput, ForwardOutput, Model, ModelConfig } from '../types';
import type { BappyConvLstmConfig, BappyPatchConfig } from './config';
import { makeLocalizer, makePatchCnn } from './networks';
import { PATCH_COUNT, patchLabelsTensor, patchSide, patchValuesToMap, toPatches } from './patches';

/** Checks shared by both models' forward. */
function checkInput(name: string, input: ForwardInput, channels: number, multiple: number): number {
  const [, h, w, c] = input.images.shape;
  if (input.images.rank !== 4 || c !== channels) throw new ModelError(`${name}: expected images [B,H,W,${channels}], got [${input.images.shape.join(',')}]`);
  return patchSide(h, w, multiple, name);
}

function asModel(name: string, config: ModelConfig, p: ParamStore, forward: (input: ForwardInput) => ForwardOutput): Model {
  let disposed = false;
  return {
    name,
    config: { ...config },
    params: p.variables,
    forward(input) {
      if (disposed) throw new ModelError(`${name}: forward after dispose()`);
      return forward(input);
    },
    dispose() {
      p.dispose();
      disposed = true;
    },
  };
}

/**
 * `bappy-patch`: each of the 64 patches classified on its own by the patch CNN (2-way softmax,
 * cross-entropy against the IoU >= 12.5% labels, the manipulated class weighted by posWeight).
 * Output `masks`: every pixel of a patch holds the patch's manipulated probability.
 */
export function buildPatchModel(cfg: BappyPatchConfig, rng: Rng): Model {
  const p = new ParamStore(rng);
  const cnn = makePatchCnn(p, 'patch_cnn', cfg.inChannels, cfg.width);
  return asModel('bappy-patch', cfg as unknown as ModelConfig, p, (input) => {
    const side = checkInput('bappy-patch', input, cfg.inChannels, 8);
    return tf.tidy(() => {
      const [b, , , c] = input.images.shape;
      const logits = cnn(toPatches(input.images).reshape([b * PATCH_COUNT, side, side, c]) as tf.Tensor4D); // [B*64,2]
      const prob = tf.softmax(logits).slice([0, 1], [-1, 1]).reshape([b, PATCH_COUNT]) as tf.Tensor2D;
      const masks = patchValuesToMap(prob, side);
      if (!input.masks) return { masks };
      const labels = patchLabelsTensor(input.masks).reshape([-1]); // [B*64]
      const onehot = tf.stack([tf.onesLike(labels).sub(labels), labels], 1);
      const weights = labels.mul(cfg.posWeight - 1).add(1);
      const ce = onehot.mul(tf.logSoftmax(logits)).sum(1).neg(); // [B*64]
      const loss = ce.mul(weights).sum().div(weights.sum()) as tf.Scalar;
      return { loss, masks };
    });
  });
}

/**
 * `bappy-convlstm`: the localiser (networks.ts): per-pixel BCE + Dice against the foreground, plus
 * patchWeight x BCE of the per-patch logits against the patch labels. Output `masks` [B,H,W,1].
 */
export function buildConvLstmModel(cfg: BappyConvLstmConfig, rng: Rng): Model {
  const p = new ParamStore(rng);
  const net = makeLocalizer(p, 'localizer', { cin: cfg.inChannels, width: cfg.width, hidden: cfg.hidden, kernel: cfg.kernel, order: cfg.order });
  return asModel('bappy-convlstm', cfg as unknown as ModelConfig, p, (input) => {
    checkInput('bappy-convlstm', input, cfg.inChannels, 4);
    return tf.tidy(() => {
      const { pixelLogits, patchLogits } = net(input.images);
      const masks = tf.sigmoid(pixelLogits) as tf.Tensor4D;
      if (!input.masks) return { masks };
      const loss = weightedSum({
        bce: { weight: cfg.bceWeight, value: bceWithLogits(pixelLogits, input.masks) },
        dice: { weight: cfg.diceWeight, value: diceLoss(masks, input.masks) },
        patch: { weight: cfg.patchWeight, value: bceWithLogits(patchLogits, patchLabelsTensor(input.masks)) },
      });
      return { loss, masks };
    });
  });
}
