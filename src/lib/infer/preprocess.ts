/**
 * Preprocessing policies of the model contract (models/types.ts, `PreprocessFactory`): an image at
 * any size and channel count -> the input a run's model was trained on, and the way back.
 */
import { buildPipeline } from '../augment/pipeline';
import { presetSpec } from '../augment/presets';
import { appendEvidencePlanes, computeEvidenceCached, evidencePlanes, inputChannels, interleaveEvidence, splitEvidencePlanes, checkEvidenceKind } from '../evidence/index';
import type { Image, Masks } from '../data/types';
import { ModelError } from '../errors';
import type { InputRecipe, Preprocess, PreparedInput } from '../models/types';
import { Rng } from '../util/random';
import { resizeProbability } from './postprocess';

/**
 * The loader's own policy: RGB resized to the square training size and normalized as the run's
 * augmentation preset did; evidence planes (a run trained with them) are computed on the image at
 * its original size, resized with it as masks are, and appended as channels (evidence/index.ts).
 * The way back is a bilinear resize to the original height x width.
 */
export function squareResize(recipe: InputRecipe): Preprocess {
  const size = recipe.size;
  const normalize = presetSpec(recipe.augment ?? 'none', size).normalize;
  const pipeline = buildPipeline({ name: 'predict', steps: [], normalize }, size);
  const evidence = checkEvidenceKind(recipe.evidence, 'preprocess');
  const channels = inputChannels(evidence);
  const rng = new Rng(0);
  return async (image: Image): Promise<PreparedInput> => {
    const { height, width } = image;
    const rgb = toRgb(image);
    const empty: Masks = { data: new Uint8Array(0), count: 0, height, width };
    const map = computeEvidenceCached(evidence, rgb);
    const input = await pipeline.run({ image: rgb, masks: map ? appendEvidencePlanes(empty, map) : empty }, rng);
    let pixels = input.image.data as Float32Array;
    if (map) {
      pixels = new Float32Array(size * size * channels);
      interleaveEvidence(input.image.data as Float32Array, 3, splitEvidencePlanes(input.masks, evidencePlanes(evidence)).evidence, pixels);
    }
    return { pixels, height: size, width: size, channels, evidence: map, restore: (m) => resizeProbability(m, size, size, height, width) };
  };
}

/** Gray -> RGB by repetition, RGBA -> RGB by dropping alpha (training images are RGB). */
export function toRgb(image: Image): Image {
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
