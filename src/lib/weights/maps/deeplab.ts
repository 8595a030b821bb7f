import type { ParamStore } from '../../models/params';
import type { ApplyReport } from '../apply';
import type { StateDict } from '../stateDict';
import { applyToTarget, readReferenceFile, torchvisionEntries, type LoadOptions } from './common';

/**
 * torchvision's `models.segmentation.deeplabv3.ASPP` state dict -> sifd's ASPP (models/deeplab/aspp.ts),
 * whose names mirror it (`convs.0.0.weight` <-> `aspp/convs/0/0/w`, the pooling branch's conv and
 * BatchNorm at `convs.4.1` / `convs.4.2`, `project.0` / `project.1`). In a torchvision
 * `deeplabv3_resnet50` checkpoint the ASPP sits under keyPrefix 'classifier.0.'; the rest of the
 * file (backbone, the other head layers, aux classifier) is ignored. `num_batches_tracked` is ignored.
 */
export function applyAsppWeights(store: ParamStore, prefix: string, dict: StateDict, opts: LoadOptions = {}): ApplyReport {
  const pre = opts.keyPrefix ?? '';
  const target = { store, prefix };
  const extra = (k: string) => k.endsWith('.num_batches_tracked') || !k.startsWith(pre);
  return applyToTarget(target, dict, torchvisionEntries(target, pre), extra, opts);
}

export function loadAsppWeights(store: ParamStore, prefix: string, file: string, opts: LoadOptions = {}): ApplyReport {
  return applyAsppWeights(store, prefix, readReferenceFile(file), opts);
}
