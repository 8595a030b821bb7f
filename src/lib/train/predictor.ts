import * as tf from '@tensorflow/tfjs';
import { buildPipeline } from '../augment/pipeline';
import { presetSpec } from '../augment/presets';
import { appendEvidencePlanes, computeEvidence, evidencePlanes, evidenceUnion, inputChannels, interleaveEvidence, splitEvidencePlanes, trustedEvidencePlane } from '../data/evidence';
import type { Image, Masks } from '../data/types';
import { ConfigError, ModelError, TrainingError } from '../errors';
import { checkEventPolicy, type EventPolicy, groupEvents, keepVerifiedEvidence, probabilityToInstances, resizeProbability } from '../infer/postprocess';
import type { InstancePrediction, Predictor } from '../infer/types';
import { buildModel } from '../models/index';
import { Rng } from '../util/random';
import { assignWeights, findLatestCheckpoint } from './checkpoint';

export interface RunPredictorOptions {
  /** Probability at or above which a pixel is forged (default 0.5). */
  threshold?: number;
  /** Connected regions smaller than this many pixels (at original size) are dropped (default 10). */
  minArea?: number;
  /**
   * Runs trained with an evidence channel: an evidence region whose mean predicted probability
   * reaches this joins the prediction at native resolution (infer/postprocess.ts,
   * keepVerifiedEvidence), and the instances are the connected regions of the result. null: the
   * model's output alone. Default 0.3 (chosen on validation figures of generator seeds 2 and 9, see README).
   * Regions of a trusted plane (data/evidence.ts, trustedEvidencePlane: resampled twins) join
   * whatever the model says, unless this is null.
   */
  evidenceKeep?: number | null;
  /**
   * How the instances become copy-move events (infer/postprocess.ts, groupEvents). Default: 'merge-all'
   * for probability-map models (the map's connected regions are fragments of the image's copy-move
   * events, and most forged images hold one event), 'overlap' for query-decoder models (each query
   * is an event; queries whose masks overlap or touch are merged).
   */
  events?: EventPolicy;
  warn?: (msg: string) => void;
}

/**
 * A Predictor from the latest complete checkpoint of a training run. Each image is brought to 3
 * channels, resized to the run's training size and normalized as the loader did in training;
 * a run trained with evidence channels gets them computed here the same way, on the image at its
 * original size, and resized with it (data/evidence.ts). The model's probability map (or
 * per-query instance maps) is resized back bilinearly to the image's original H x W, then
 * thresholded. A foreground-only model's mask is split into 8-connected regions scored by mean
 * probability; then the regions (or queries) are grouped into events (`events`).
 */
export async function loadPredictorFromRun(runDir: string, opts: RunPredictorOptions = {}): Promise<Predictor> {
  const evidenceKeep = opts.evidenceKeep === undefined ? 0.3 : opts.evidenceKeep;
  if (evidenceKeep !== null && !(evidenceKeep >= 0 && evidenceKeep <= 1)) throw new ConfigError(`evidenceKeep must be in [0, 1] or null, got ${evidenceKeep}`);
  if (opts.events !== undefined) checkEventPolicy(opts.events);
  const ckpt = findLatestCheckpoint(runDir, opts.warn);
  if (!ckpt) throw new TrainingError('no complete checkpoint (epoch_<k>/) in this run folder', runDir);
  const { meta } = ckpt;
  const model = buildModel(meta.model.name, meta.model.config, new Rng(0));
  try {
    assignWeights(model, ckpt.weights, ckpt.dir);
  } catch (err) {
    model.dispose();
    throw err;
  }
  const size = meta.train.size;
  const normalize = presetSpec(meta.train.augment ?? 'none', size).normalize;
  const pipeline = buildPipeline({ name: 'predict', steps: [], normalize }, size);
  const evidence = meta.train.evidence ?? 'none';
  const channels = inputChannels(evidence);
  const threshold = opts.threshold ?? 0.5;
  const minArea = opts.minArea ?? 10;
  const rng = new Rng(0);
  let disposed = false;

  return {
    name: `${meta.model.name} (${ckpt.dir})`,
    async predict(image: Image): Promise<InstancePrediction> {
      if (disposed) throw new ModelError('predictor used after dispose()');
      const { height, width } = image;
      const rgb = toRgb(image);
      const empty: Masks = { data: new Uint8Array(0), count: 0, height, width };
      const map = computeEvidence(evidence, rgb);
      const input = await pipeline.run({ image: rgb, masks: map ? appendEvidencePlanes(empty, map) : empty }, rng);
      let pixels = input.image.data;
      if (map) {
        pixels = new Float32Array(size * size * channels);
        interleaveEvidence(input.image.data, 3, splitEvidencePlanes(input.masks, evidencePlanes(evidence)).evidence, pixels);
      }
      const out = tf.tidy(() => {
        const x = tf.tensor4d(pixels, [1, size, size, channels]);
        const o = model.forward({ images: x }, { training: false });
        return { masks: o.masks, instances: o.instances, scores: o.scores };
      });
      try {
        if (!out.masks && !out.instances) throw new ModelError(`model '${meta.model.name}' returned neither masks nor instances`);
        if (map && evidenceKeep !== null && out.masks) {
          // Model probability at native size, verified evidence added; instances = its regions.
          const prob = resizeProbability(out.masks.dataSync() as Float32Array, size, size, height, width);
          let fused = keepVerifiedEvidence(prob, evidenceUnion(map, height * width), height, width, evidenceKeep, threshold);
          const trusted = trustedEvidencePlane(evidence, map, height * width);
          if (trusted) fused = keepVerifiedEvidence(fused, trusted, height, width, 0, threshold);
          return groupEvents({ ...probabilityToInstances(fused, height, width, { threshold, minArea }), probability: fused }, opts.events ?? 'merge-all');
        }
        if (out.instances && out.scores) {
          const pred = instancesFromQueries(out.instances, out.scores, size, height, width, threshold, minArea);
          // The merged per-pixel probability too, so evaluations can report pixel ROC AUC for query models.
          if (out.masks) pred.probability = resizeProbability(out.masks.dataSync() as Float32Array, size, size, height, width);
          return groupEvents(pred, opts.events ?? 'overlap');
        }
        const prob = resizeProbability(out.masks!.dataSync() as Float32Array, size, size, height, width);
        return groupEvents(probabilityToInstances(prob, height, width, { threshold, minArea }), opts.events ?? 'merge-all');
      } finally {
        out.masks?.dispose();
        out.instances?.dispose();
        out.scores?.dispose();
      }
    },
    dispose() {
      if (!disposed) model.dispose();
      disposed = true;
    },
  };
}

/** Per-query probability maps [1,Q,S,S] + scores [1,Q] -> instances at the original size. */
function instancesFromQueries(
  maps: tf.Tensor4D,
  scores: tf.Tensor2D,
  size: number,
  height: number,
  width: number,
  threshold: number,
  minArea: number,
): InstancePrediction {
  const q = maps.shape[1];
  const all = maps.dataSync();
  const s = scores.dataSync();
  const n = height * width;
  const kept: Uint8Array[] = [];
  const keptScores: number[] = [];
  for (let i = 0; i < q; i++) {
    const prob = resizeProbability(all.slice(i * size * size, (i + 1) * size * size) as Float32Array, size, size, height, width);
    const mask = new Uint8Array(n);
    let area = 0;
    for (let p = 0; p < n; p++) if (prob[p] >= threshold) (mask[p] = 1), area++;
    if (area >= minArea) {
      kept.push(mask);
      keptScores.push(s[i]);
    }
  }
  const data = new Uint8Array(kept.length * n);
  kept.forEach((m, i) => data.set(m, i * n));
  return { instances: { data, count: kept.length, height, width }, scores: keptScores };
}

/** Gray -> RGB by repetition, RGBA -> RGB by dropping alpha (training images are RGB). */
function toRgb(image: Image): Image {
  const c = image.channels;
  if (c === 3) return image;
  if (c !== 1 && c !== 2 && c !== 4) throw new ModelError(`cannot predict on an image with ${c} channels`);
  const n = image.width * image.height;
  const data = image.data instanceof Uint16Array ? new Uint16Array(n * 3) : new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    for (let k = 0; k < 3; k++) data[p * 3 + k] = c <= 2 ? image.data[p * c] : image.data[p * c + k];
  }
  return { data, width: image.width, height: image.height, channels: 3 };
}
