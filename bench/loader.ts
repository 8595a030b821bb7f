import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { HEAVIEST_PRESET } from '../src/lib/augment/presets';
import { Loader } from '../src/lib/data/loader';
import { writeNpyMasks } from '../src/lib/data/npy';
import type { Sample } from '../src/lib/data/types';
import { Rng } from '../src/lib/util/random';

/**
 * Loader throughput at 256 px with the heaviest preset, 0 vs 1 (and 2) workers, printed as JSON.
 * 'raw' consumes batches and does nothing else; 'fed' runs a stand-in training step on every batch
 * (a fixed tfjs conv workload sized to cost about what decoding a batch costs), which is what the
 * workers are for: with them the step and the decoding overlap on the two cores.
 */
export interface LoaderBenchArgs {
  images?: number;
  batchSize?: number;
  size?: number;
  /** Source image side in pixels. */
  source?: number;
  batches?: number;
  preset?: string;
}

async function makeDataset(dir: string, n: number, side: number): Promise<Sample[]> {
  const rng = new Rng('bench-loader');
  const out: Sample[] = [];
  for (let k = 0; k < n; k++) {
    const W = side;
    const H = Math.round(side * 0.75);
    const data = Buffer.alloc(W * H * 3);
    for (let i = 0; i < W * H; i++) {
      const x = i % W;
      const y = Math.floor(i / W);
      const base = 128 + 60 * Math.sin(x / 17 + k) * Math.cos(y / 23);
      for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.max(0, Math.min(255, Math.round(base + rng.normal(0, 12))));
    }
    const mask = new Uint8Array(W * H);
    const x0 = rng.int(0, W / 2);
    const y0 = rng.int(0, H / 2);
    for (let y = y0; y < y0 + H / 4; y++) for (let x = x0; x < x0 + W / 4; x++) mask[y * W + x] = 1;
    const imagePath = path.join(dir, `b${k}.png`);
    const maskPath = path.join(dir, `b${k}.npy`);
    await sharp(data, { raw: { width: W, height: H, channels: 3 } }).png().toFile(imagePath);
    writeNpyMasks(maskPath, { data: mask, count: 1, height: H, width: W });
    out.push({ id: `b${k}`, split: 'train', label: 'forged', imagePath, maskPath });
  }
  return out;
}

/** A fixed amount of tfjs work per batch, standing in for a training step. */
function makeStep(reps: number): (images: tf.Tensor4D) => void {
  const kernel = tf.randomNormal([3, 3, 3, 16], 0, 0.1, 'float32', 1) as tf.Tensor4D;
  return (images) => {
    for (let r = 0; r < reps; r++) tf.tidy(() => tf.conv2d(images, kernel, 2, 'same').mean().dataSync());
  };
}

async function timeEpochs(loader: Loader, batches: number, step?: (x: tf.Tensor4D) => void): Promise<number> {
  let done = 0;
  let epoch = 0;
  const t0 = performance.now();
  while (done < batches) {
    for await (const b of loader.epoch(epoch)) {
      step?.(b.images);
      b.dispose();
      if (++done >= batches) break;
    }
    epoch++;
  }
  return (done * 1000) / (performance.now() - t0);
}

export async function run(args: LoaderBenchArgs = {}): Promise<object> {
  const images = args.images ?? 32;
  const batchSize = args.batchSize ?? 8;
  const size = args.size ?? 256;
  const source = args.source ?? 512;
  const batches = args.batches ?? 12;
  const preset = args.preset ?? HEAVIEST_PRESET;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-bench-loader-'));
  const loaders: Loader[] = [];
  try {
    const samples = await makeDataset(dir, images, source);
    const make = (workers: number) => {
      const l = new Loader({ samples, batchSize, size, augment: preset, seed: 0, workers, dropLast: true });
      loaders.push(l);
      return l;
    };
    const l0 = make(0);
    const l1 = make(1);
    const l2 = make(2);
    // warm up: worker start-up (tsx + sharp) is paid once per loader, not per batch
    await timeEpochs(l1, 1);
    await timeEpochs(l2, 2);
    await timeEpochs(l0, 1);
    const raw0 = await timeEpochs(l0, batches);
    const raw1 = await timeEpochs(l1, batches);
    const raw2 = await timeEpochs(l2, batches);
    // size the stand-in step to cost about one batch of decoding at 0 workers
    const probe = tf.zeros([batchSize, size, size, 3]) as tf.Tensor4D;
    const one = makeStep(1);
    one(probe);
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) one(probe);
    const perRep = (performance.now() - t0) / 3;
    probe.dispose();
    const reps = Math.max(1, Math.round(1000 / raw0 / perRep));
    const step = makeStep(reps);
    const stepMs = reps * perRep;
    const fed0 = await timeEpochs(l0, batches, step);
    const fed1 = await timeEpochs(l1, batches, step);
    const fed2 = await timeEpochs(l2, batches, step);
    const r = (x: number) => Math.round(x * 100) / 100;
    return {
      bench: 'loader',
      preset,
      size,
      source: `${source}x${Math.round(source * 0.75)} png`,
      batchSize,
      batches,
      backend: tf.getBackend(),
      raw: { workers0: r(raw0), workers1: r(raw1), workers2: r(raw2), speedup1: r(raw1 / raw0) },
      fed: { stepMs: r(stepMs), workers0: r(fed0), workers1: r(fed1), workers2: r(fed2), speedup1: r(fed1 / fed0) },
      unit: 'batches/s',
    };
  } finally {
    await Promise.all(loaders.map((l) => l.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  run().then((r) => console.log(JSON.stringify(r, null, 2)), (e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
