import { ConfigError, didYouMean } from '../../errors';
import type { ModelConfig } from '../types';
import { SEQUENCE_ORDERS, type SequenceOrder } from './patches';

/** `bappy-patch`: the patch classifier (32x32 patches -> manipulated or not). */
export interface BappyPatchConfig {
  /** Input channels: 3 (RGB) plus any evidence planes the run appends (evidence/index.ts, inputChannels). */
  inChannels: number;
  /** Channels of the first convolution; the next two have 2x and 4x. */
  width: number;
  /** Weight of the manipulated class in the softmax cross-entropy (most patches are authentic). */
  posWeight: number;
}

export const BAPPY_PATCH_DEFAULTS: BappyPatchConfig = { inChannels: 3, width: 16, posWeight: 2 };

/** `bappy-convlstm`: patch encoder -> ConvLSTM over the 64 patches -> per-pixel decoder. */
export interface BappyConvLstmConfig {
  inChannels: number;
  /** Channels of the full-resolution patch features; the encoder's 1/4 features have 2x. */
  width: number;
  /** Hidden (and cell) channels of the ConvLSTM. */
  hidden: number;
  /** Odd kernel of the ConvLSTM's gate convolution. */
  kernel: number;
  /** The order the 64 patches are fed in (patches.ts). */
  order: SequenceOrder;
  bceWeight: number;
  diceWeight: number;
  /** Weight of the per-patch BCE on the hidden state (patch labels, IoU >= 12.5%); 0 switches it off. */
  patchWeight: number;
}

export const BAPPY_CONVLSTM_DEFAULTS: BappyConvLstmConfig = {
  inChannels: 3,
  width: 16,
  hidden: 32,
  kernel: 3,
  order: 'raster',
  bceWeight: 1,
  diceWeight: 1,
  patchWeight: 0.5,
};

function positiveInt(who: string, c: Record<string, unknown>, key: string): void {
  const v = c[key];
  if (!Number.isInteger(v) || (v as number) < 1) throw new ConfigError(`${who}: '${key}' must be an integer >= 1, got ${String(v)}`);
}

function weight(who: string, c: Record<string, unknown>, key: string): void {
  const v = c[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(`${who}: '${key}' must be a finite number >= 0, got ${String(v)}`);
}

export function validatePatchConfig(config: ModelConfig): BappyPatchConfig {
  ['inChannels', 'width'].forEach((k) => positiveInt('bappy-patch', config, k));
  weight('bappy-patch', config, 'posWeight');
  return config as unknown as BappyPatchConfig;
}

export function validateConvLstmConfig(config: ModelConfig): BappyConvLstmConfig {
  const who = 'bappy-convlstm';
  ['inChannels', 'width', 'hidden', 'kernel'].forEach((k) => positiveInt(who, config, k));
  if ((config.kernel as number) % 2 !== 1) throw new ConfigError(`${who}: 'kernel' must be odd, got ${String(config.kernel)}`);
  ['bceWeight', 'diceWeight', 'patchWeight'].forEach((k) => weight(who, config, k));
  const order = config.order as SequenceOrder;
  if (!SEQUENCE_ORDERS.includes(order)) throw new ConfigError(`${who}: unknown order '${String(order)}'; ${didYouMean(String(order), SEQUENCE_ORDERS)}`);
  return config as unknown as BappyConvLstmConfig;
}

