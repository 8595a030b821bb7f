/**
 * The common decoders of the model contract (models/types.ts, `Decode`): one sample's model output
 * -> copy-move events with scores at ctx.height x ctx.width. A model spec names one of these or
 * brings its own; the predictor and the validation call whichever the spec names.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../errors';
import type { DecodeContext, ForwardOutput } from '../models/types';
import { groupEvents, keepVerifiedEvidence, probabilityToInstances } from './postprocess';
import type { InstancePrediction } from './types';

/** Threshold and minimum region area of the run predictor and the validation. */
export const DECODE_DEFAULTS = { threshold: 0.5, minArea: 10 };

/** Values of one sample's output tensor (batch 1), checked to be there. */
function values(t: tf.Tensor | undefined, field: string): Float32Array {
  if (!t) throw new ModelError(`the model's output has no '${field}' for its decoder`);
  return t.dataSync() as Float32Array;
}

function toInstances(masks: Uint8Array[], scores: number[], height: number, width: number): InstancePrediction {
  const n = height * width;
  const data = new Uint8Array(masks.length * n);
  masks.forEach((m, i) => data.set(m, i * n));
  return { instances: { data, count: masks.length, height, width }, scores };
}

/**
 * A forged-pixel probability map (`masks`, [1,h,w,1]): brought back to the image's size, fused with
 * the evidence the context carries (infer/postprocess.ts, keepVerifiedEvidence), thresholded and
 * split into 8-connected regions scored by mean probability; the regions are fragments of the
 * image's events, grouped by ctx.events (default: 'copy-links' when the context carries the image's
 * block pairs, which the run predictor does, else 'merge-all': most forged images hold one event).
 */
export function decodeProbability(out: ForwardOutput, ctx: DecodeContext): InstancePrediction {
  const { height, width, threshold, minArea } = ctx;
  let prob = ctx.restore(values(out.masks, 'masks'));
  // With the image's block pairs at hand (the run predictor), regions are grouped by them; else one event.
  const events = ctx.events ?? (ctx.links ? 'copy-links' : 'merge-all');
  if (ctx.evidence) {
    prob = keepVerifiedEvidence(prob, ctx.evidence.union, height, width, ctx.evidence.keep, threshold);
    if (ctx.evidence.trusted) prob = keepVerifiedEvidence(prob, ctx.evidence.trusted, height, width, 0, threshold);
    return groupEvents({ ...probabilityToInstances(prob, height, width, { threshold, minArea }), probability: prob }, events, { links: ctx.links });
  }
  return groupEvents(probabilityToInstances(prob, height, width, { threshold, minArea }), events, { links: ctx.links });
}

/**
 * Per-query instance maps (`instances` [1,Q,h,w], `scores` [1,Q]): each map back at the image's
 * size, thresholded, kept when at least minArea pixels, with its query's score; the merged
 * foreground (`masks`) as the probability. Each query is an event; overlapping or touching ones
 * are merged (ctx.events, default 'overlap'). With evidence to fuse, the foreground map is decoded
 * as a probability map instead (the evidence regions are verified against it).
 */
export function decodeQueries(out: ForwardOutput, ctx: DecodeContext): InstancePrediction {
  if (ctx.evidence && out.masks) return decodeProbability(out, ctx);
  const { height, width, threshold, minArea } = ctx;
  const maps = values(out.instances, 'instances');
  const s = values(out.scores, 'scores');
  const [, q, h, w] = out.instances!.shape;
  const n = height * width;
  const kept: Uint8Array[] = [];
  const keptScores: number[] = [];
  for (let i = 0; i < q; i++) {
    const prob = ctx.restore(maps.slice(i * h * w, (i + 1) * h * w));
    const mask = new Uint8Array(n);
    let area = 0;
    for (let p = 0; p < n; p++) if (prob[p] >= threshold) (mask[p] = 1), area++;
    if (area >= minArea) {
      kept.push(mask);
      keptScores.push(s[i]);
    }
  }
  const pred = toInstances(kept, keptScores, height, width);
  // The merged per-pixel probability too, so evaluations can report pixel ROC AUC for query models.
  if (out.masks) pred.probability = ctx.restore(values(out.masks, 'masks'));
  return groupEvents(pred, ctx.events ?? 'overlap', { links: ctx.links });
}

/**
 * Boxes + per-box masks (`boxes` [1,Q,4] in input pixels, `instances` [1,Q,h,w], `scores` [1,Q]),
 * as torchvision's Mask R-CNN reports detections: a detection scoring at least `threshold` is an
 * instance, its mask thresholded inside its box (scaled to the image's size); masks below minArea
 * pixels are dropped. Events: ctx.events, default 'overlap'. With evidence to fuse and a foreground
 * map (`masks`, the strongest detection per pixel), the map is decoded as a probability map instead,
 * as for query models: evidence regions the detections confirm join at native resolution.
 */
export function decodeBoxes(out: ForwardOutput, ctx: DecodeContext): InstancePrediction {
  if (ctx.evidence && out.masks) return decodeProbability(out, ctx);
  const { height, width, threshold, minArea } = ctx;
  const maps = values(out.instances, 'instances');
  const boxes = values(out.boxes, 'boxes');
  const s = values(out.scores, 'scores');
  const [, q, h, w] = out.instances!.shape;
  const sx = width / w;
  const sy = height / h;
  const kept: Uint8Array[] = [];
  const keptScores: number[] = [];
  for (let i = 0; i < q; i++) {
    if (s[i] < threshold) continue;
    const prob = ctx.restore(maps.slice(i * h * w, (i + 1) * h * w));
    const x1 = Math.max(0, Math.floor(boxes[i * 4] * sx));
    const y1 = Math.max(0, Math.floor(boxes[i * 4 + 1] * sy));
    const x2 = Math.min(width, Math.ceil(boxes[i * 4 + 2] * sx));
    const y2 = Math.min(height, Math.ceil(boxes[i * 4 + 3] * sy));
    const mask = new Uint8Array(height * width);
    let area = 0;
    for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) if (prob[y * width + x] >= threshold) (mask[y * width + x] = 1), area++;
    if (area >= minArea) {
      kept.push(mask);
      keptScores.push(s[i]);
    }
  }
  const pred = toInstances(kept, keptScores, height, width);
  if (out.masks) pred.probability = ctx.restore(values(out.masks, 'masks'));
  return groupEvents(pred, ctx.events ?? 'overlap', { links: ctx.links });
}

/**
 * Per-pixel embeddings (`embeddings` [1,h,w,D]) decoded by clustering: a pixel whose embedding norm
 * reaches `threshold` is forged (authentic pixels sit near the origin); forged pixels are clustered
 * greedily in embedding space (a pixel joins the first cluster whose running centre lies within
 * EMBEDDING_RADIUS, else starts one), and each cluster, brought back to the image's size, is one
 * event: a source and its copies share an embedding wherever they lie. Score: the cluster's mean
 * norm, capped at 1. Clusters below minArea pixels are dropped; events: ctx.events, default 'keep'.
 */
export function decodeEmbeddings(out: ForwardOutput, ctx: DecodeContext): InstancePrediction {
  const { height, width, threshold, minArea } = ctx;
  const e = values(out.embeddings, 'embeddings');
  const shape = out.embeddings!.shape;
  if (shape.length !== 4) throw new ModelError(`decodeEmbeddings expects embeddings [1,H,W,D], got [${shape}]`);
  const [, h, w, d] = shape;
  const centres: Float64Array[] = [];
  const sizes: number[] = [];
  const norms: number[] = [];
  const label = new Int32Array(h * w).fill(-1);
  for (let p = 0; p < h * w; p++) {
    const v = e.subarray(p * d, (p + 1) * d);
    const norm = Math.hypot(...v);
    if (norm < threshold) continue;
    let k = centres.findIndex((c, j) => Math.hypot(...v.map((x, t) => x - c[t] / sizes[j])) <= EMBEDDING_RADIUS);
    if (k < 0) {
      k = centres.length;
      centres.push(new Float64Array(d));
      sizes.push(0);
      norms.push(0);
    }
    for (let t = 0; t < d; t++) centres[k][t] += v[t];
    sizes[k] += 1;
    norms[k] += norm;
    label[p] = k;
  }
  const masks: Uint8Array[] = [];
  const scores: number[] = [];
  for (let k = 0; k < centres.length; k++) {
    const plane = new Float32Array(h * w);
    for (let p = 0; p < h * w; p++) if (label[p] === k) plane[p] = 1;
    const back = ctx.restore(plane);
    const mask = new Uint8Array(height * width);
    let area = 0;
    for (let p = 0; p < mask.length; p++) if (back[p] >= 0.5) (mask[p] = 1), area++;
    if (area >= minArea) {
      masks.push(mask);
      scores.push(Math.min(1, norms[k] / sizes[k]));
    }
  }
  return groupEvents(toInstances(masks, scores, height, width), ctx.events ?? 'keep', { links: ctx.links });
}

/** Embedding distance within which a pixel joins a cluster (decodeEmbeddings). */
export const EMBEDDING_RADIUS = 0.5;
