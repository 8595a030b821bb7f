import type { ResNet } from '../../models/backbones/resnet';
import type { ApplyReport } from '../apply';
import type { StateDict } from '../stateDict';
import { applyToTarget, readReferenceFile, torchvisionEntries, type LoadOptions } from './common';

/**
 * torchvision ResNet state dict -> sifd's ResNet: `conv1`, `bn1`, `layerN.M.{conv,bn}K`,
 * `layerN.M.downsample.{0,1}` one to one (convs OIHW -> HWIO, BatchNorm weight/bias and running
 * statistics); `fc.*` and `num_batches_tracked` are ignored. Dilation changes no weight, so the same
 * file serves output stride 32, 16 and 8. Official weights: `ResNet50_Weights.IMAGENET1K_V1`
 * (resnet50-0676ba61.pth), `IMAGENET1K_V2` (resnet50-11ad3fa6.pth), `ResNet101_Weights.IMAGENET1K_V1`
 * (resnet101-63fe2227.pth), `IMAGENET1K_V2` (resnet101-cd907fc2.pth).
 */
export function applyResNetWeights(model: ResNet, dict: StateDict, opts: LoadOptions = {}): ApplyReport {
  const pre = opts.keyPrefix ?? '';
  const extra = (k: string) => k.endsWith('.num_batches_tracked') || k.startsWith(`${pre}fc.`);
  return applyToTarget(model, dict, torchvisionEntries(model, pre), extra, opts);
}

export function loadResNetWeights(model: ResNet, file: string, opts: LoadOptions = {}): ApplyReport {
  return applyResNetWeights(model, readReferenceFile(file), opts);
}
