import type { MobileNetV2 } from '../../models/backbones/mobilenetv2';
import type { ApplyReport } from '../apply';
import type { StateDict } from '../stateDict';
import { applyToTarget, readReferenceFile, torchvisionEntries, type LoadOptions } from './common';

/**
 * torchvision MobileNetV2 state dict -> sifd's MobileNetV2 backbone: `features.0..17` one to one
 * (depthwise kernels OIHW [C,1,3,3] -> [3,3,C,1]); `features.18` (the last 1x1 conv, which DeepLab
 * does not use), `classifier.*` and `num_batches_tracked` are ignored. Official weights:
 * `MobileNet_V2_Weights.IMAGENET1K_V1` (mobilenet_v2-b0353104.pth), `IMAGENET1K_V2` (mobilenet_v2-7ebf99e0.pth).
 */
export function applyMobileNetV2Weights(model: MobileNetV2, dict: StateDict, opts: LoadOptions = {}): ApplyReport {
  const pre = opts.keyPrefix ?? '';
  const extra = (k: string) => k.endsWith('.num_batches_tracked') || k.startsWith(`${pre}classifier.`) || k.startsWith(`${pre}features.18.`);
  return applyToTarget(model, dict, torchvisionEntries(model, pre), extra, opts);
}

export function loadMobileNetV2Weights(model: MobileNetV2, file: string, opts: LoadOptions = {}): ApplyReport {
  return applyMobileNetV2Weights(model, readReferenceFile(file), opts);
}
