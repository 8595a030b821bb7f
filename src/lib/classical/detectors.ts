/**
 * The detectors a notebook calls by name (src/sifd.ts exports `detectors`): each takes an image and
 * returns instances (N,H,W) at the image's size, their scores and notes on the result.
 */
import type { Image, Masks } from '../data/types';
import { probabilityToInstances } from '../infer/postprocess';
import { exactTwinMap, type ExactTwinOptions } from './exactTwins';
import { detectCopyMove } from './detect';
import type { ClassicalParams } from './params';

export interface DetectorResult {
  instances: Masks;
  scores: number[];
  /** Why the result is empty or may be weak (small image, which stage found nothing); [] when nothing to say. */
  notes: string[];
}

export const detectors = {
  /** Keypoints + block matching + verification (classical/detect.ts). */
  async classical(image: Image, params: Partial<ClassicalParams> = {}): Promise<DetectorResult> {
    const { instances, scores, notes } = await detectCopyMove(image, params);
    return { instances, scores, notes };
  },
  /** Pixel-exact block twins alone, each connected region one instance (the floor of the evidence plane). */
  async exactTwins(image: Image, opts: ExactTwinOptions = {}): Promise<DetectorResult> {
    const { instances, scores } = probabilityToInstances(Float32Array.from(exactTwinMap(image, opts)), image.height, image.width);
    return { instances, scores, notes: instances.count ? [] : ['no pixel-exact block twins (a resampled, recoloured or noisy copy needs the classical detector)'] };
  },
};
