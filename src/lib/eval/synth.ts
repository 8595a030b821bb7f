/**
 * Evaluation of any Predictor on freshly generated synthetic figures: Kaggle oF1 and pixel F1
 * (via metrics/evaluate), plus what the generator's records allow beyond a plain dataset:
 * scores per figure family, per copy transform (translation / rotation / scale / flip), and the
 * false-positive rate on authentic figures. Images are generated one at a time from `seed`, so
 * nothing is written to disk and the same seed always gives the same set.
 */
import type { Masks } from '../data/types';
import { maskChannel } from '../data/types';
import { generateImage } from '../data/synth/generate';
import type { Box, Family, FigureFamily, GeneratorName } from '../data/synth/manifest';
import type { SizeRange } from '../data/synth/generate';
import { ConfigError } from '../errors';
import type { Predictor } from '../infer/types';
import { EvaluationAccumulator, evaluationSummary, type Evaluation } from '../metrics/evaluate';
import { pixelF1 } from '../metrics/of1';
import { Rng } from '../util/random';

export interface SynthEvalOptions {
  /** Generator seed; keep seeds used for tuning apart from the ones reported. */
  seed: number | string;
  /** Number of images. */
  n: number;
  /** Image side range (default 256-1024). */
  sizes?: SizeRange;
  /** Share of forged images (default 0.5). */
  forgedRatio?: number;
  families?: readonly FigureFamily[];
  /** Generator (default 'realistic'). */
  generator?: GeneratorName;
  /** Called after every image (progress bars). */
  onImage?: (done: number, total: number, row: SynthImageResult) => void;
}

export interface SynthImageResult {
  index: number;
  family: Family;
  forged: boolean;
  width: number;
  height: number;
  of1: number;
  pixel_f1: number;
  n_true: number;
  n_pred: number;
  ms: number;
}

/** Per copy instance: how well the best predicted instance covers it. */
export interface CopyResult {
  image: number;
  family: Family;
  transform: string;
  /** Share of the copy's pixels covered by the prediction (instances are events: source and copies together). */
  covered: number;
}

export interface GroupRow {
  group: string;
  n: number;
  of1: number;
  /** Share of images called forged (for authentic groups: the false-positive rate). */
  called_forged: number;
}

export interface TransformRow {
  transform: string;
  copies: number;
  /** Mean share of each copy's pixels that the prediction covers, and the share of copies at least half covered. */
  mean_covered: number;
  found: number;
}

export interface SynthEvaluation {
  summary: Record<string, number | null>;
  evaluation: Evaluation;
  images: SynthImageResult[];
  copies: CopyResult[];
  byFamily: GroupRow[];
  byTransform: TransformRow[];
  /** Share of authentic images with at least one predicted instance. */
  falsePositiveRate: number;
  meanMs: number;
}

export async function evaluateOnSynth(predictor: Predictor, opts: SynthEvalOptions): Promise<SynthEvaluation> {
  if (!Number.isInteger(opts.n) || opts.n < 1) throw new ConfigError(`n must be a positive integer, got ${opts.n}`);
  const rng = new Rng(opts.seed);
  const sizes = opts.sizes ?? { min: 256, max: 1024 };
  const forgedRatio = opts.forgedRatio ?? 0.5;
  const acc = new EvaluationAccumulator();
  const images: SynthImageResult[] = [];
  const copies: CopyResult[] = [];
  for (let i = 0; i < opts.n; i++) {
    const g = generateImage(rng.fork(), { sizes, forged: rng.bool(forgedRatio), families: opts.families, generator: opts.generator });
    const t0 = performance.now();
    const pred = await predictor.predict(g.image);
    const ms = performance.now() - t0;
    const r = acc.add(
      { caseId: String(i), shape: [g.image.height, g.image.width], masks: () => g.masks, source: `synth ${String(opts.seed)}#${i}` },
      { instances: pred.instances, imageScore: pred.scores.length ? Math.max(...pred.scores) : 0 },
    );
    const predicted = union(pred.instances);
    const row: SynthImageResult = {
      index: i,
      family: g.record.family,
      forged: g.record.label === 'forged',
      width: g.image.width,
      height: g.image.height,
      of1: r.of1,
      pixel_f1: pixelF1(predicted, union(g.masks)),
      n_true: r.n_true,
      n_pred: r.n_pred,
      ms,
    };
    images.push(row);
    for (const f of g.record.forgeries) {
      for (const c of f.copies) {
        copies.push({ image: i, family: g.record.family, transform: c.transform.type, covered: copyCoverage(predicted, g.masks, f.instance, c.box) });
      }
    }
    opts.onImage?.(i + 1, opts.n, row);
  }
  const evaluation = acc.result();
  const authentic = images.filter((r) => !r.forged);
  return {
    summary: evaluationSummary(evaluation),
    evaluation,
    images,
    copies,
    byFamily: groupRows(images),
    byTransform: transformRows(copies),
    falsePositiveRate: authentic.length ? authentic.filter((r) => r.n_pred > 0).length / authentic.length : NaN,
    meanMs: images.reduce((s, r) => s + r.ms, 0) / images.length,
  };
}

export function union(m: Masks): Uint8Array {
  const n = m.height * m.width;
  const out = new Uint8Array(n);
  for (let k = 0; k < m.count; k++) {
    const c = maskChannel(m, k);
    for (let i = 0; i < n; i++) out[i] |= c[i];
  }
  return out;
}

/** Share of one copy's pixels (its event channel inside the copy's box) that the union of the predicted instances covers. */
export function copyCoverage(predicted: Uint8Array, truth: Masks, instance: number, box: Box): number {
  const t = maskChannel(truth, instance);
  let inside = 0;
  let covered = 0;
  for (let y = box.y; y < box.y + box.h; y++) {
    for (let x = box.x; x < box.x + box.w; x++) {
      const p = y * truth.width + x;
      if (!t[p]) continue;
      inside++;
      covered += predicted[p] ? 1 : 0;
    }
  }
  return inside ? covered / inside : 0;
}

/** oF1 and the share called forged per (figure family, label); also used by the model zoo on a written synthetic set. */
export type GroupedImage = Pick<SynthImageResult, 'family' | 'forged' | 'of1' | 'n_pred'>;

export function groupRows(images: readonly GroupedImage[]): GroupRow[] {
  const groups = new Map<string, GroupedImage[]>();
  const add = (key: string, r: GroupedImage) => {
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  };
  for (const r of images) add(`${r.family} / ${r.forged ? 'forged' : 'authentic'}`, r);
  return [...groups.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([group, rs]) => ({
      group,
      n: rs.length,
      of1: rs.reduce((s, r) => s + r.of1, 0) / rs.length,
      called_forged: rs.filter((r) => r.n_pred > 0).length / rs.length,
    }));
}

/** Coverage per copy transform (translation, flip, rotation, scale). */
export function transformRows(copies: readonly CopyResult[]): TransformRow[] {
  const types = [...new Set(copies.map((c) => c.transform))].sort();
  return types.map((transform) => {
    const cs = copies.filter((c) => c.transform === transform);
    return {
      transform,
      copies: cs.length,
      mean_covered: cs.reduce((s, c) => s + c.covered, 0) / cs.length,
      found: cs.filter((c) => c.covered >= 0.5).length / cs.length,
    };
  });
}
