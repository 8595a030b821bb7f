/**
 * One image through a detector, the way `sifd predict` does it (infer/predict.ts: decode, predict, post-process
 * at the original size, RLE with the submission's encoder). A problem with this image (unreadable, corrupt, bytes
 * changed since they were keyed, the detector failing on it) is a 'failed' result naming the file; only a dead
 * process is retried.
 */
import { hashFile } from './corpus';
import { readImage } from '../data/image-io';
import { SifdError } from '../errors';
import { predictImages } from '../infer/predict';
import type { PostprocessOptions } from '../infer/postprocess';
import type { InstancePrediction, Predictor } from '../infer/types';
import { AUTHENTIC } from '../metrics/rle';
import { workerName } from './store';
import type { ScreenJob, ScreenResult } from './types';

export async function screenImage(predictor: Predictor, job: ScreenJob, postprocess: PostprocessOptions, attempts = 1): Promise<ScreenResult> {
  const base = { key: job.key, sha256: job.sha256, detector: job.detector, attempts, worker: workerName() };
  const failed = (error: string, msRead = 0, msDetect = 0): ScreenResult => ({
    ...base, status: 'failed', verdict: null, score: null, annotation: null, scores: [], width: null, height: null, msRead, msDetect, error,
  });
  const t0 = performance.now();
  let sha: string;
  try {
    sha = hashFile(job.path);
  } catch (err) {
    return failed(`${job.path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (sha !== job.sha256) return failed(`${job.path}: the file changed since it was keyed (sha256 ${sha.slice(0, 12)}, expected ${job.sha256.slice(0, 12)}); screen again`);
  let msRead = 0;
  let t1 = 0;
  let size = { width: 0, height: 0 };
  let prediction: InstancePrediction | undefined;
  let error: SifdError | undefined;
  const rows = await predictImages(
    predictor,
    [{ caseId: job.key, file: job.path, load: async () => { const img = await readImage(job.path); t1 = performance.now(); size = { width: img.width, height: img.height }; msRead = t1 - t0; return img; } }],
    { postprocess, onImage: (_d, _t, _row, p) => void (prediction = p), onError: (_src, err) => ((error = err), 'skip') },
  );
  const msDetect = t1 ? performance.now() - t1 : 0;
  if (error || !prediction || rows.length !== 1) return failed(error?.message ?? `${job.path}: no prediction`, msRead || performance.now() - t0, msDetect);
  const annotation = rows[0].annotation;
  const n = prediction.instances.count;
  const forged = annotation !== AUTHENTIC;
  return {
    ...base, status: 'done', verdict: forged ? 'forged' : 'authentic', score: forged ? Math.max(...prediction.scores) : 0,
    annotation, scores: prediction.scores.slice(0, n), width: size.width, height: size.height,
    msRead, msDetect, error: null,
  };
}
