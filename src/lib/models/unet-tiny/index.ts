import * as tf from '@tensorflow/tfjs';
import { ConfigError, ModelError } from '../../errors';
import { bceWithLogits } from '../../losses/bce';
import { diceLoss } from '../../losses/dice';
import { weightedSum } from '../../losses/weighted';
import { createBenchNet, type BenchNet } from '../benchnet';
import { decodeProbability } from '../../infer/decode';
import { registerModel } from '../registry';
import type { ForwardInput, ForwardOutput, Model, ModelConfig } from '../types';

/**
 * unet-tiny: the small U-Net of src/lib/models/benchnet.ts (16-32-64 channels, ~70k weights)
 * predicting one forged-foreground mask, trained with BCE + Dice on the union of the instances.
 * A fast baseline for tests and CPUs; it yields no instances, the predictor splits the mask.
 */
export interface UnetTinyConfig {
  bceWeight: number;
  diceWeight: number;
}

export const UNET_TINY_DEFAULTS: UnetTinyConfig = { bceWeight: 1, diceWeight: 1 };

function validate(config: ModelConfig): UnetTinyConfig {
  const c = config as unknown as UnetTinyConfig;
  for (const key of ['bceWeight', 'diceWeight'] as const) {
    if (typeof c[key] !== 'number' || !(c[key] >= 0) || !Number.isFinite(c[key])) {
      throw new ConfigError(`unet-tiny: '${key}' must be a finite number >= 0, got ${String(c[key])}`);
    }
  }
  return c;
}

registerModel('unet-tiny', {
  description: 'small U-Net (the bench net), one foreground mask, BCE + Dice loss; a fast baseline for tests and CPUs',
  defaults: { ...UNET_TINY_DEFAULTS },
  targets: ['foreground'],
  decode: decodeProbability,
  build(config, rng): Model {
    const cfg = validate(config);
    const net: BenchNet = createBenchNet(rng.nextUint32());
    let disposed = false;
    return {
      name: 'unet-tiny',
      config: { ...cfg },
      params: net.params,
      forward(input: ForwardInput, _opts: { training: boolean }): ForwardOutput {
        if (disposed) throw new ModelError('unet-tiny: forward after dispose()');
        const [, h, w, ch] = input.images.shape;
        if (input.images.rank !== 4 || ch !== 3) {
          throw new ModelError(`unet-tiny: expected images [B,H,W,3], got [${input.images.shape.join(',')}]`);
        }
        if (h % 4 !== 0 || w % 4 !== 0) throw new ModelError(`unet-tiny: image height and width must be multiples of 4, got ${h}x${w}`);
        // tidy keeps only the returned outputs; the caller owns (disposes) them.
        return tf.tidy(() => {
          const logits = net.forward(input.images); // [B,H,W,1]
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
        net.dispose();
        disposed = true;
      },
    };
  },
});
