import * as tf from '@tensorflow/tfjs';
import type { Masks } from '../../data/types';
import { ModelError } from '../../errors';
import type { InstanceTargets } from '../../losses/hungarian';
import { decodeProbability, decodeQueries } from '../../infer/decode';
import { registerModel } from '../registry';
import type { ForwardInput, ForwardOutput, Model, ModelConfig, ModelSpec } from '../types';
import { detectMitLayout, importMit, matchMitVariant } from '../../weights/maps/mit';
import { mitConfig } from './mit';
import { instanceProbabilities } from './instance';
import { disposeOutputs, SegformerModel, SEGFORMER_DEFAULTS, type SegformerConfig, type SegformerOutputs } from './model';

/**
 * Registers `segformer-cmfd` (query head, Hungarian set loss) and `segformer-seg` (plain
 * foreground head, dice + BCE) and adapts SegformerModel to the common Model interface.
 */

/** Per-sample instance masks -> one padded [B,M,H,W] tensor and the real counts. */
export function instanceTargets(input: ForwardInput): InstanceTargets {
  const [b, h, w] = input.images.shape;
  if (input.instances) {
    const list: Masks[] = input.instances;
    if (list.length !== b) throw new ModelError(`${list.length} instance sets for ${b} images`);
    list.forEach((m, i) => {
      if (m.height !== h || m.width !== w) throw new ModelError(`instances of sample ${i} are ${m.height}x${m.width}, images are ${h}x${w}`);
    });
    const mMax = Math.max(0, ...list.map((m) => m.count));
    const data = new Float32Array(b * mMax * h * w);
    list.forEach((m, i) => {
      for (let j = 0; j < m.data.length; j++) data[i * mMax * h * w + j] = m.data[j];
    });
    return { masks: tf.tensor4d(data, [b, mMax, h, w]), counts: list.map((m) => m.count) };
  }
  if (!input.masks) throw new ModelError('forward with targets needs instances or masks');
  // Without instance masks, the whole foreground is one instance (empty -> none).
  const masks = tf.tidy(() => input.masks!.transpose([0, 3, 1, 2]) as tf.Tensor4D); // [B,1,H,W]
  const sums = tf.tidy(() => masks.sum([1, 2, 3]).dataSync());
  return { masks, counts: Array.from(sums, (s) => (s > 0 ? 1 : 0)) };
}

function toForwardOutput(out: SegformerOutputs): ForwardOutput {
  const result: ForwardOutput = { masks: out.masks.expandDims(3) as tf.Tensor4D };
  if (out.instances && out.scores) Object.assign(result, instanceProbabilities(out.instances, out.scores));
  return result;
}

function adapt(name: string, net: SegformerModel): Model & { net: SegformerModel } {
  let disposed = false;
  return {
    name,
    net,
    config: { ...net.config } as unknown as ModelConfig,
    params: net.variables,
    forward(input: ForwardInput, _opts: { training: boolean }): ForwardOutput {
      if (disposed) throw new ModelError(`${name}: forward after dispose()`);
      if (input.images.rank !== 4) throw new ModelError(`${name}: expected images [B,H,W,C], got [${input.images.shape}]`);
      if (!input.instances && !input.masks) {
        const out = net.forward(input.images);
        try {
          return toForwardOutput(out);
        } finally {
          disposeOutputs(out);
        }
      }
      const targets = instanceTargets(input);
      try {
        const { outputs, loss } = net.forwardWithLoss({ images: input.images, targets });
        try {
          return { ...toForwardOutput(outputs), loss: loss.loss };
        } finally {
          disposeOutputs(outputs);
        }
      } finally {
        targets.masks.dispose();
      }
    },
    dispose() {
      net.dispose();
      disposed = true;
    },
  };
}

/**
 * Pretrained weights for both SegFormer models: HF MiT encoders (`nvidia/mit-b0`..`b5`) or whole
 * SegFormers (`nvidia/segformer-b0-finetuned-ade-512-512`, ...; their decode head feeds sifd's
 * decoder where the widths agree). The file's widths and depths pick the variant.
 */
const SEGFORMER_WEIGHTS: Pick<ModelSpec, 'importWeights' | 'configForWeights' | 'backbone'> = {
  importWeights(model, dict) {
    const variant = String(model.config.variant);
    const r = importMit(model.params, dict, mitConfig(variant));
    const head = r.decoder.length ? `; decoder: ${r.decoder.length} parameters from the decode head` : '';
    return { file: r.file, assigned: r.assigned, ignored: r.ignored, summary: `MiT-${variant} encoder (${r.naming} names)${head}` };
  },
  configForWeights(dict) {
    const variant = matchMitVariant(detectMitLayout(dict));
    return variant ? { variant } : {};
  },
  backbone: ['encoder/'],
};

const CMFD_DEFAULTS: SegformerConfig = { ...SEGFORMER_DEFAULTS, head: 'instances' };
const SEG_DEFAULTS: SegformerConfig = { ...SEGFORMER_DEFAULTS, head: 'foreground' };

registerModel('segformer-cmfd', {
  description: 'SegFormer (MiT) + intra-image correlation + query decoder: forged regions as instances, Hungarian set loss',
  defaults: { ...CMFD_DEFAULTS } as unknown as ModelConfig,
  targets: ['instances'],
  decode: decodeQueries,
  build: (config, rng) => adapt('segformer-cmfd', new SegformerModel({ ...(config as Partial<SegformerConfig>), head: 'instances' }, rng)),
  ...SEGFORMER_WEIGHTS,
});

registerModel('segformer-seg', {
  description: 'SegFormer (MiT) + intra-image correlation with a plain foreground head (dice + BCE), for comparison',
  defaults: { ...SEG_DEFAULTS } as unknown as ModelConfig,
  targets: ['foreground'],
  decode: decodeProbability,
  build: (config, rng) => adapt('segformer-seg', new SegformerModel({ ...(config as Partial<SegformerConfig>), head: 'foreground' }, rng)),
  ...SEGFORMER_WEIGHTS,
});

export { SegformerModel, SEGFORMER_DEFAULTS } from './model';
export type { SegformerConfig, SegformerOutputs } from './model';
export { instanceToForeground, foregroundProbability, instanceProbabilities, selectInstances } from './instance';
export { MIT_VARIANTS } from './mit';
export { parameterTable } from './summary';
