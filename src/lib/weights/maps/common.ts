import type * as tf from '@tensorflow/tfjs';
import { WeightsError } from '../../errors';
import type { ParamStore } from '../../models/params';
import { applyStateDict, type ApplyReport, type Layout, type WeightEntry } from '../apply';
import { loadStateDict } from '../load';
import type { StateDict } from '../stateDict';

/** A backbone's weights inside a (possibly shared) store: every parameter and buffer under `${prefix}/`. */
export interface WeightTarget {
  store: ParamStore;
  prefix: string;
}

/** The target's parameters and buffers (BatchNorm running statistics), which an import fills alike. */
export function targetVariables(t: WeightTarget): Map<string, tf.Variable> {
  const head = `${t.prefix}/`;
  return new Map([...t.store.all()].filter(([name]) => name.startsWith(head)));
}

/** The reference state dict in `file`: safetensors or a PyTorch `.pth`/`.bin` (weights/load.ts tells them apart by their bytes). */
export function readReferenceFile(file: string): StateDict {
  return loadStateDict(file);
}

/** Last name segment of a sifd parameter -> PyTorch's attribute, for torchvision's conv/BatchNorm modules. */
const TORCH_LEAF: Record<string, { attr: string; layout: Layout }> = {
  w: { attr: 'weight', layout: 'conv2d' },
  dw: { attr: 'weight', layout: 'depthwise' },
  b: { attr: 'bias', layout: 'same' },
  gamma: { attr: 'weight', layout: 'same' },
  beta: { attr: 'bias', layout: 'same' },
  mean: { attr: 'running_mean', layout: 'same' },
  var: { attr: 'running_var', layout: 'same' },
};

/**
 * Entries for a torchvision module whose sifd names mirror its state dict (`layer1/0/conv1/w` <->
 * `layer1.0.conv1.weight`): the path is kept, the leaf translated, `keyPrefix` prepended.
 */
export function torchvisionEntries(t: WeightTarget, keyPrefix = ''): WeightEntry[] {
  return [...targetVariables(t).keys()].map((param) => {
    const path = param.slice(t.prefix.length + 1).split('/');
    const leaf = TORCH_LEAF[path[path.length - 1]];
    if (!leaf) throw new WeightsError(`sifd parameter '${param}' has no torchvision counterpart (map leaves: ${Object.keys(TORCH_LEAF).join(', ')})`);
    return { param, key: keyPrefix + [...path.slice(0, -1), leaf.attr].join('.'), layout: leaf.layout };
  });
}

/** Options every family's loader takes. */
export interface LoadOptions {
  /** A prefix of every key in the file (e.g. 'backbone.' in a detection checkpoint); default: none. */
  keyPrefix?: string;
  /** Tolerate keys the map does not read (default: they are an error, except the family's known extras). */
  allowUnexpected?: boolean;
}

/** Read `file` and assign it to the target through `entries`; `ignore` names the file's known extras (heads). */
export function applyToTarget(
  t: WeightTarget,
  dict: StateDict,
  entries: WeightEntry[],
  ignore: (key: string) => boolean,
  opts: LoadOptions,
): ApplyReport {
  return applyStateDict(targetVariables(t), dict, entries, { ignore, allowUnexpected: opts.allowUnexpected });
}
