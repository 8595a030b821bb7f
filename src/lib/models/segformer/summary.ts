import type * as tf from '@tensorflow/tfjs';

export interface ParameterRow {
  module: string;
  tensors: number;
  parameters: number;
  share: string;
}

/**
 * Parameter table of a model, grouped by the first `depth` segments of the stable names
 * (`encoder/stage1`, `decoder`, ...), in first-seen order, with a total row.
 */
export function parameterTable(params: ReadonlyMap<string, tf.Variable>, depth = 2): ParameterRow[] {
  const groups = new Map<string, { tensors: number; parameters: number }>();
  let total = 0;
  for (const [name, v] of params) {
    const key = name.split('/').slice(0, depth).join('/');
    const g = groups.get(key) ?? { tensors: 0, parameters: 0 };
    g.tensors += 1;
    g.parameters += v.size;
    groups.set(key, g);
    total += v.size;
  }
  const pct = (n: number) => `${((100 * n) / Math.max(1, total)).toFixed(1)}%`;
  const rows = [...groups].map(([module, g]) => ({ module, tensors: g.tensors, parameters: g.parameters, share: pct(g.parameters) }));
  rows.push({ module: 'total', tensors: params.size, parameters: total, share: '100.0%' });
  return rows;
}
