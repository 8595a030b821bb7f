import * as tf from '@tensorflow/tfjs';
import { ConfigError, ModelError } from '../../errors';
import { bceWithLogits } from '../../losses/bce';
import { diceLoss } from '../../losses/dice';
import { weightedSum } from '../../losses/weighted';
import { registerModel } from '../registry';
import type { ForwardInput, ForwardOutput, Model, ModelConfig } from '../types';
import { createTinyUnet, tinyUnetLogits } from './net';

export interface UnetTinyConfig {
  /** Width of the first stage (the second has twice as many). */
  channels: number;
  inputChannels: number;
  bceWeight: number;
  diceWeight: number;
}

export const UNET_TINY_DEFAULTS: UnetTinyConfig = { channels: 8, inputChannels: 3, bceWeight: 1, diceWeight: 1 };

function validate(config: ModelConfig): UnetTinyConfig {
  const c = config as unknown as UnetTinyConfig;
  for (const key of ['channels', 'inputChannels'] as const) {
    if (!Number.isInteger(c[key]) || c[key] < 1) throw new ConfigError(`unet-tiny: '${key}' must be a positive integer, got ${String(c[key])}`);
  }
  for (const key of ['bceWeight', 'diceWeight'] as const) {
    if (typeof c[key] !== 'number' || !(c[key] >= 0)) throw new ConfigError(`unet-tiny: '${key}' must be a number >= 0, got ${String(c[key])}`);
  }
  return c;
}

registerModel('unet-tiny', {
  description: 'small 2-level U-Net, one foreground mask, BCE + Dice loss (a fast baseline for tests and CPUs)',
  defaults: { ...UNET_TINY_DEFAULTS },
  build(config, rng): Model {
    const cfg = validate(config);
    const net = createTinyUnet(cfg.inputChannels, cfg.channels, rng);
    let disposed = false;
    return {
      name: 'unet-tiny',
      config: { ...cfg },
      params: net.params,
      forward(input: ForwardInput, _opts: { training: boolean }): ForwardOutput {
        if (disposed) throw new ModelError('unet-tiny: forward after dispose()');
        const [, , , ch] = input.images.shape;
        if (input.images.rank !== 4 || ch !== cfg.inputChannels) {
          throw new ModelError(`unet-tiny: expected images [B,H,W,${cfg.inputChannels}], got [${input.images.shape.join(',')}]`);
        }
        // tidy keeps only the returned outputs; the caller owns (disposes) them.
        return tf.tidy(() => {
          const logits = tinyUnetLogits(net, input.images); // [B,H,W,1]
          const masks = tf.sigmoid(logits) as tf.Tensor4D;
          if (!input.masks) return { masks };
          const target = input.masks;
          const loss = weightedSum({
            bce: { weight: cfg.bceWeight, value: bceWithLogits(logits, target) },
            dice: { weight: cfg.diceWeight, value: diceLoss(masks, target) },
          });
          return { loss, masks };
        });
      },
      dispose() {
        for (const v of net.params.values()) v.dispose();
        net.params.clear();
        disposed = true;
      },
    };
  },
});
