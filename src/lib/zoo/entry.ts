/**
 * The zoo's protocol for one detector: validatePredictor on the shared validation images (so every
 * number equals what the model's own notebook reports for the same images and checkpoint), plus
 * inference time per megapixel, PR/ROC curves, and, on a written synthetic set, scores per figure
 * family and per copy transform from its manifest.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Image, Sample } from '../data/types';
import type { ManifestEntry } from '../data/synth/manifest';
import { DatasetError } from '../errors';
import { copyCoverage, groupRows, transformRows, union, type CopyResult, type GroupedImage, type GroupRow, type TransformRow } from '../eval/synth';
import { validatePredictor, type ValidationResult } from '../eval/validate';
import type { Predictor } from '../infer/types';
import { imageCurves, pixelCurves, type CurvePair } from './curves';

export interface EntryEvaluation {
  validation: ValidationResult;
  /** Mean prediction time per megapixel of input (the predictor's call alone: no file reading or scoring). */
  msPerMegapixel: number;
  curves: { image: CurvePair; pixel: CurvePair | null };
  /** Present when the validation set has a generator manifest. */
  byFamily?: GroupRow[];
  byTransform?: TransformRow[];
}

/** Image path -> its manifest record, for a synthetic set written by `sifd synth` (null for other data). */
export function readSyntheticTruth(root: string): Map<string, ManifestEntry> | null {
  const file = path.join(root, 'manifest.json');
  if (!fs.existsSync(file)) return null;
  let images: ManifestEntry[];
  try {
    images = (JSON.parse(fs.readFileSync(file, 'utf8')) as { images: ManifestEntry[] }).images;
  } catch (err) {
    throw new DatasetError(`cannot parse manifest: ${(err as Error).message}`, file);
  }
  if (!Array.isArray(images)) throw new DatasetError("manifest has no 'images' list", file);
  return new Map(images.map((e) => [path.resolve(root, e.image), e]));
}

export interface EntryOptions {
  synthetic?: Map<string, ManifestEntry> | null;
  onImage?: (done: number, total: number) => void;
  onUnreadable?: (sample: Sample, reason: string) => void;
  /** Keep the first `keep` predictions (overlays). */
  keep?: number;
}

export async function evaluateEntry(predictor: Predictor, samples: readonly Sample[], opts: EntryOptions = {}): Promise<EntryEvaluation> {
  let ms = 0;
  let megapixels = 0;
  const timed: Predictor = {
    name: predictor.name,
    async predict(image: Image) {
      const t0 = performance.now();
      const out = await predictor.predict(image);
      ms += performance.now() - t0;
      megapixels += (image.width * image.height) / 1e6;
      return out;
    },
    dispose: () => predictor.dispose(),
  };
  const grouped: GroupedImage[] = [];
  const copies: CopyResult[] = [];
  const validation = await validatePredictor(timed, samples, {
    keep: opts.keep,
    onImage: opts.onImage,
    onUnreadable: opts.onUnreadable ?? (() => undefined),
    onPrediction: ({ sample, truth, prediction, scores }) => {
      const rec = opts.synthetic?.get(path.resolve(sample.imagePath));
      if (!rec) return;
      grouped.push({ family: rec.family, forged: scores.forged, of1: scores.of1, n_pred: scores.n_pred });
      const predicted = union(prediction.instances);
      for (const f of rec.forgeries) {
        for (const c of f.copies) copies.push({ image: grouped.length - 1, family: rec.family, transform: c.transform.type, covered: copyCoverage(predicted, truth, f.instance, c.box) });
      }
    },
  });
  const { imageScores, imageLabels, pixelHistogram } = validation.curves;
  return {
    validation,
    msPerMegapixel: megapixels > 0 ? ms / megapixels : NaN,
    curves: { image: imageCurves(imageScores, imageLabels), pixel: pixelHistogram ? pixelCurves(pixelHistogram) : null },
    ...(grouped.length ? { byFamily: groupRows(grouped), byTransform: transformRows(copies) } : {}),
  };
}
