import * as tf from '@tensorflow/tfjs';
import { WeightsError } from '../errors';
import { takeTensor, type StateDict, type StoredTensor } from './stateDict';

/**
 * How a PyTorch tensor becomes a sifd (tfjs) variable:
 * - 'conv2d': OIHW -> HWIO;  'depthwise': (C, 1, kh, kw) -> (kh, kw, C, 1);
 * - 'linear': (out, in) -> (in, out);  'same': copied as is (biases, norms, embeddings);
 * - a function for anything model-specific (position-embedding interpolation, fused q/k/v).
 */
export type Layout = 'conv2d' | 'depthwise' | 'linear' | 'same' | ((t: StoredTensor, target: readonly number[]) => tf.Tensor);

/** One sifd parameter (its stable slash name) fed from one reference key. */
export interface WeightEntry {
  param: string;
  key: string;
  layout: Layout;
}

export interface ApplyReport {
  file: string;
  assigned: number;
  /** Reference keys no entry read (excluding those the caller says to ignore). */
  unexpected: string[];
}

/** Reference tensor -> tensor in sifd's layout (caller disposes). */
export function convertLayout(t: StoredTensor, layout: Layout, target: readonly number[]): tf.Tensor {
  if (typeof layout === 'function') return layout(t, target);
  // Inside tidy: the untransposed copy is freed (only the returned tensor survives).
  return tf.tidy(() => {
    const x = tf.tensor(t.data, t.shape);
    switch (layout) {
      case 'same':
        return x;
      case 'linear':
        return x.transpose([1, 0]);
      case 'conv2d':
        return x.transpose([2, 3, 1, 0]);
      case 'depthwise':
        return x.transpose([2, 3, 0, 1]);
    }
  });
}

/**
 * Assign every entry's reference tensor to its variable, checking shapes after conversion. Missing
 * keys, wrong shapes, parameters no entry covers and (unless `ignore` matches them) reference keys
 * no entry reads are errors naming the file and the tensors; nothing is assigned unless all pass.
 */
export function applyStateDict(
  vars: Map<string, tf.Variable>,
  dict: StateDict,
  entries: readonly WeightEntry[],
  opts: { ignore?: (key: string) => boolean; allowUnexpected?: boolean; requireAll?: boolean } = {},
): ApplyReport {
  const converted = new Map<string, tf.Tensor>();
  try {
    for (const e of entries) {
      const v = vars.get(e.param);
      if (!v) throw new WeightsError(`the name map feeds '${e.param}' from '${e.key}', but the model has no such parameter`, dict.file);
      const t = convertLayout(takeTensor(dict, e.key), e.layout, v.shape);
      converted.set(e.param, t);
      if (!tf.util.arraysEqual(t.shape, v.shape)) {
        throw new WeightsError(`tensor '${e.key}' [${takeTensor(dict, e.key).shape.join(', ')}] gives [${t.shape.join(', ')}] for '${e.param}', which is [${v.shape.join(', ')}]`, dict.file);
      }
    }
    if (opts.requireAll !== false) {
      const fed = new Set(entries.map((e) => e.param));
      const unfed = [...vars.keys()].filter((k) => !fed.has(k));
      if (unfed.length) throw new WeightsError(`${unfed.length} model parameter(s) have no tensor in the file: ${unfed.slice(0, 8).join(', ')}`, dict.file);
    }
    const read = new Set(entries.map((e) => e.key));
    const unexpected = [...dict.tensors.keys()].filter((k) => !read.has(k) && !opts.ignore?.(k));
    if (unexpected.length && !opts.allowUnexpected) {
      throw new WeightsError(`${unexpected.length} unexpected tensor(s) in the file: ${unexpected.slice(0, 8).join(', ')}`, dict.file);
    }
    for (const [param, t] of converted) vars.get(param)!.assign(t);
    return { file: dict.file, assigned: converted.size, unexpected };
  } finally {
    for (const t of converted.values()) t.dispose();
  }
}
