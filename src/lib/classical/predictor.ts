/** The classical detectors behind the common Predictor interface (same CLI/evaluation as the models). */
import type { Image } from '../data/types';
import { ModelError } from '../errors';
import { probabilityToInstances } from '../infer/postprocess';
import type { InstancePrediction, Predictor } from '../infer/types';
import { detectWith } from './detect';
import { exactTwinMap, type ExactTwinOptions } from './exactTwins';
import { loadOpenCv } from './opencv';
import { type ClassicalParams, type ClassicalParamsInput, resolveParams } from './params';

export function createClassicalPredictor(params: ClassicalParamsInput = {}): Predictor {
  const p = resolveParams(params);
  let disposed = false;
  return {
    name: 'classical',
    async predict(image: Image): Promise<InstancePrediction> {
      if (disposed) throw new ModelError('classical predictor used after dispose()');
      const cv = await loadOpenCv();
      const { instances, scores, notes } = detectWith(cv, image, p);
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
