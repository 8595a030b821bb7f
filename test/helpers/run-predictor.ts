import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { readImage } from '../../src/lib/data/image-io';
import { loadPredictorFromRun } from '../../src/lib/infer/run';

/** A trained run's predictor gives events (with one score each) at the first test image's own size. */
export async function assertRunPredictsAtImageSize(run: string, data: string): Promise<void> {
  const predictor = await loadPredictorFromRun(run);
  try {
    const images = path.join(data, 'test_images');
    const image = await readImage(path.join(images, fs.readdirSync(images)[0]));
    const pred = await predictor.predict(image);
    assert.equal(pred.instances.height, image.height);
    assert.equal(pred.instances.width, image.width);
    assert.equal(pred.scores.length, pred.instances.count);
  } finally {
    predictor.dispose();
  }
}
