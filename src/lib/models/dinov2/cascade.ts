import { ConfigError, ModelError } from '../../errors';
import { hdbscanFromDistances, type HdbscanResult } from '../../cluster/hdbscan';
import { groupEvents } from '../../infer/postprocess';
import type { InstancePrediction } from '../../infer/types';
import type { Decode, DecodeContext, ForwardOutput } from '../types';
import { growPixels, growTokens, upsampleBilinear, upsampleNearest } from './grow';
import { suspicionScore, type Suspicion } from './suspicion';

/**
 * The decoder of `dinov2-metric`: per-token embeddings -> copy-move events, as a cascade.
 * 1. Strict HDBSCAN over the tokens (Euclidean on the unit sphere). The largest cluster is the
 *    background (the losses gather authentic tokens in one place); a cluster whose centre is as
 *    similar to the background's as `backgroundSimilarity` joins it; the other clusters whose centres
 *    are as similar as `eventSimilarity` are merged (the losses push distinct events apart, so such
 *    clusters are pieces of one event), and each merged core of at least `minTokens` tokens is one
 *    event (its source and copies together).
 * 2. Only when stage 1 finds no event: the suspicion score (suspicion.ts) of the outlying tokens; at
 *    or above `suspicionThreshold`, the outliers are the core of one event scored by it.
 * 3. Each core grows by cosine similarity to its centre, on the token grid and then per pixel
 *    (grow.ts); grown regions under ctx.minArea pixels are dropped.
 * ctx.threshold (a probability threshold) does not apply; these parameters are the cascade's own,
 * and `sifd tune` searches them.
 */
export interface CascadeParams {
  minClusterSize: number;
  minSamples: number;
  backgroundSimilarity: number;
  /** Clusters whose centres are at least this similar are one event (HDBSCAN may split an event's tokens). */
  eventSimilarity: number;
  minTokens: number;
  /** Outlier distance (1 - cos to the background centre) of a suspicious token. */
  suspicionDistance: number;
  suspicionThreshold: number;
  tokenGrow: number;
  pixelGrow: number;
  /** Pixels per token side (the ViT's patch). */
  patch: number;
}

export const CASCADE_DEFAULTS: CascadeParams = {
  minClusterSize: 4,
  minSamples: 3,
  backgroundSimilarity: 0.8,
  eventSimilarity: 0.7,
  minTokens: 3,
  suspicionDistance: 0.8,
  suspicionThreshold: 0.45,
  tokenGrow: 0.6,
  pixelGrow: 0.4,
  patch: 14,
};

/** Candidate values `sifd tune` searches (the patch size is the model's, not a parameter). */
export const CASCADE_TUNING: Record<string, readonly number[]> = {
  minClusterSize: [3, 4, 6, 8, 12],
  minSamples: [2, 3, 5, 8],
  backgroundSimilarity: [0.5, 0.65, 0.8, 0.9],
  eventSimilarity: [0.5, 0.7, 0.85],
  minTokens: [2, 3, 5, 8],
  suspicionDistance: [0.6, 0.8, 1],
  suspicionThreshold: [0.45, 0.6, 0.75, 0.9, 1.01],
  tokenGrow: [0.4, 0.5, 0.6, 0.7, 0.8],
  pixelGrow: [0.3, 0.4, 0.5, 0.6],
};

export function validateCascadeParams(p: Partial<CascadeParams>): CascadeParams {
  const c = { ...CASCADE_DEFAULTS, ...p };
  for (const key of Object.keys(CASCADE_DEFAULTS) as (keyof CascadeParams)[]) {
    if (typeof c[key] !== 'number' || !Number.isFinite(c[key])) throw new ConfigError(`cascade parameter '${key}' must be a finite number, got ${String(c[key])}`);
  }
  for (const key of Object.keys(p)) if (!(key in CASCADE_DEFAULTS)) throw new ConfigError(`unknown cascade parameter '${key}'`);
  if (!Number.isInteger(c.minClusterSize) || c.minClusterSize < 2) throw new ConfigError(`cascade minClusterSize must be an integer >= 2, got ${c.minClusterSize}`);
  if (!Number.isInteger(c.minSamples) || c.minSamples < 1) throw new ConfigError(`cascade minSamples must be an integer >= 1, got ${c.minSamples}`);
  return c;
}

/** One event found by the cascade, at token resolution. */
export interface CascadeEvent {
  stage: 'cluster' | 'suspicion';
  /** 0/1 per token: the core (the HDBSCAN cluster or the outliers). */
  core: Uint8Array;
  /** 0/1 per token after growth on the token grid. */
  grown: Uint8Array;
  /** Cosine similarity of every token to the core's centre. */
  similarity: Float32Array;
  score: number;
}

/** Every stage's result on one image's token grid (what notebook 05 shows stage by stage). */
export interface CascadeResult {
  h: number;
  w: number;
  clustering: HdbscanResult;
  /** HDBSCAN label of the background cluster (-1: no cluster; the centre is then that of all tokens). */
  background: number;
  /** Cosine similarity of every token to the background's centre. */
  backgroundSimilarity: Float32Array;
  /** Stage 2's result, or null when stage 1 found events. */
  suspicion: Suspicion | null;
  events: CascadeEvent[];
}

/** Rows of `emb` (n x d) scaled to unit length. */
function normalizeRows(emb: ArrayLike<number>, n: number, d: number): Float32Array {
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += emb[i * d + k] ** 2;
    const inv = 1 / Math.sqrt(s + 1e-12);
    for (let k = 0; k < d; k++) out[i * d + k] = emb[i * d + k] * inv;
  }
  return out;
}

/** Unit centre of the rows where `member` is set. */
function centre(e: Float32Array, n: number, d: number, member: (i: number) => boolean): Float32Array {
  const c = new Float32Array(d);
  for (let i = 0; i < n; i++) if (member(i)) for (let k = 0; k < d; k++) c[k] += e[i * d + k];
  return normalizeRows(c, 1, d);
}

function cosines(e: Float32Array, n: number, d: number, c: Float32Array): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += e[i * d + k] * c[k];
    out[i] = s;
  }
  return out;
}

/**
 * Euclidean distances of unit vectors from their dot products, sqrt(2 - 2 cos). Plain JS: the tfjs
 * wasm matMul measured slower here for the 1,089 x 512 Gram matrix (11 s vs 4.6 s under load).
 */
function sphereDistances(e: Float32Array, n: number, d: number): Float64Array {
  const dist = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += e[i * d + k] * e[j * d + k];
      dist[i * n + j] = dist[j * n + i] = Math.sqrt(Math.max(0, 2 - 2 * s));
    }
  }
  return dist;
}

/**
 * Stage 1's event cores as lists of HDBSCAN labels: every cluster but the background and those whose
 * centre is within `backgroundSimilarity` of it, grouped (transitively) when their centres are within
 * `eventSimilarity` of each other.
 */
function eventCores(e: Float32Array, n: number, d: number, clustering: HdbscanResult, background: number, bg: Float32Array, p: CascadeParams): number[][] {
  const candidates: { label: number; c: Float32Array }[] = [];
  for (let k = 0; k < clustering.clusters; k++) {
    if (k === background) continue;
    const c = centre(e, n, d, (i) => clustering.labels[i] === k);
    if (cosines(c, 1, d, bg)[0] < p.backgroundSimilarity) candidates.push({ label: k, c });
  }
  const group = candidates.map((_, i) => i);
  const find = (i: number): number => (group[i] === i ? i : (group[i] = find(group[i])));
  for (let i = 0; i < candidates.length; i++) {
    for (let j = i + 1; j < candidates.length; j++) {
      if (cosines(candidates[i].c, 1, d, candidates[j].c)[0] >= p.eventSimilarity) group[find(j)] = find(i);
    }
  }
  const groups = new Map<number, number[]>();
  candidates.forEach((cand, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), cand.label]));
  return [...groups.values()];
}

/** Stages 1-3 at token resolution on one image's embeddings (h*w tokens of d values, row-major). */
export function runCascade(emb: ArrayLike<number>, h: number, w: number, d: number, params: Partial<CascadeParams> = {}): CascadeResult {
  const p = validateCascadeParams(params);
  const n = h * w;
  if (emb.length !== n * d) throw new ModelError(`cascade: ${emb.length} embedding values for ${h}x${w} tokens of ${d}`);
  const e = normalizeRows(emb, n, d);
  const clustering = hdbscanFromDistances(sphereDistances(e, n, d), n, { minClusterSize: p.minClusterSize, minSamples: p.minSamples });
  const sizes = new Array<number>(clustering.clusters).fill(0);
  clustering.labels.forEach((l) => l >= 0 && sizes[l]++);
  const background = sizes.length ? sizes.indexOf(Math.max(...sizes)) : -1;
  const bg = centre(e, n, d, (i) => background < 0 || clustering.labels[i] === background);
  const simBg = cosines(e, n, d, bg);
  const events: CascadeEvent[] = [];
  const addEvent = (stage: CascadeEvent['stage'], core: Uint8Array, score: number) => {
    const c = centre(e, n, d, (i) => core[i] === 1);
    const similarity = cosines(e, n, d, c);
    events.push({ stage, core, grown: growTokens(core, similarity, simBg, h, w, p.tokenGrow), similarity, score });
  };
  for (const members of eventCores(e, n, d, clustering, background, bg, p)) {
    const core = Uint8Array.from(clustering.labels, (l) => (members.includes(l) ? 1 : 0));
    if (core.reduce((a, v) => a + v, 0) < p.minTokens) continue;
    const toBg = cosines(centre(e, n, d, (i) => core[i] === 1), 1, d, bg)[0];
    addEvent('cluster', core, Math.min(1, Math.max(0, 1 - toBg)));
  }
  let suspicion: Suspicion | null = null;
  if (events.length === 0) {
    suspicion = suspicionScore(simBg, p.minClusterSize, p.suspicionDistance);
    const count = suspicion.outliers.reduce((a, v) => a + v, 0);
    if (suspicion.score >= p.suspicionThreshold && count >= p.minTokens) addEvent('suspicion', suspicion.outliers, suspicion.score);
  }
  return { h, w, clustering, background, backgroundSimilarity: simBg, suspicion, events };
}

/**
 * Token-level events -> pixel masks at ctx.height x ctx.width: each event's and the background's
 * similarity maps resampled to the input (h*patch x w*patch) and restored to the image's size, then
 * grown per pixel from the grown tokens (grow.ts, growPixels). Masks under ctx.minArea are dropped.
 */
export function cascadeToInstances(result: CascadeResult, ctx: DecodeContext, params: Partial<CascadeParams> = {}): InstancePrediction {
  const p = validateCascadeParams(params);
  const { h, w } = result;
  const H = h * p.patch;
  const W = w * p.patch;
  const { height, width } = ctx;
  const toImage = (map: Float32Array) => ctx.restore(map);
  const simBg = result.events.length ? toImage(upsampleBilinear(result.backgroundSimilarity, h, w, H, W)) : null;
  const masks: Uint8Array[] = [];
  const scores: number[] = [];
  for (const ev of result.events) {
    const sim = toImage(upsampleBilinear(ev.similarity, h, w, H, W));
    const tokens = toImage(upsampleNearest(ev.grown, h, w, H, W));
    const mask = growPixels(tokens, sim, simBg!, height, width, p.pixelGrow);
    if (mask.reduce((a, v) => a + v, 0) >= ctx.minArea) {
      masks.push(mask);
      scores.push(ev.score);
    }
  }
  const data = new Uint8Array(masks.length * height * width);
  masks.forEach((m, i) => data.set(m, i * height * width));
  const notes = result.events.length ? [] : [`no cluster and suspicion ${result.suspicion?.score.toFixed(3) ?? '?'} below the threshold: authentic`];
  return { instances: { data, count: masks.length, height, width }, scores, notes };
}

/** The cascade as a model-contract decoder with fixed parameters (`embeddings` [1,h,w,D]). */
export function makeCascadeDecode(params: Partial<CascadeParams> = {}): Decode {
  const p = validateCascadeParams(params);
  return (out: ForwardOutput, ctx: DecodeContext): InstancePrediction => {
    const t = out.embeddings;
    if (!t || t.rank !== 4 || t.shape[0] !== 1) throw new ModelError(`the cascade decoder expects embeddings [1,h,w,D], got ${t ? `[${t.shape}]` : 'none'}`);
    const [, h, w, d] = t.shape as number[];
    const result = runCascade(t.dataSync() as Float32Array, h, w, d, p);
    return groupEvents(cascadeToInstances(result, ctx, p), ctx.events ?? 'keep');
  };
}

export const decodeCascade: Decode = makeCascadeDecode();
