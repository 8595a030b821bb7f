import type { Dinov2 } from '../../models/backbones/vit-dinov2';
import { WeightsError } from '../../errors';
import type { ApplyReport, Layout, WeightEntry } from '../apply';
import type { StateDict } from '../stateDict';
import { applyToTarget, readReferenceFile, targetVariables, type LoadOptions } from './common';

/**
 * transformers >= 5 names the attention projections `attention.{q,k,v,o}_proj`; the hub's checkpoints
 * (saved by transformers 4) say `attention.attention.{query,key,value}` and `attention.output.dense`.
 * Both are read: the file decides.
 */
const LEGACY_ATTENTION: Record<string, string> = {
  q_proj: 'attention.query',
  k_proj: 'attention.key',
  v_proj: 'attention.value',
  o_proj: 'output.dense',
};

/** Leaf -> HF attribute and layout; `w` is a Linear (out, in) except the patch-embedding conv. */
function leaf(path: string[]): { attr: string; layout: Layout } {
  const last = path[path.length - 1];
  if (last === 'w') return { attr: 'weight', layout: path.includes('patch_embeddings') ? 'conv2d' : 'linear' };
  if (last === 'b') return { attr: 'bias', layout: 'same' };
  if (last === 'gamma') return { attr: 'weight', layout: 'same' };
  if (last === 'beta') return { attr: 'bias', layout: 'same' };
  return { attr: last, layout: 'same' }; // cls_token, position_embeddings, lambda1
}

/** The key prefix HF puts before the backbone in task models ('dinov2.' in Dinov2ForImageClassification), when there. */
function detectPrefix(dict: StateDict): string {
  if (dict.tensors.has('embeddings.cls_token')) return '';
  if (dict.tensors.has('dinov2.embeddings.cls_token')) return 'dinov2.';
  throw new WeightsError("no 'embeddings.cls_token' (nor 'dinov2.embeddings.cls_token'): not an HF Dinov2Model state dict", dict.file);
}

export function dinov2Entries(model: Dinov2, dict: StateDict, keyPrefix: string): WeightEntry[] {
  const legacy = dict.tensors.has(`${keyPrefix}encoder.layer.0.attention.attention.query.weight`);
  return [...targetVariables(model).keys()].map((param) => {
    const path = param.slice(model.prefix.length + 1).split('/');
    const { attr, layout } = leaf(path);
    const mid = path.slice(0, -1).map((s) => (legacy && LEGACY_ATTENTION[s]) || s);
    return { param, key: keyPrefix + [...mid, attr].join('.'), layout };
  });
}

/**
 * HF `Dinov2Model` state dict (hub `facebook/dinov2-small`, `facebook/dinov2-base`: model.safetensors)
 * -> sifd's Dinov2. Linear weights are transposed, the patch conv OIHW -> HWIO, the rest copied; the
 * position table is kept at the checkpoint's grid (37x37 for 518 px) and resampled per input at run
 * time as HF does, so the model's `imageSize` must be the checkpoint's (518 for the hub's). The
 * `mask_token` (masked-image pre-training only) is ignored. `Dinov2WithRegistersModel` files (hub
 * `facebook/dinov2-with-registers-*`) load into a model with `registers: 4`.
 */
export function applyDinov2Weights(model: Dinov2, dict: StateDict, opts: LoadOptions = {}): ApplyReport {
  const pre = opts.keyPrefix ?? detectPrefix(dict);
  return applyToTarget(model, dict, dinov2Entries(model, dict, pre), (k) => k === `${pre}embeddings.mask_token`, opts);
}

export function loadDinov2Weights(model: Dinov2, file: string, opts: LoadOptions = {}): ApplyReport {
  return applyDinov2Weights(model, readReferenceFile(file), opts);
}
