import * as tf from '@tensorflow/tfjs';
import { WeightsError } from '../../errors';
import { MIT_VARIANTS, type MitConfig } from '../../models/segformer/mit';
import { applyStateDict, type Layout, type WeightEntry } from '../apply';
import { loadStateDict } from '../load';
import type { StateDict, StoredTensor } from '../stateDict';

/**
 * HF SegFormer (MiT encoder, optionally the all-MLP decode head) state dict -> sifd's segformer
 * parameters (models/segformer/mit.ts, decoder.ts). Two spellings are read, each under any prefix
 * (`segformer.`, `module.`, none):
 * - the hub's (`nvidia/mit-b0`, `nvidia/segformer-b0-finetuned-ade-512-512`; transformers < 5):
 *   `encoder.block.0.1.attention.self.query.weight`, `decode_head.linear_c.0.proj.weight`;
 * - transformers >= 5's module names, which it renames the hub's to on load:
 *   `stages.0.blocks.1.attention.q_proj.weight`, `decode_head.linear_projections.0.proj.weight`.
 * Error messages name the keys as the file spells them.
 */
export type MitNaming = 'hub' | 'transformers5';

/** Reference key stems (no `.weight`/`.bias`) of one naming. */
interface Names {
  patchProj(i: number): string;
  patchNorm(i: number): string;
  block(i: number, j: number): string;
  query: string;
  key: string;
  value: string;
  sr: string;
  srNorm: string;
  out: string;
  norm1: string;
  norm2: string;
  fc1: string;
  dwconv: string;
  fc2: string;
  stageNorm(i: number): string;
  decodeProj(i: number): string;
}

const NAMES: Record<MitNaming, Names> = {
  hub: {
    patchProj: (i) => `encoder.patch_embeddings.${i}.proj`,
    patchNorm: (i) => `encoder.patch_embeddings.${i}.layer_norm`,
    block: (i, j) => `encoder.block.${i}.${j}.`,
    query: 'attention.self.query',
    key: 'attention.self.key',
    value: 'attention.self.value',
    sr: 'attention.self.sr',
    srNorm: 'attention.self.layer_norm',
    out: 'attention.output.dense',
    norm1: 'layer_norm_1',
    norm2: 'layer_norm_2',
    fc1: 'mlp.dense1',
    dwconv: 'mlp.dwconv.dwconv',
    fc2: 'mlp.dense2',
    stageNorm: (i) => `encoder.layer_norm.${i}`,
    decodeProj: (i) => `decode_head.linear_c.${i}.proj`,
  },
  transformers5: {
    patchProj: (i) => `stages.${i}.patch_embeddings.proj`,
    patchNorm: (i) => `stages.${i}.patch_embeddings.layer_norm`,
    block: (i, j) => `stages.${i}.blocks.${j}.`,
    query: 'attention.q_proj',
    key: 'attention.k_proj',
    value: 'attention.v_proj',
    sr: 'attention.sequence_reduction.sequence_reduction',
    srNorm: 'attention.sequence_reduction.layer_norm',
    out: 'attention.o_proj',
    norm1: 'layernorm_before',
    norm2: 'layernorm_after',
    fc1: 'mlp.fc1',
    dwconv: 'mlp.dwconv.dwconv',
    fc2: 'mlp.fc2',
    stageNorm: (i) => `stages.${i}.layer_norm`,
    decodeProj: (i) => `decode_head.linear_projections.${i}.proj`,
  },
};

/** Where the encoder sits in a file: its naming, the prefix before it, and its shape. */
export interface MitLayout {
  naming: MitNaming;
  /** Text before the encoder's names (`segformer.`, `module.segformer.` or ''). */
  prefix: string;
  embedDims: number[];
  depths: number[];
  /** Hidden width / embedding width of each stage's Mix-FFN. */
  mlpRatios: number[];
  /** Text before `decode_head.` when the file has HF's decode head, else null. */
  decodeHead: string | null;
}

/** Recognise a SegFormer/MiT state dict and read its structure; a clear error otherwise. */
export function detectMitLayout(dict: StateDict): MitLayout {
  const keys = [...dict.tensors.keys()];
  for (const naming of ['hub', 'transformers5'] as const) {
    const n = NAMES[naming];
    const anchor = `${n.patchProj(0)}.weight`;
    const hit = keys.find((k) => k === anchor || k.endsWith(`.${anchor}`));
    if (!hit) continue;
    const prefix = hit.slice(0, hit.length - anchor.length);
    const embedDims: number[] = [];
    const depths: number[] = [];
    const mlpRatios: number[] = [];
    for (let i = 0; dict.tensors.has(`${prefix}${n.patchProj(i)}.weight`); i++) {
      embedDims.push(dict.tensors.get(`${prefix}${n.patchProj(i)}.weight`)!.shape[0]);
      let j = 0;
      while (dict.tensors.has(`${prefix}${n.block(i, j)}${n.norm1}.weight`)) j++;
      depths.push(j);
      const fc1 = dict.tensors.get(`${prefix}${n.block(i, 0)}${n.fc1}.weight`);
      mlpRatios.push(fc1 ? fc1.shape[0] / embedDims[i] : NaN);
    }
    const fuse = keys.find((k) => k === 'decode_head.linear_fuse.weight' || k.endsWith('.decode_head.linear_fuse.weight'));
    const decodeHead = fuse === undefined ? null : fuse.slice(0, fuse.length - 'decode_head.linear_fuse.weight'.length);
    return { naming, prefix, embedDims, depths, mlpRatios, decodeHead };
  }
  throw new WeightsError(
    `not a SegFormer/MiT state dict: no 'encoder.patch_embeddings.0.proj.weight' (hub naming) or 'stages.0.patch_embeddings.proj.weight' (transformers 5) under any prefix; first keys: ${keys.slice(0, 5).join(', ')}`,
    dict.file,
  );
}

/** The published variant whose widths and depths the file has, or undefined. */
export function matchMitVariant(layout: MitLayout): string | undefined {
  return Object.keys(MIT_VARIANTS).find((name) => {
    const v = MIT_VARIANTS[name];
    return sameNumbers(v.embedDims, layout.embedDims) && sameNumbers(v.depths, layout.depths) && layout.mlpRatios.every((r) => r === v.mlpRatio);
  });
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function describe(widths: readonly number[], depths: readonly number[], mlp: readonly number[] | number): string {
  return `widths [${widths.join(', ')}], depths [${depths.join(', ')}], MLP ratio ${Array.isArray(mlp) ? [...new Set(mlp)].join('/') : mlp}`;
}

/** The file's encoder must be the configured one; else say which variant it is. */
function checkStructure(dict: StateDict, layout: MitLayout, cfg: MitConfig): void {
  if (sameNumbers(cfg.embedDims, layout.embedDims) && sameNumbers(cfg.depths, layout.depths) && layout.mlpRatios.every((r) => r === cfg.mlpRatio)) return;
  const fits = matchMitVariant(layout);
  throw new WeightsError(
    `the file's MiT has ${describe(layout.embedDims, layout.depths, layout.mlpRatios)}; the model's has ${describe(cfg.embedDims, cfg.depths, cfg.mlpRatio)}` +
      (fits ? `: build variant '${fits}'` : ' (no sifd variant matches)'),
    dict.file,
  );
}

/** Name map of the encoder: sifd parameter under `sifdPrefix` <- reference key. */
export function mitEntries(cfg: MitConfig, layout: Pick<MitLayout, 'naming' | 'prefix'>, sifdPrefix = 'encoder'): WeightEntry[] {
  const n = NAMES[layout.naming];
  const out: WeightEntry[] = [];
  const linear = (param: string, ref: string, concat?: string) => {
    out.push({ param: `${param}/w`, key: `${ref}.weight`, layout: 'linear', ...(concat ? { concat: [`${concat}.weight`] } : {}) });
    out.push({ param: `${param}/b`, key: `${ref}.bias`, layout: 'same', ...(concat ? { concat: [`${concat}.bias`] } : {}) });
  };
  const conv = (param: string, ref: string, kind: Layout) => {
    out.push({ param: `${param}/w`, key: `${ref}.weight`, layout: kind }, { param: `${param}/b`, key: `${ref}.bias`, layout: 'same' });
  };
  const norm = (param: string, ref: string) => {
    out.push({ param: `${param}/gamma`, key: `${ref}.weight`, layout: 'same' }, { param: `${param}/beta`, key: `${ref}.bias`, layout: 'same' });
  };
  const p = layout.prefix;
  cfg.embedDims.forEach((_, i) => {
    const s = `${sifdPrefix}/stage${i + 1}`;
    conv(`${s}/patch_embed/proj`, p + n.patchProj(i), i === 0 ? widenInputChannels : 'conv2d');
    norm(`${s}/patch_embed/norm`, p + n.patchNorm(i));
    for (let j = 0; j < cfg.depths[i]; j++) {
      const b = `${s}/block${j}`;
      const r = p + n.block(i, j);
      norm(`${b}/norm1`, r + n.norm1);
      linear(`${b}/attn/q`, r + n.query);
      // sifd computes keys and values with one fused linear: its output is [keys | values].
      linear(`${b}/attn/kv`, r + n.key, r + n.value);
      if (cfg.srRatios[i] > 1) {
        conv(`${b}/attn/sr`, r + n.sr, 'conv2d');
        norm(`${b}/attn/sr_norm`, r + n.srNorm);
      }
      linear(`${b}/attn/proj`, r + n.out);
      norm(`${b}/norm2`, r + n.norm2);
      linear(`${b}/ffn/fc1`, r + n.fc1);
      conv(`${b}/ffn/dwconv`, r + n.dwconv, 'depthwise');
      linear(`${b}/ffn/fc2`, r + n.fc2);
    }
    norm(`${s}/norm`, p + n.stageNorm(i));
  });
  return out;
}

/**
 * The first patch embedding, OIHW -> HWIO, widened with zero kernels when sifd's model takes more
 * input channels than RGB (evidence planes, train --evidence): at the start the network computes
 * exactly what the pretrained one does on RGB, and learns what the extra channels are worth.
 */
const widenInputChannels = (t: StoredTensor, target: readonly number[]): tf.Tensor =>
  tf.tidy(() => {
    const hwio = tf.tensor(t.data, t.shape).transpose([2, 3, 1, 0]);
    const extra = target[2] - t.shape[1];
    return extra > 0 ? tf.pad(hwio, [[0, 0], [0, 0], [0, extra], [0, 0]]) : hwio;
  });

/** A 1x1 conv [out, in, 1, 1] as sifd's linear [in, out]. */
const conv1x1AsLinear = (t: StoredTensor): tf.Tensor => tf.tidy(() => tf.tensor(t.data, [t.shape[0], t.shape[1]]).transpose([1, 0]));

/**
 * The decode head's parts that sifd's decoder computes the same way: the per-stage projections
 * (`linear_c`) and the fusion (`linear_fuse`, when sifd's fusion has no correlation input). HF's
 * BatchNorm after the fusion (sifd uses a LayerNorm there) and its classifier (ADE/Cityscapes
 * classes, not forgery) have no sifd counterpart and are left out.
 */
export function decodeHeadEntries(dict: StateDict, layout: MitLayout, vars: Map<string, tf.Variable>, sifdPrefix = 'decoder'): WeightEntry[] {
  if (layout.decodeHead === null) return [];
  const n = NAMES[layout.naming];
  const out: WeightEntry[] = [];
  for (let i = 0; i < layout.embedDims.length; i++) {
    const ref = `${layout.decodeHead}${n.decodeProj(i)}`;
    const w = dict.tensors.get(`${ref}.weight`);
    const target = vars.get(`${sifdPrefix}/linear_c${i + 1}/w`);
    if (!w || !target || w.shape[0] !== target.shape[1]) return []; // another decoder width: keep sifd's own
    out.push({ param: `${sifdPrefix}/linear_c${i + 1}/w`, key: `${ref}.weight`, layout: 'linear' }, { param: `${sifdPrefix}/linear_c${i + 1}/b`, key: `${ref}.bias`, layout: 'same' });
  }
  const fuseKey = `${layout.decodeHead}decode_head.linear_fuse.weight`;
  const fuse = dict.tensors.get(fuseKey)!;
  const target = vars.get(`${sifdPrefix}/fuse/w`);
  if (target && target.shape[0] === fuse.shape[1] && target.shape[1] === fuse.shape[0]) out.push({ param: `${sifdPrefix}/fuse/w`, key: fuseKey, layout: conv1x1AsLinear });
  return out;
}

export interface MitImportReport {
  file: string;
  naming: MitNaming;
  /** Parameters assigned (encoder + decoder). */
  assigned: number;
  /** sifd decoder parameters fed from the decode head. */
  decoder: string[];
  /** File tensors sifd has no place for (decode-head BatchNorm and classifier, a classification head). */
  ignored: string[];
}

/**
 * Assign a SegFormer state dict to the MiT encoder under `encoderPrefix` (every encoder parameter
 * must be fed, every encoder tensor of the file used) and, where shapes allow, to the decoder.
 * Nothing is assigned unless all checks pass.
 */
export function importMit(vars: Map<string, tf.Variable>, dict: StateDict, cfg: MitConfig, opts: { encoderPrefix?: string; decoderPrefix?: string } = {}): MitImportReport {
  const encoderPrefix = opts.encoderPrefix ?? 'encoder';
  const layout = detectMitLayout(dict);
  checkStructure(dict, layout, cfg);
  const decoder = decodeHeadEntries(dict, layout, vars, opts.decoderPrefix ?? 'decoder');
  const entries = [...mitEntries(cfg, layout, encoderPrefix), ...decoder];
  const fed = new Set(entries.map((e) => e.param));
  // The encoder must be fed whole; the decoder's other parameters (and sifd-only modules) keep their values.
  const targets = new Map([...vars].filter(([name]) => name.startsWith(`${encoderPrefix}/`) || fed.has(name)));
  const encoderRoot = layout.naming === 'hub' ? `${layout.prefix}encoder.` : `${layout.prefix}stages.`;
  const read = new Set(entries.flatMap((e) => [e.key, ...(e.concat ?? [])]));
  const outside = (k: string) => !k.startsWith(encoderRoot);
  const report = applyStateDict(targets, dict, entries, { ignore: outside });
  const ignored = [...dict.tensors.keys()].filter((k) => !read.has(k) && outside(k));
  return { file: dict.file, naming: layout.naming, assigned: report.assigned, decoder: decoder.map((e) => e.param), ignored };
}

/** The sifd variant of the MiT in a weights file (notebooks pick their variant from SIFD_WEIGHTS this way). */
export function mitVariantOfFile(file: string): string {
  const dict = loadStateDict(file);
  const layout = detectMitLayout(dict);
  const variant = matchMitVariant(layout);
  if (!variant) throw new WeightsError(`no sifd MiT variant has ${describe(layout.embedDims, layout.depths, layout.mlpRatios)}; known: ${Object.keys(MIT_VARIANTS).join(', ')}`, file);
  return variant;
}
