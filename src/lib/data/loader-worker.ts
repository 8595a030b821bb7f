import { isMainThread, parentPort, workerData } from 'worker_threads';
import { buildPipeline, type Pipeline } from '../augment/pipeline';
import type { PipelineSpec } from '../augment/presets';
import { SifdError } from '../errors';
import { Rng } from '../util/random';
import { readImage } from './image-io';
import { readMasks } from './npy';
import type { Image, Label, Masks, Problem } from './types';

/**
 * The decode + augment + batch-assembly half of the loader. It runs inside worker threads (this
 * file is their entry) and, with 0 workers, inline in the caller's thread; both paths call
 * `processBatch`, so a batch's bytes do not depend on where it was made. Everything it returns
 * is plain typed arrays, transferred (not copied) back to the main thread.
 */

export interface WorkItem {
  /** Position of the sample in the loader's sample list; seeds its augmentation. */
  index: number;
  id: string;
  label: Label;
  imagePath: string;
  maskPath?: string;
}

export interface BatchConfig {
  spec: PipelineSpec;
  size: [number, number];
  seed: number;
  /** Also return per-sample instance masks and boxes. */
  instances: boolean;
}

export interface BatchJob {
  jobId: number;
  epoch: number;
  items: WorkItem[];
}

export interface InstanceBuffers {
  /** (N, H, W) 0/1, instances that kept at least one pixel after augmentation. */
  masks: Uint8Array;
  count: number;
  /** (N, 4) [x1, y1, x2, y2] in output pixels, x2/y2 exclusive. */
  boxes: Float32Array;
}

export interface BatchResult {
  jobId: number;
  ids: string[];
  labels: Label[];
  indices: number[];
  /** [B, H, W, 3] normalized pixels. */
  images: Float32Array;
  /** [B, H, W, 1] union of all instance masks, 0/1. */
  foreground: Float32Array;
  instances?: InstanceBuffers[];
  problems: Problem[];
}

/** The per-sample stream: a function of (seed, epoch, index) only, never of worker or batch order. */
export function sampleRng(seed: number, epoch: number, index: number): Rng {
  return new Rng(`sifd-loader:${seed}:${epoch}:${index}`);
}

async function loadItem(item: WorkItem): Promise<{ image: Image; masks: Masks }> {
  // readImage always gives 3-channel RGB; readMasks checks the mask against the image size
  const image = await readImage(item.imagePath);
  const masks: Masks = item.maskPath
    ? readMasks(item.maskPath, { height: image.height, width: image.width })
    : { data: new Uint8Array(0), count: 0, height: image.height, width: image.width };
  return { image, masks };
}

function boxesOf(masks: Masks): InstanceBuffers {
  const { height: H, width: W } = masks;
  const plane = H * W;
  const keep: number[] = [];
  const boxes: number[] = [];
  for (let m = 0; m < masks.count; m++) {
    let x1 = W;
    let y1 = H;
    let x2 = -1;
    let y2 = -1;
    for (let y = 0; y < H; y++) {
      const row = m * plane + y * W;
      for (let x = 0; x < W; x++) {
        if (masks.data[row + x]) {
          if (x < x1) x1 = x;
          if (x > x2) x2 = x;
          if (y < y1) y1 = y;
          y2 = y;
        }
      }
    }
    if (x2 >= 0) {
      keep.push(m);
      boxes.push(x1, y1, x2 + 1, y2 + 1);
    }
  }
  const out = new Uint8Array(keep.length * plane);
  keep.forEach((m, j) => out.set(masks.data.subarray(m * plane, (m + 1) * plane), j * plane));
  return { masks: out, count: keep.length, boxes: Float32Array.from(boxes) };
}

function problemOf(err: unknown, item: WorkItem, kind: string): Problem {
  const e = err as Error & { file?: string; reason?: string };
  return { file: e.file ?? item.imagePath, kind, reason: e.reason ?? e.message ?? String(err) };
}

/** Decodes, augments and packs one batch; a sample that fails is reported and left out. */
export async function processBatch(config: BatchConfig, pipeline: Pipeline, job: BatchJob): Promise<BatchResult> {
  const [H, W] = config.size;
  const plane = H * W;
  const done: { item: WorkItem; image: Float32Array; masks: Masks }[] = [];
  const problems: Problem[] = [];
  for (const item of job.items) {
    let pair: { image: Image; masks: Masks };
    try {
      pair = await loadItem(item);
    } catch (err) {
      // any decode failure (corrupt file, sharp error, bad .npy) is about this sample only
      problems.push(problemOf(err, item, 'load'));
      continue;
    }
    try {
      const out = await pipeline.run(pair, sampleRng(config.seed, job.epoch, item.index));
      done.push({ item, image: out.image.data, masks: out.masks });
    } catch (err) {
      // a transform refusing this sample's data (SifdError) skips it; anything else is a bug
      if (!(err instanceof SifdError)) throw err;
      problems.push(problemOf(err, item, 'augment'));
    }
  }
  const images = new Float32Array(done.length * plane * 3);
  const foreground = new Float32Array(done.length * plane);
  done.forEach((d, b) => {
    images.set(d.image, b * plane * 3);
    for (let m = 0; m < d.masks.count; m++) {
      for (let i = 0; i < plane; i++) if (d.masks.data[m * plane + i]) foreground[b * plane + i] = 1;
    }
  });
  return {
    jobId: job.jobId,
    ids: done.map((d) => d.item.id),
    labels: done.map((d) => d.item.label),
    indices: done.map((d) => d.item.index),
    images,
    foreground,
    instances: config.instances ? done.map((d) => boxesOf(d.masks)) : undefined,
    problems,
  };
}

/** The buffers to move (not copy) across the thread boundary. */
export function transferables(r: BatchResult): ArrayBuffer[] {
  const out: ArrayBuffer[] = [r.images.buffer as ArrayBuffer, r.foreground.buffer as ArrayBuffer];
  for (const inst of r.instances ?? []) out.push(inst.masks.buffer as ArrayBuffer, inst.boxes.buffer as ArrayBuffer);
  return out;
}

/** Worker entry: build the pipeline once, then answer one message per batch. */
if (!isMainThread && parentPort && workerData && workerData.role === 'sifd-loader') {
  const port = parentPort;
  const config = workerData.config as BatchConfig;
  const pipeline = buildPipeline(config.spec, config.size);
  port.on('message', (job: BatchJob) => {
    processBatch(config, pipeline, job).then(
      (result) => port.postMessage({ ok: true, result }, transferables(result)),
      (err: Error) => port.postMessage({ ok: false, jobId: job.jobId, message: err.stack ?? String(err) }),
    );
  });
}
