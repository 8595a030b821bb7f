/** One BullMQ job in a sandboxed child process: the detector is built once per process and reused. */
import type { SandboxedJob } from 'bullmq';
import { createDetector, postprocessOf, type DetectorSpec } from './detector';
import type { Predictor } from '../infer/types';
import { screenImage } from './screen-one';
import { SANDBOX_ID_ENV, SANDBOX_SPEC_ENV } from './queue-worker';
import type { ScreenJob, ScreenResult } from './types';

let predictor: Promise<Predictor> | undefined;

/** A permanent failure: BullMQ does not retry an error of this name. */
function unrecoverable(message: string): Error {
  const err = new Error(message);
  err.name = 'UnrecoverableError';
  return err;
}

export default async function screenJob(job: SandboxedJob<ScreenJob, ScreenResult>): Promise<ScreenResult> {
  const spec = JSON.parse(process.env[SANDBOX_SPEC_ENV] ?? 'null') as DetectorSpec | null;
  const id = process.env[SANDBOX_ID_ENV];
  if (!spec || !id) throw unrecoverable(`sandboxed processor started without ${SANDBOX_SPEC_ENV}/${SANDBOX_ID_ENV}`);
  if (job.data.detector !== id) {
    throw unrecoverable(`this worker runs detector ${id} but the job was queued for ${job.data.detector}: start workers with the coordinator's detector options`);
  }
  predictor ??= createDetector(spec);
  return screenImage(await predictor, job.data, postprocessOf(spec), job.attemptsMade + 1);
}
