/** The classical detectors behind the common Predictor interface (same CLI/evaluation as the models). */
import type { Image } from '../data/types';
import { ModelError } from '../errors';
import { probabilityToInstances } from '../infer/postprocess';
import type { InstancePrediction, Predictor } from '../infer/types';
import { detectWith } from './detect';
import { exactTwinMap, type ExactTwinOptions } from './exactTwins';
import { prepareHammingKernel } from './hammingKernel';
import { prepareStageWorker } from './stageWorker';
import { loadOpenCv } from './opencv';
import { type ClassicalParams, type ClassicalParamsInput, resolveParams } from './params';

/**
 * Largest image (pixels) the classical detector works on at native resolution. Its native-resolution
 * stages (block matching, exact and resampled twins, dense matching) hold about 100 bytes per pixel,
 * so an 8000x8000 figure took ~6.4 GB; larger images are detected on a nearest-neighbour downscaled
 * copy (pixel values kept, so exact twins on the sampling grid stay exact) and the masks come back
 * at full size through the post-processing. 4 MP bounds the peak at roughly 0.5 GB.
 */
export const CLASSICAL_MAX_PIXELS = 4_194_304;

export interface ClassicalPredictorOptions {
  /** See CLASSICAL_MAX_PIXELS. */
  maxPixels?: number;
}

/** Nearest-neighbour copy of `image` at outW x outH (pixel values unchanged). */
export function downscaleNearest(image: Image, outW: number, outH: number): Image {
  const { width, height, channels } = image;
  const data = new (image.data.constructor as Uint8ArrayConstructor)(outW * outH * channels);
  const xs = new Int32Array(outW);
  for (let x = 0; x < outW; x++) xs[x] = Math.min(width - 1, Math.floor(((x + 0.5) * width) / outW)) * channels;
  for (let y = 0; y < outH; y++) {
    const row = Math.min(height - 1, Math.floor(((y + 0.5) * height) / outH)) * width * channels;
    let o = y * outW * channels;
    for (let x = 0; x < outW; x++, o += channels) {
      const i = row + xs[x];
      for (let c = 0; c < channels; c++) data[o + c] = image.data[i + c];
    }
  }
  return { data, width: outW, height: outH, channels };
}

/** `image` itself when it has at most `maxPixels` pixels, else a nearest-neighbour copy that has. */
export function boundPixels(image: Image, maxPixels: number): Image {
  const pixels = image.width * image.height;
  if (pixels <= maxPixels) return image;
  const f = Math.sqrt(maxPixels / pixels);
  return downscaleNearest(image, Math.max(1, Math.floor(image.width * f)), Math.max(1, Math.floor(image.height * f)));
}

export function createClassicalPredictor(params: ClassicalParamsInput = {}, opts: ClassicalPredictorOptions = {}): Predictor {
  const p = resolveParams(params);
  const maxPixels = opts.maxPixels ?? CLASSICAL_MAX_PIXELS;
  let disposed = false;
  return {
    name: 'classical',
    async predict(image: Image): Promise<InstancePrediction> {
      if (disposed) throw new ModelError('classical predictor used after dispose()');
      // on failure matching stays in JavaScript, and the native-image stages on this thread, with the same results
      const [cv] = await Promise.all([loadOpenCv(), prepareHammingKernel(), p.stageWorker ? prepareStageWorker() : undefined]);
      // Masks at the working size: postprocessPrediction brings them to the image's own size.
      const { instances, scores, notes } = detectWith(cv, boundPixels(image, maxPixels), p);
      return { instances, scores, notes };
    },
    dispose() {
      disposed = true;
    },
  };
}

/**
 * The exact-twin evidence map alone as a detector (each 8-connected region one instance, score 1):
 * the floor a model fed this map as its 4th channel should clear.
 */
export function createExactTwinPredictor(opts: ExactTwinOptions = {}): Predictor {
  let disposed = false;
  return {
    name: 'exact twins (evidence map alone)',
    async predict(image: Image): Promise<InstancePrediction> {
      if (disposed) throw new ModelError('exact-twin predictor used after dispose()');
      const map = exactTwinMap(image, opts);
      return probabilityToInstances(Float32Array.from(map), image.height, image.width);
    },
    dispose() {
      disposed = true;
    },
  };
}
