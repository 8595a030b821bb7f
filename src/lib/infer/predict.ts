import type { Image } from '../data/types';
import { ModelError, SifdError } from '../errors';
import { encodeAnnotation } from '../metrics/rle';
import { postprocessPrediction, type PostprocessOptions } from './postprocess';
import type { SubmissionRow } from './submission';
import type { InstancePrediction, Predictor } from './types';

/** One image to predict: its case_id and a loader (images are read one at a time, not all held). */
export interface ImageSource {
  caseId: string;
  /** For error messages. */
  file: string;
  load(): Promise<Image>;
}

export interface PredictImagesOptions {
  postprocess?: PostprocessOptions;
  /** Called after each image (progress bars). */
  onImage?: (done: number, total: number, row: SubmissionRow, prediction: InstancePrediction) => void;
  /**
   * An image that cannot be read or predicted: return 'skip' to leave its row out and go on
   * (the error names the file), or rethrow. Without it the first failure is thrown.
   */
  onError?: (src: ImageSource, err: SifdError) => 'skip';
}

/**
 * Run a predictor over images and return submission rows: each prediction is brought to the
 * image's original size and cleaned (postprocess.ts), then RLE-encoded. An error on one image
 * goes to `onError` (skip it) or is re-thrown, naming that image's file.
 */
export async function predictImages(predictor: Predictor, images: readonly ImageSource[], opts: PredictImagesOptions = {}): Promise<SubmissionRow[]> {
  const rows: SubmissionRow[] = [];
  let done = 0;
  for (const src of images) {
    done += 1;
    let prediction: InstancePrediction;
    try {
      const image = await src.load();
      const raw = await predictor.predict(image);
      prediction = postprocessPrediction(raw, null, image.height, image.width, opts.postprocess);
    } catch (err) {
      const named =
        err instanceof SifdError && err.file
          ? err
          : new ModelError(`${predictor.name} failed on this image: ${err instanceof Error ? err.message : String(err)}`, src.file);
      if (!opts.onError) throw named;
      opts.onError(src, named);
      continue;
    }
    const row = { caseId: src.caseId, annotation: encodeAnnotation(prediction.instances) };
    rows.push(row);
    opts.onImage?.(done, images.length, row, prediction);
  }
  return rows;
}
