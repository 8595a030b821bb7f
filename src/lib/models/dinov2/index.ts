import { registerModel } from '../registry';
import type { ModelConfig } from '../types';
import { CASCADE_TUNING, decodeCascade, makeCascadeDecode, type CascadeParams } from './cascade';
import { buildDinoMetric, DINO_METRIC_DEFAULTS } from './model';

/**
 * Registers `dinov2-metric`: DINOv2 tokens + projection head trained as a metric space
 * (PixelSupCon + uniformity + inter-instance separation), decoded by the HDBSCAN cascade.
 * Inputs must be multiples of 14 px (462 gives the reference 33x33 grid; 112 or 224 for `tiny`).
 */
registerModel('dinov2-metric', {
  description: 'DINOv2 ViT tokens + MLP projection head, pixel contrastive metric learning, HDBSCAN cascade decoding',
  defaults: { ...DINO_METRIC_DEFAULTS } as unknown as ModelConfig,
  targets: ['instances'],
  decode: decodeCascade,
  decodeWith: (params) => makeCascadeDecode(params as Partial<CascadeParams>),
  tuning: CASCADE_TUNING,
  build: (config, rng) => buildDinoMetric(config, rng),
});

export { buildDinoMetric, DINO_METRIC_DEFAULTS, type DinoMetricConfig, type DinoMetricModel } from './model';
export { CASCADE_DEFAULTS, CASCADE_TUNING, cascadeToInstances, decodeCascade, makeCascadeDecode, runCascade, validateCascadeParams, type CascadeEvent, type CascadeParams, type CascadeResult } from './cascade';
export { growPixels, growRegion, growTokens, upsampleBilinear, upsampleNearest } from './grow';
export { suspicionScore, type Suspicion } from './suspicion';
export { headSize, makeProjectionHead } from './head';
export { metricLoss, type MetricLossConfig } from './loss';
