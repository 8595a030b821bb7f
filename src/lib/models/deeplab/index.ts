import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../../errors';
import { decodeProbability } from '../../infer/decode';
import { registerModel } from '../registry';
import type { ForwardInput, ForwardOutput, Model, ModelConfig } from '../types';
import { DEEPLAB_DEFAULTS, validateDeeplabConfig } from './config';
import { DeeplabV3Plus } from './model';

/**
 * Registers `deeplabv3plus` (CaCL-Net: DeepLabV3+ with contour BCE and the contour-aware contrastive
 * loss) and adapts DeeplabV3Plus to the common Model interface: `masks` is the forged-pixel
 * probability, decoded to events by decodeProbability (threshold, regions, grouping).
 */
function adapt(net: DeeplabV3Plus): Model & { net: DeeplabV3Plus } {
  let disposed = false;
  return {
    name: 'deeplabv3plus',
    net,
    config: { ...net.config } as unknown as ModelConfig,
    params: net.store.variables,
    buffers: net.store.buffers,
    forward(input: ForwardInput, opts: { training: boolean }): ForwardOutput {
      if (disposed) throw new ModelError('deeplabv3plus: forward after dispose()');
      return tf.tidy(() => {
        const out = net.forward(input.images, opts.training);
        const masks = tf.sigmoid(out.seg) as tf.Tensor4D;
        if (!input.masks) return { masks };
        return { masks, loss: net.loss(out, input.masks) };
      });
    },
    dispose() {
      net.dispose();
      disposed = true;
    },
  };
}

registerModel('deeplabv3plus', {
  description: 'CaCL-Net: DeepLabV3+ (ResNet, output stride 16/8, ASPP, low-level decoder) with contour BCE and a contour-aware contrastive loss',
  defaults: { ...DEEPLAB_DEFAULTS } as unknown as ModelConfig,
  targets: ['foreground'],
  decode: decodeProbability,
  build: (config, rng) => adapt(new DeeplabV3Plus(validateDeeplabConfig(config), rng)),
});

export { DeeplabV3Plus, type DeeplabOutputs, type DeeplabTerms } from './model';
export { DEEPLAB_DEFAULTS, validateDeeplabConfig, type DeeplabConfig } from './config';
export { makeAspp, asppRates, type AsppConfig } from './aspp';
export { makeDecoder, type DecoderConfig } from './decoder';
