import { isMainThread, parentPort, workerData } from 'worker_threads';
import { buildPipeline, type Pipeline } from '../augment/pipeline';
import type { PipelineSpec } from '../augment/presets';
import type { Pair } from '../augment/transform';
import { SifdError } from '../errors';
import { Rng } from '../util/random';
import { instanceStats, unionMask } from './components';
import { appendEvidencePlanes, computeEvidenceCached, EvidenceCache, evidencePlanes, inputChannels, interleaveEvidence, splitEvidencePlanes, type EvidenceKind } from '../evidence/index';
import { readImage } from './image-io';
import { readMasks } from './npy';
import type { Label, Masks, Problem } from './types';

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
  /** Copy-move evidence planes appended to the pixels as extra channels (evidence.ts); default none. */
  evidence?: EvidenceKind;
}

export interface BatchJob {
  jobId: number;
  epoch: number;
  items: WorkItem[];
}

export interface InstanceBuffers {
  /** (N, H, W) 0/1, instances that kept at least one pixel after augmentation (Float32, tensor-ready). */
  masks: Float32Array;
  count: number;
  /** (N, 4) [x1, y1, x2, y2] in output pixels, x2/y2 exclusive. */
  boxes: Float32Array;
}

export interface BatchResult {
  jobId: number;
  ids: string[];
  labels: Label[];
  indices: number[];
  /** [B, H, W, C] normalized pixels, C = 3 + evidence planes (0/1). */
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

async function loadItem(item: WorkItem): Promise<Pair> {
  // readImage always gives 3-channel RGB; readMasks checks the mask against the image size
  const image = await readImage(item.imagePath);
  const masks: Masks = item.maskPath
    ? readMasks(item.maskPath, { height: image.height, width: image.width })
    : { data: new Uint8Array(0), count: 0, height: image.height, width: image.width };
  return { image, masks };
}

// Evidence depends only on the decoded file, so each worker keeps it across epochs.
const evidenceCache = new EvidenceCache();

/** The pair with its evidence planes (computed once per file) appended after the truth masks. */
function withEvidence(pair: Pair, kind: EvidenceKind, file: string): Pair {
  let map = evidenceCache.get(file);
  if (!map || map.length !== evidencePlanes(kind) * pair.image.width * pair.image.height) {
    map = computeEvidenceCached(kind, pair.image)!;
    evidenceCache.set(file, map);
  }
  return { image: pair.image, masks: appendEvidencePlanes(pair.masks, map) };
}

/** Instances that kept pixels after augmentation, with their boxes (components.ts convention). */
function instancesOf(masks: Masks): InstanceBuffers {
  const plane = masks.height * masks.width;
  const kept = instanceStats(masks)
    .map((s, m) => ({ m, box: s.box }))
    .filter((s) => s.box !== null);
  const out = new Float32Array(kept.length * plane);
  const boxes = new Float32Array(kept.length * 4);
  kept.forEach(({ m, box }, j) => {
    out.set(masks.data.subarray(m * plane, (m + 1) * plane), j * plane);
    boxes.set([box!.x1, box!.y1, box!.x2, box!.y2], j * 4);
  });
  return { masks: out, count: kept.length, boxes };
}

function problemOf(err: unknown, item: WorkItem, kind: string): Problem {
  const e = err as Error & { file?: string; reason?: string };
  return { file: e.file ?? item.imagePath, kind, reason: e.reason ?? e.message ?? String(err) };
}

/** Decodes, augments and packs one batch; a sample that fails is reported and left out. */
export async function processBatch(config: BatchConfig, pipeline: Pipeline, job: BatchJob): Promise<BatchResult> {
  const [H, W] = config.size;
  const plane = H * W;
  const evidence = config.evidence ?? 'none';
  const done: { item: WorkItem; image: Float32Array; masks: Masks; evidence?: Uint8Array }[] = [];
  const problems: Problem[] = [];
  // Decode one sample ahead: sharp decodes on libuv's threads while this thread augments.
  const loads: Promise<Pair>[] = [];
  const startLoad = (i: number) => {
    if (i < job.items.length && !loads[i]) {
      loads[i] = loadItem(job.items[i]);
      loads[i].catch(() => undefined); // awaited (and reported) in order below
    }
  };
  for (let i = 0; i < job.items.length; i++) {
    const item = job.items[i];
    startLoad(i);
    startLoad(i + 1);
    let pair: Pair;
    try {
      pair = await loads[i];
    } catch (err) {
      // any decode failure (corrupt file, sharp error, bad .npy) is about this sample only
      problems.push(problemOf(err, item, 'load'));
      continue;
    }
    try {
      if (evidence !== 'none') pair = withEvidence(pair, evidence, item.imagePath);
      const out = await pipeline.run(pair, sampleRng(config.seed, job.epoch, item.index));
      if (evidence === 'none') done.push({ item, image: out.image.data, masks: out.masks });
      else done.push({ item, image: out.image.data, ...splitEvidencePlanes(out.masks, evidencePlanes(evidence)) });
    } catch (err) {
      // a transform refusing this sample's data (SifdError) skips it; anything else is a bug
      if (!(err instanceof SifdError)) throw err;
      problems.push(problemOf(err, item, 'augment'));
    }
  }
  const C = inputChannels(evidence);
  const images = new Float32Array(done.length * plane * C);
  const foreground = new Float32Array(done.length * plane);
  done.forEach((d, b) => {
    if (d.evidence) interleaveEvidence(d.image, 3, d.evidence, images, b * plane * C);
    else images.set(d.image, b * plane * 3);
    foreground.set(unionMask(d.masks), b * plane);
  });
  return {
    jobId: job.jobId,
    ids: done.map((d) => d.item.id),
    labels: done.map((d) => d.item.label),
    indices: done.map((d) => d.item.index),
    images,
    foreground,
    instances: config.instances ? done.map((d) => instancesOf(d.masks)) : undefined,
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
  // One batch at a time, in arrival order: the batch the consumer needs next finishes first
  // (interleaving two batches would make both late). Decoding still runs one sample ahead.
  const answer = async (job: BatchJob): Promise<void> => {
    try {
      const result = await processBatch(config, pipeline, job);
      port.postMessage({ ok: true, result }, transferables(result));
    } catch (err) {
      port.postMessage({ ok: false, jobId: job.jobId, message: (err as Error).stack ?? String(err) });
    }
  };
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (job: BatchJob) => {
    queue = queue.then(() => answer(job));
  });
}
