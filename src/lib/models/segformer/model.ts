import * as tf from '@tensorflow/tfjs';
import { ConfigError, ModelError } from '../../errors';
import { DEFAULT_SET_LOSS_WEIGHTS, hungarianSetLoss, type InstanceTargets, type SetLossWeights } from '../../losses/hungarian';
import type { Rng } from '../../util/random';
import { correlationChannels, makeCorrelation } from './correlation';
import { makeAllMlpDecoder } from './decoder';
import { foregroundProbability, instanceProbabilities } from './instance';
import { makeMitEncoder, mitConfig, MIT_VARIANTS } from './mit';
import { makeLinear } from './ops';
import { ParamStore, type ParamInfo } from './params';
import { makeQueryDecoder } from './query-decoder';

/**
 * SegFormer for copy-move forgery: MiT encoder -> (correlation block on the 1/8 or 1/16 features)
 * -> all-MLP decoder -> either a query head (`instances`: per-forged-region masks + objectness,
 * trained with the Hungarian set loss) or a plain foreground head (`foreground`: one logit per
 * pixel, dice + BCE).
 */
export interface SegformerConfig {
  /** MiT variant: b0, b1, b2 (published) or tiny (tests). */
  variant: string;
  head: 'instances' | 'foreground';
  /** Channels of the decoder's pixel features. */
  decoderDim: number;
  /** Encoder stage the correlation block reads: 1 (1/4), 2 (1/8), 3 (1/16), or 0 to switch it off. */
  correlationStage: 0 | 1 | 2 | 3;
  correlationTopK: number;
  correlationProjDim: number;
  correlationDim: number;
  correlationExcludeRadius: number;
  /** Odd block size over which similarities are aggregated at constant displacement (1: off). */
  correlationWindow: number;
  /** Add each location's similarity mean and std to the top-k (how unique its best match is). */
  correlationStats: boolean;
  /** The correlation map is average-pooled to at most this many cells (memory grows with its square). */
  correlationMaxCells: number;
  /**
   * Query head only: weight of an auxiliary dense foreground loss (dice + BCE of a linear head on
   * the pixel features against the union of the instances). Deep supervision: every pixel gets a
   * gradient from the first step, which the set loss alone gives only through matched queries.
   */
  auxForegroundWeight: number;
  /** Query head only. */
  queries: number;
  queryLayers: number;
  queryHeads: number;
  lossWeights: SetLossWeights;
  inChannels: number;
}

export const SEGFORMER_DEFAULTS: SegformerConfig = {
  variant: 'b0',
  head: 'instances',
  decoderDim: 128,
  correlationStage: 2,
  correlationTopK: 8,
  correlationProjDim: 64,
  correlationDim: 32,
  correlationExcludeRadius: 1,
  correlationWindow: 1,
  correlationStats: false,
  correlationMaxCells: 1024,
  auxForegroundWeight: 0,
  queries: 5,
  queryLayers: 2,
  queryHeads: 4,
  lossWeights: DEFAULT_SET_LOSS_WEIGHTS,
  inChannels: 3,
};

/** One training batch as the model needs it. */
export interface SegformerBatch {
  /** [B,H,W,C] normalised images. */
  images: tf.Tensor4D;
  /** Instance targets at H x W. */
  targets: InstanceTargets;
}

/** Forward result; which fields are present depends on the head. Caller disposes. */
export interface SegformerOutputs {
  /** [B,H,W] forgery probability at input size (both heads). */
  masks: tf.Tensor3D;
  /** Query head: [B,Q,H,W] mask logits. */
  instances?: tf.Tensor4D;
  /** Query head: [B,Q] objectness logits. */
  scores?: tf.Tensor2D;
  /** Foreground head, or the query head's auxiliary foreground head (when its weight > 0): [B,H,W] logits. */
  logits?: tf.Tensor3D;
}

export interface SegformerLoss {
  loss: tf.Scalar;
  /** Named parts, as numbers, for logging. */
  parts: Record<string, number>;
}

export class SegformerModel {
  readonly config: SegformerConfig;
  readonly params: ParamStore;
  private readonly encoder: (x: tf.Tensor4D) => tf.Tensor4D[];
  private readonly correlation: ((x: tf.Tensor4D) => tf.Tensor4D) | null;
  private readonly decoder: (f: tf.Tensor4D[], c?: tf.Tensor4D) => tf.Tensor4D;
  private readonly queryHead: ReturnType<typeof makeQueryDecoder> | null;
  private readonly fgHead: ((x: tf.Tensor) => tf.Tensor) | null;

  /** Initial weights come from `rng` (same seed -> same weights). */
  constructor(config: Partial<SegformerConfig>, rng: Rng) {
    const c = validateConfig({ ...SEGFORMER_DEFAULTS, ...config });
    this.config = c;
    const mit = mitConfig(c.variant);
    this.params = new ParamStore(rng);
    this.encoder = makeMitEncoder(this.params, 'encoder', mit, c.inChannels);
    this.correlation = c.correlationStage
      ? makeCorrelation(this.params, 'correlation', {
          inChannels: mit.embedDims[c.correlationStage - 1],
          projDim: c.correlationProjDim,
          topK: c.correlationTopK,
          excludeRadius: c.correlationExcludeRadius,
          window: c.correlationWindow,
          stats: c.correlationStats,
          maxCells: c.correlationMaxCells,
        })
      : null;
    this.decoder = makeAllMlpDecoder(this.params, 'decoder', {
      stageChannels: mit.embedDims,
      dim: c.decoderDim,
      correlationChannels: c.correlationStage ? correlationChannels({ topK: c.correlationTopK, stats: c.correlationStats }) : 0,
      correlationDim: c.correlationDim,
    });
    this.queryHead =
      c.head === 'instances'
        ? makeQueryDecoder(this.params, 'query_decoder', { dim: c.decoderDim, queries: c.queries, layers: c.queryLayers, heads: c.queryHeads })
        : null;
    this.fgHead =
      c.head === 'foreground' || c.auxForegroundWeight > 0
        ? makeLinear(this.params, c.head === 'foreground' ? 'foreground_head' : 'aux_foreground_head', c.decoderDim, 1)
        : null;
  }

  /** Trainable weights keyed by stable name. */
  get variables(): Map<string, tf.Variable> {
    return this.params.variables;
  }

  parameterCount(prefix = ''): number {
    return this.params.count(prefix);
  }

  summary(): ParamInfo[] {
    return this.params.list();
  }

  /** images [B,H,W,C] normalised as the loader does (H, W multiples of 32) -> outputs at H x W. */
  forward(images: tf.Tensor4D): SegformerOutputs {
    const [, h, w, ch] = images.shape;
    if (h % 32 !== 0 || w % 32 !== 0) throw new ModelError(`input ${h}x${w} must be a multiple of 32 in both sides`);
    if (ch !== this.config.inChannels) throw new ModelError(`input has ${ch} channels, model expects ${this.config.inChannels}`);
    const pixels = tf.tidy(() => {
      const feats = this.encoder(images);
      const corr = this.correlation ? this.correlation(feats[this.config.correlationStage - 1]) : undefined;
      return this.decoder(feats, corr); // [B,H/4,W/4,D]
    });
    try {
      const logits = this.fgHead
        ? tf.tidy(() => {
            const l = this.fgHead!(pixels) as tf.Tensor4D; // [B,H/4,W/4,1]
            return tf.image.resizeBilinear(l, [h, w]).squeeze([3]) as tf.Tensor3D; // [B,H,W]
          })
        : undefined;
      if (this.queryHead) {
        const q = this.queryHead(pixels);
        const instances = tf.tidy(() => {
          const nhwc = q.maskLogits.transpose([0, 2, 3, 1]) as tf.Tensor4D; // [B,h/4,w/4,Q]
          return tf.image.resizeBilinear(nhwc, [h, w]).transpose([0, 3, 1, 2]) as tf.Tensor4D; // [B,Q,H,W]
        });
        q.maskLogits.dispose();
        const masks = tf.tidy(() => foregroundProbability(instanceProbabilities(instances, q.objectness)));
        return logits ? { masks, instances, scores: q.objectness, logits } : { masks, instances, scores: q.objectness };
      }
      return { masks: tf.tidy(() => tf.sigmoid(logits!) as tf.Tensor3D), logits };
    } finally {
      pixels.dispose();
    }
  }

  /**
   * Forward + loss in one pass, for use inside tf.variableGrads. Outputs and loss belong to the caller.
   */
  forwardWithLoss(batch: SegformerBatch): { outputs: SegformerOutputs; loss: SegformerLoss } {
    const outputs = this.forward(batch.images);
    try {
      if (outputs.instances && outputs.scores) {
        const r = hungarianSetLoss(outputs.instances, outputs.scores, batch.targets, this.config.lossWeights);
        const parts: Record<string, number> = { dice: r.dice.dataSync()[0], bce: r.bce.dataSync()[0], objectness: r.objectness.dataSync()[0] };
        tf.dispose([r.dice, r.bce, r.objectness]);
        if (!outputs.logits) return { outputs, loss: { loss: r.loss, parts } };
        const aux = foregroundLoss(outputs.logits, batch.targets);
        const loss = tf.tidy(() => r.loss.add(aux.loss.mul(this.config.auxForegroundWeight)) as tf.Scalar);
        tf.dispose([r.loss, aux.loss]);
        return { outputs, loss: { loss, parts: { ...parts, aux_dice: aux.parts.dice, aux_bce: aux.parts.bce } } };
      }
      return { outputs, loss: foregroundLoss(outputs.logits!, batch.targets) };
    } catch (e) {
      disposeOutputs(outputs);
      throw e;
    }
  }

  /** Loss alone (outputs disposed). */
  loss(batch: SegformerBatch): SegformerLoss {
    const { outputs, loss } = this.forwardWithLoss(batch);
    disposeOutputs(outputs);
    return loss;
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** Dice + BCE of a foreground logit map against the union of the instance masks. */
function foregroundLoss(logits: tf.Tensor3D, targets: InstanceTargets): SegformerLoss {
  const [b, h, w] = logits.shape;
  const parts = tf.tidy(() => {
    const union = targets.masks.shape[1] ? targets.masks.max(1).reshape([b, h * w]) : tf.zeros([b, h * w]); // [B,P]
    const x = logits.reshape([b, h * w]);
    const p = tf.sigmoid(x);
    const inter = p.mul(union).sum(1);
    const dice = tf.scalar(1).sub(inter.mul(2).add(1).div(p.sum(1).add(union.sum(1)).add(1))).mean();
    const bce = tf.relu(x).sub(x.mul(union)).add(tf.log1p(tf.exp(tf.abs(x).neg()))).mean();
    return [dice, bce] as tf.Scalar[];
  });
  const [dice, bce] = parts;
  const loss = tf.tidy(() => dice.add(bce) as tf.Scalar);
  const named = { dice: dice.dataSync()[0], bce: bce.dataSync()[0] };
  tf.dispose([dice, bce]);
  return { loss, parts: named };
}

export function disposeOutputs(out: SegformerOutputs): void {
  const all: Array<tf.Tensor | undefined> = [out.masks, out.instances, out.scores, out.logits];
  tf.dispose(all.filter((t): t is tf.Tensor => t !== undefined));
}

function validateConfig(c: SegformerConfig): SegformerConfig {
  if (!MIT_VARIANTS[c.variant]) mitConfig(c.variant);
  if (c.head !== 'instances' && c.head !== 'foreground') throw new ConfigError(`head must be 'instances' or 'foreground', got '${c.head}'`);
  if (![0, 1, 2, 3].includes(c.correlationStage)) throw new ConfigError(`correlationStage must be 0 (off), 1 (1/4), 2 (1/8) or 3 (1/16), got ${c.correlationStage}`);
  if (!Number.isInteger(c.correlationWindow) || c.correlationWindow < 1 || c.correlationWindow % 2 === 0) {
    throw new ConfigError(`correlationWindow must be an odd integer >= 1, got ${c.correlationWindow}`);
  }
  if (!(c.auxForegroundWeight >= 0)) throw new ConfigError(`auxForegroundWeight must be >= 0, got ${c.auxForegroundWeight}`);
  for (const k of ['decoderDim', 'correlationMaxCells', 'correlationTopK', 'correlationProjDim', 'correlationDim', 'queries', 'queryLayers', 'queryHeads', 'inChannels'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new ConfigError(`${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.decoderDim % c.queryHeads !== 0) throw new ConfigError(`decoderDim ${c.decoderDim} must be divisible by queryHeads ${c.queryHeads}`);
  if (c.decoderDim % 4 !== 0) throw new ConfigError(`decoderDim ${c.decoderDim} must be a multiple of 4 (sine positions)`);
  return c;
}
