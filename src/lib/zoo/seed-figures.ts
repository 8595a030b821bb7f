/**
 * What notebook 09 needs from a run to redraw the seeds' own figures: the token embeddings of one
 * image (seed 001's clusters, as notebook 05 draws them) and the patch confusion matrix of a
 * patch-labelling run (seed 002's, as notebook 06 computes it).
 */
import * as tf from '@tensorflow/tfjs';
import { createLoader } from '../data/loader';
import { readImage } from '../data/image-io';
import { readMasks } from '../data/npy';
import type { Masks, Sample } from '../data/types';
import { ModelError } from '../errors';
import { loadRunModel } from '../infer/run';
import { tokenLabels } from '../losses/token-labels';
import { patchConfusionOver, type PatchConfusion } from '../models/bappy/index';

export interface TokenEmbeddings {
  values: Float32Array;
  gridHeight: number;
  gridWidth: number;
  dim: number;
  /** Per token: 0 authentic, k = event k (area vote of the truth at the input size). */
  labels: Int32Array;
}

/** The truth resized (nearest) to the model's input size, as the losses see it. */
function truthAtInput(truth: Masks, height: number, width: number): Masks {
  const data = new Uint8Array(truth.count * height * width);
  for (let k = 0; k < truth.count; k++) {
    for (let y = 0; y < height; y++) {
      const sy = Math.floor((y * truth.height) / height);
      for (let x = 0; x < width; x++) {
        const sx = Math.floor((x * truth.width) / width);
        data[(k * height + y) * width + x] = truth.data[(k * truth.height + sy) * truth.width + sx];
      }
    }
  }
  return { data, count: truth.count, height, width };
}

/** The embeddings a run's model gives one labelled image's tokens (models with an `embeddings` output: dinov2-metric). */
export async function runTokenEmbeddings(runDir: string, sample: Sample): Promise<TokenEmbeddings> {
  const run = loadRunModel(runDir);
  try {
    const image = await readImage(sample.imagePath);
    const truth: Masks = sample.maskPath ? readMasks(sample.maskPath, { height: image.height, width: image.width }) : { data: new Uint8Array(0), count: 0, height: image.height, width: image.width };
    const input = await run.preprocess(image);
    const emb = tf.tidy(() => {
      const out = run.model.forward({ images: tf.tensor4d(input.pixels, [1, input.height, input.width, input.channels]) }, { training: false });
      const { embeddings, ...rest } = out;
      tf.dispose(Object.values(rest) as tf.Tensor[]);
      if (!embeddings) throw new ModelError(`model '${run.meta.model.name}' gives no token embeddings`, runDir);
      return embeddings;
    });
    const [, gh, gw, d] = emb.shape;
    const values = emb.dataSync() as Float32Array;
    emb.dispose();
    return { values, gridHeight: gh, gridWidth: gw, dim: d, labels: tokenLabels(truthAtInput(truth, input.height, input.width), gh, gw) };
  } finally {
    run.model.dispose();
  }
}

/** Patch confusion (IoU >= 12.5% labels) of a run on `samples` at its input size, with accuracy, precision, recall and F1. */
export async function runPatchConfusion(runDir: string, samples: readonly Sample[]): Promise<PatchConfusion & { accuracy: number; precision: number; recall: number; f1: number }> {
  const run = loadRunModel(runDir);
  const loader = createLoader({ samples: [...samples], batchSize: run.meta.train.batchSize, size: run.meta.train.size, evidence: run.evidence, seed: 0, shuffle: false });
  try {
    const m = await patchConfusionOver(run.model, loader.epoch(0));
    const n = m.tp + m.fp + m.fn + m.tn;
    const precision = m.tp / Math.max(1, m.tp + m.fp);
    const recall = m.tp / Math.max(1, m.tp + m.fn);
    return { ...m, accuracy: (m.tp + m.tn) / Math.max(1, n), precision, recall, f1: (2 * precision * recall) / Math.max(1e-9, precision + recall) };
  } finally {
    await loader.close();
    run.model.dispose();
  }
}
