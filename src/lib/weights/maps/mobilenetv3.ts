import type { MobileNetV3 } from '../../models/backbones/mobilenetv3';
import type { ApplyReport } from '../apply';
import type { StateDict } from '../stateDict';
import { applyToTarget, readReferenceFile, torchvisionEntries, type LoadOptions } from './common';

/**
 * torchvision `mobilenet_v3_small` / `_large` state dict -> sifd's MobileNetV3: `features.N...` keys
 * one to one (convs OIHW -> HWIO, depthwise (C,1,k,k) -> (k,k,C,1), BatchNorm weight/bias and running
 * statistics); the classifier and BatchNorm's `num_batches_tracked` are ignored.
 * Official weights: `MobileNet_V3_Small_Weights.IMAGENET1K_V1` (mobilenet_v3_small-047dcff4.pth),
 * `MobileNet_V3_Large_Weights.IMAGENET1K_V1` (mobilenet_v3_large-8738ca79.pth) and `IMAGENET1K_V2`
 * (mobilenet_v3_large-5c1a4163.pth).
 */
export function applyMobileNetV3Weights(model: MobileNetV3, dict: StateDict, opts: LoadOptions = {}): ApplyReport {
  const pre = opts.keyPrefix ?? '';
  const extra = (k: string) => k.endsWith('.num_batches_tracked') || k.startsWith(`${pre}classifier.`);
  return applyToTarget(model, dict, torchvisionEntries(model, pre), extra, opts);
}

export function loadMobileNetV3Weights(model: MobileNetV3, file: string, opts: LoadOptions = {}): ApplyReport {
  return applyMobileNetV3Weights(model, readReferenceFile(file), opts);
}
