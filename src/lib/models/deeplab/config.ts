import { ConfigError, didYouMean } from '../../errors';
import type { ModelConfig } from '../types';

/**
 * The options of `deeplabv3plus` (CaCL-Net's training CLI in brackets): backbone [--backbone],
 * output stride [--out-stride], segmentation loss [--loss-type ce|focal], the contour band and the
 * weights of the three loss terms. `widthDivisor` and `depths` shrink the network for tests and
 * CPUs (1 and null: the published ResNet-50 with 256-channel ASPP and decoder).
 */
export interface DeeplabConfig {
  backbone: 'resnet50' | 'resnet101' | 'mobilenetv2';
  outputStride: 8 | 16;
  /** Input channels: 3 (RGB) or RGB + copy-move evidence planes (evidence/index.ts inputChannels; random init only). */
  inChannels: number;
  /** Divides every channel count (ResNet planes and stem, MobileNetV2 width_mult = 1/this, ASPP, decoder); 1 = published widths. */
  widthDivisor: number;
  /** Bottleneck blocks per ResNet layer; null = the backbone's own ([3, 4, 6, 3] for ResNet-50). ResNet only. */
  depths: [number, number, number, number] | null;
  /** ASPP and decoder channels (256) and the reduced low-level channels (48), before widthDivisor. */
  asppChannels: number;
  lowLevelChannels: number;
  /** Dimension of the per-pixel embedding the contrastive loss reads. */
  embeddingDim: number;
  /** Dropout in ASPP (0.5) and decoder (0.5, 0.1) while training. */
  dropout: boolean;
  /** A torchvision ResNet state dict (.safetensors) loaded into the backbone at build; '' = random init. ResNet only for now. */
  backboneWeights: string;
  lossType: 'ce' | 'focal';
  /** Contour half-width r in input pixels (losses/contour.ts: a band r deep on each side). */
  contourWidth: number;
  segWeight: number;
  contourWeight: number;
  contrastWeight: number;
  /** Contrastive sampling bound per side per image, and the temperature. */
  contrastSamples: number;
  temperature: number;
}

export const DEEPLAB_DEFAULTS: DeeplabConfig = {
  backbone: 'resnet50',
  outputStride: 16,
  inChannels: 3,
  widthDivisor: 1,
  depths: null,
  asppChannels: 256,
  lowLevelChannels: 48,
  embeddingDim: 32,
  dropout: true,
  backboneWeights: '',
  lossType: 'ce',
  contourWidth: 2,
  segWeight: 1,
  contourWeight: 1,
  contrastWeight: 0.1,
  contrastSamples: 64,
  temperature: 0.1,
};

const BACKBONES = ['resnet50', 'resnet101', 'mobilenetv2'];
const LOSS_TYPES = ['ce', 'focal'];

function check(ok: boolean, message: string): void {
  if (!ok) throw new ConfigError(`deeplabv3plus: ${message}`);
}

const positiveInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
const weight = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;

export function validateDeeplabConfig(config: ModelConfig): DeeplabConfig {
  const c = { ...DEEPLAB_DEFAULTS, ...config } as DeeplabConfig;
  check(BACKBONES.includes(c.backbone), `unknown backbone '${c.backbone}'; ${didYouMean(String(c.backbone), BACKBONES)}`);
  check(c.outputStride === 8 || c.outputStride === 16, `outputStride must be 8 or 16, got ${c.outputStride}`);
  check(LOSS_TYPES.includes(c.lossType), `unknown lossType '${c.lossType}'; ${didYouMean(String(c.lossType), LOSS_TYPES)}`);
  for (const k of ['inChannels', 'widthDivisor', 'asppChannels', 'lowLevelChannels', 'embeddingDim', 'contourWidth', 'contrastSamples'] as const) {
    check(positiveInt(c[k]), `'${k}' must be a positive integer, got ${String(c[k])}`);
  }
  check([64, c.asppChannels, c.lowLevelChannels].every((n) => n % c.widthDivisor === 0), `widthDivisor ${c.widthDivisor} must divide 64, asppChannels and lowLevelChannels`);
  check(c.contrastSamples >= 2, `'contrastSamples' must be >= 2, got ${c.contrastSamples}`);
  for (const k of ['segWeight', 'contourWeight', 'contrastWeight'] as const) check(weight(c[k]), `'${k}' must be a finite number >= 0, got ${String(c[k])}`);
  check(typeof c.temperature === 'number' && c.temperature > 0, `'temperature' must be > 0, got ${String(c.temperature)}`);
  check(c.depths === null || (Array.isArray(c.depths) && c.depths.length === 4 && c.depths.every(positiveInt)), `'depths' must be null or 4 positive integers`);
  check(typeof c.backboneWeights === 'string', `'backboneWeights' must be a path or ''`);
  check(!(c.backbone === 'mobilenetv2' && (c.backboneWeights || c.depths !== null)), `'backboneWeights' and 'depths' go with the ResNet backbones`);
  check(!(c.backboneWeights && c.inChannels !== 3), `imported ImageNet weights take RGB; inChannels ${c.inChannels} needs training from scratch (backboneWeights: '')`);
  check(typeof c.dropout === 'boolean', `'dropout' must be true or false`);
  return c;
}
