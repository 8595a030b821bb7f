import * as tf from '@tensorflow/tfjs';
import type { Masks } from '../../data/types';
import { ConfigError, ModelError, didYouMean } from '../../errors';
import { Rng } from '../../util/random';
import { loadDinov2Weights } from '../../weights/maps/dinov2';
import { Dinov2, DINOV2_VARIANTS, dinov2Config, type Dinov2Config } from '../backbones/vit-dinov2';
import { ParamStore } from '../params';
import type { ForwardInput, ForwardOutput, Model, ModelConfig } from '../types';
import { headSize, makeProjectionHead, type Head } from './head';
import { metricLoss, type MetricLossConfig } from './loss';

/**
 * `dinov2-metric`: DINOv2 dense tokens -> projection head -> L2-normalised per-token embeddings
 * [B,h,w,D] (h = H/14), trained with the metric losses (loss.ts) on the events' token labels.
 * With `backboneWeights` (an HF Dinov2Model safetensors file of the variant) the backbone is loaded and
 * frozen by default, as in the reference system: only the head trains, and checkpoints hold the
 * head alone (the backbone is reloaded from `backboneWeights` when the run is rebuilt). Without weights a
 * frozen random ViT would learn nothing, so the whole network trains (meant for `tiny` on a CPU).
 */
export interface DinoMetricConfig extends MetricLossConfig {
  variant: string;
  /** HF Dinov2Model .safetensors of the variant, or null (random init). */
  backboneWeights: string | null;
  /** null: frozen exactly when weights are given. */
  freezeBackbone: boolean | null;
  /**
   * Input channels: 3 (RGB), or RGB + copy-move evidence planes (evidence/index.ts; `sifd train
   * --evidence` sets it). Extra channels only without weights: the imported patch embedding is RGB.
   */
  inChannels: number;
  /** Overrides of the variant's ViT config (e.g. a smaller test ViT), or null. */
  backbone: Partial<Dinov2Config> | null;
  /** Head widths; null: scaled from the backbone width (head.ts). */
  headHidden: number | null;
  embedDim: number | null;
}

export const DINO_METRIC_DEFAULTS: DinoMetricConfig = {
  variant: 'tiny',
  backboneWeights: null,
  freezeBackbone: null,
  inChannels: 3,
  backbone: null,
  headHidden: null,
  embedDim: null,
  supconWeight: 1,
  uniformityWeight: 1,
  separationWeight: 1,
  temperature: 0.1,
  margin: 0,
  maxTokens: 256,
};

function validate(config: ModelConfig): DinoMetricConfig {
  const c = { ...DINO_METRIC_DEFAULTS, ...(config as Partial<DinoMetricConfig>) };
  if (!DINOV2_VARIANTS[c.variant]) throw new ConfigError(`dinov2-metric: unknown variant '${c.variant}'; ${didYouMean(c.variant, Object.keys(DINOV2_VARIANTS))}`);
  for (const key of ['supconWeight', 'uniformityWeight', 'separationWeight', 'margin'] as const) {
    if (typeof c[key] !== 'number' || !Number.isFinite(c[key])) throw new ConfigError(`dinov2-metric: '${key}' must be a finite number, got ${String(c[key])}`);
  }
  if (!(c.temperature > 0)) throw new ConfigError(`dinov2-metric: 'temperature' must be > 0, got ${String(c.temperature)}`);
  if (!Number.isInteger(c.maxTokens) || c.maxTokens < 2) throw new ConfigError(`dinov2-metric: 'maxTokens' must be an integer >= 2, got ${String(c.maxTokens)}`);
  if (c.backboneWeights !== null && typeof c.backboneWeights !== 'string') throw new ConfigError(`dinov2-metric: 'backboneWeights' must be a file path or null`);
  if (!Number.isInteger(c.inChannels) || c.inChannels < 1) throw new ConfigError(`dinov2-metric: 'inChannels' must be an integer >= 1, got ${String(c.inChannels)}`);
  if (c.backboneWeights !== null && c.inChannels !== 3) throw new ConfigError(`dinov2-metric: imported weights take RGB; 'inChannels' ${c.inChannels} needs training from scratch (backboneWeights: null)`);
  if (c.backbone !== null && (typeof c.backbone !== 'object' || Array.isArray(c.backbone))) throw new ConfigError(`dinov2-metric: 'backbone' must be an object of ViT overrides or null`);
  return c;
}

export interface DinoMetricModel extends Model {
  readonly backbone: Dinov2;
  readonly frozen: boolean;
  /** The unweighted loss terms of the last forward with targets (for per-term curves), or null. */
  lastTerms: { supcon: number; uniformity: number; separation: number } | null;
}

/** One event mask set per sample: the instances, else the foreground as one event. */
function eventsOf(input: ForwardInput): Masks[] | null {
  if (input.instances) return input.instances;
  if (!input.masks) return null;
  const [b, h, w] = input.masks.shape;
  const fg = input.masks.dataSync();
  return Array.from({ length: b }, (_, i) => {
    const data = Uint8Array.from(fg.subarray(i * h * w, (i + 1) * h * w), (v) => (v >= 0.5 ? 1 : 0));
    return data.some((v) => v === 1) ? { data, count: 1, height: h, width: w } : { data: new Uint8Array(0), count: 0, height: h, width: w };
  });
}

export function buildDinoMetric(config: ModelConfig, rng: Rng): DinoMetricModel {
  const cfg = validate(config);
  const backbone = new Dinov2(new ParamStore(rng.fork('backbone')), 'backbone', dinov2Config(cfg.variant, { inChannels: cfg.inChannels, ...(cfg.backbone ?? {}) }));
  if (cfg.backboneWeights) loadDinov2Weights(backbone, cfg.backboneWeights);
  const frozen = cfg.freezeBackbone ?? cfg.backboneWeights !== null;
  const headStore = new ParamStore(rng.fork('head'));
  const width = backbone.config.hiddenSize;
  const head: Head = makeProjectionHead(headStore, 'head', width, headSize(width, cfg.headHidden, cfg.embedDim));
  if (frozen) for (const v of backbone.store.variables.values()) v.trainable = false;
  const params = new Map<string, tf.Variable>([...(frozen ? [] : backbone.store.variables), ...headStore.variables]);
  const sampling = rng.fork('token-sampling');
  const patch = backbone.config.patchSize;
  let disposed = false;
  const model: DinoMetricModel = {
    name: 'dinov2-metric',
    config: { ...cfg } as unknown as ModelConfig,
    params,
    backbone,
    frozen,
    lastTerms: null,
    forward(input: ForwardInput, _opts: { training: boolean }): ForwardOutput {
      if (disposed) throw new ModelError('dinov2-metric: forward after dispose()');
      const [, H, W] = input.images.shape;
      if (input.images.rank !== 4 || H % patch !== 0 || W % patch !== 0) {
        throw new ModelError(`dinov2-metric: images must be [B,H,W,C] with H and W multiples of ${patch} (e.g. 112, 224, 462), got [${input.images.shape}]`);
      }
      const events = eventsOf(input);
      return tf.tidy(() => {
        const out = backbone.forward(input.images);
        const embeddings = head(out.patchTokens) as tf.Tensor4D; // [B,h,w,D]
        if (!events) return { embeddings };
        const loss = metricLoss(embeddings, events, cfg, sampling);
        const t = loss.terms;
        model.lastTerms = { supcon: t.supcon.dataSync()[0], uniformity: t.uniformity.dataSync()[0], separation: t.separation.dataSync()[0] };
        return { embeddings, loss: loss.total };
      }) as ForwardOutput;
    },
    dispose() {
      backbone.dispose();
      headStore.dispose();
      disposed = true;
    },
  };
  return model;
}
