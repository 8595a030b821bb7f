/** The classical detector behind the common Predictor interface (same CLI/evaluation as the models). */
import type { Image } from '../data/types';
import { ModelError } from '../errors';
import type { InstancePrediction, Predictor } from '../infer/types';
import { detectWith } from './detect';
import { loadOpenCv } from './opencv';
import { type ClassicalParams, resolveParams } from './params';

export function createClassicalPredictor(params: Partial<ClassicalParams> = {}): Predictor {
  const p = resolveParams(params);
  let disposed = false;
  return {
    name: 'classical',
    async predict(image: Image): Promise<InstancePrediction> {
      if (disposed) throw new ModelError('classical predictor used after dispose()');
      const cv = await loadOpenCv();
      const { instances, scores } = detectWith(cv, image, p);
      return { instances, scores };
    },
    dispose() {
      disposed = true;
    },
  };
}
