import * as tf from '@tensorflow/tfjs';
import type { MaskRcnn } from '../../models/maskrcnn/model';
import { applyStateDict, type ApplyReport, type Layout, type WeightEntry } from '../apply';
import type { StateDict, StoredTensor } from '../stateDict';
import { applyMobileNetV3Weights } from './mobilenetv3';
import { readReferenceFile, torchvisionEntries, type LoadOptions } from './common';

/**
 * A whole torchvision MaskRCNN state dict (the seed's configuration: `backbone.0` = mobilenet_v3_small
 * features, `backbone.1` conv, `backbone.2` BatchNorm, `rpn.head.*`, `roi_heads.box_head.fc6/fc7`,
 * `roi_heads.box_predictor.*`, `roi_heads.mask_head.N.0`, `roi_heads.mask_predictor.*`) -> sifd's
 * MaskRcnn. Convs (and the mask predictor's ConvTranspose2d, whose (in, out, kh, kw) goes to tfjs's
 * [kh, kw, out, in] by the same permutation) are OIHW -> HWIO; linears are transposed; fc6 also
 * reorders its input from PyTorch's (C, 7, 7) flattening to sifd's NHWC (7, 7, C).
 * Files are read by common.ts `readReferenceFile` (weights/load.ts `loadStateDict`): torchvision's
 * `.pth` downloads and safetensors alike.
 */
const LINEAR = /^roi_heads\/box_(head\/fc7|predictor\/(cls_score|bbox_pred))\/w$/;
const FC6 = 'roi_heads/box_head/fc6/w';

/** fc6 weight (out, C*7*7) in PyTorch's channel-major order -> [7*7*C, out] in sifd's (h, w, c) order. */
const fc6Layout: Layout = (t: StoredTensor, target: readonly number[]) =>
  tf.tidy(() => {
    const out = t.shape[0];
    const c = t.shape[1] / 49;
    return tf.tensor(t.data, [out, c, 7, 7]).transpose([2, 3, 1, 0]).reshape([...target]);
  });

export function maskRcnnEntries(model: MaskRcnn): WeightEntry[] {
  const store = model.store;
  const entries = ['backbone', 'rpn', 'roi_heads'].flatMap((prefix) => torchvisionEntries({ store, prefix }, `${prefix}.`));
  return entries.map((e) => {
    // the features Sequential is backbone.0 itself: no `features` level in torchvision's keys
    const key = e.key.replace(/^backbone\.0\.features\./, 'backbone.0.');
    if (e.param === FC6) return { ...e, key, layout: fc6Layout };
    if (LINEAR.test(e.param)) return { ...e, key, layout: 'linear' as const };
    return { ...e, key };
  });
}

export function applyMaskRcnnWeights(model: MaskRcnn, dict: StateDict, opts: LoadOptions = {}): ApplyReport {
  const entries = maskRcnnEntries(model).map((e) => ({ ...e, key: (opts.keyPrefix ?? '') + e.key }));
  return applyStateDict(model.store.all(), dict, entries, { ignore: (k) => k.endsWith('.num_batches_tracked'), allowUnexpected: opts.allowUnexpected });
}

export function loadMaskRcnnWeights(model: MaskRcnn, file: string, opts: LoadOptions = {}): ApplyReport {
  return applyMaskRcnnWeights(model, readReferenceFile(file), opts);
}

/** torchvision's ImageNet `mobilenet_v3_small` state dict (classifier ignored) into the detector's backbone. */
export function loadMaskRcnnBackboneWeights(model: MaskRcnn, file: string, opts: LoadOptions = {}): ApplyReport {
  return applyMobileNetV3Weights(model.backbone.mobilenet, readReferenceFile(file), opts);
}
