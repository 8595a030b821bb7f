import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { parseArgs } from 'util';
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
 * workers are for: with them the step and the decoding overlap on the two cores. mainCpuMsPerBatch
 * is the main thread's CPU time per batch: with workers it should be the step alone, the loader's
 * own share near zero. Rates on a shared machine are noisy
 * (loadAverage is printed with them); CPU times per batch are not, and give the estimate of the
 * rates on two idle cores.
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
function makeStep(kernel: tf.Tensor4D, reps: number): (images: tf.Tensor4D) => void {
  return (images) => {
    for (let r = 0; r < reps; r++) tf.tidy(() => tf.conv2d(images, kernel, 2, 'same').mean().dataSync());
  };
}

interface Timing {
  /** Batches per second. */
  rate: number;
  /** Main-thread CPU time per batch (consumer step included); null off Linux. */
  mainCpuMs: number | null;
  /** CPU time per batch of the whole process: main thread, workers, sharp's threads. */
  totalCpuMs: number;
}

/** CPU time (ms) of the main thread, from /proc (Linux; 10 ms ticks), or null elsewhere. */
function mainThreadCpuMs(): number | null {
  try {
    const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in USER_HZ (100/s)
  } catch {
    return null;
  }
}

async function timeEpochs(loader: Loader, batches: number, step?: (x: tf.Tensor4D) => void): Promise<Timing> {
  let done = 0;
  let epoch = 0;
  const main0 = mainThreadCpuMs();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  while (done < batches) {
    for await (const b of loader.epoch(epoch)) {
      step?.(b.images);
      b.dispose();
      if (++done >= batches) break;
    }
    epoch++;
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const main1 = mainThreadCpuMs();
  return {
    rate: (done * 1000) / wall,
    mainCpuMs: main0 === null || main1 === null ? null : (main1 - main0) / done,
    totalCpuMs: (cpu.user + cpu.system) / 1000 / done,
  };
}

/** `npm run bench -- loader [--images N] [--batch-size N] [--size N] [--source N] [--batches N] [--preset NAME]` */
export async function run(argv: string[] = []): Promise<object> {
  const { values } = parseArgs({
    args: argv,
    options: {
      images: { type: 'string' },
      'batch-size': { type: 'string' },
      size: { type: 'string' },
      source: { type: 'string' },
      batches: { type: 'string' },
      preset: { type: 'string' },
    },
  });
  const n = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  return measure({
    images: n(values.images),
    batchSize: n(values['batch-size']),
    size: n(values.size),
    source: n(values.source),
    batches: n(values.batches),
    preset: values.preset,
  });
}

export async function measure(args: LoaderBenchArgs = {}): Promise<object> {
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
    // size the stand-in step to cost about the CPU time of making one batch at 0 workers
    const kernel = tf.randomNormal([3, 3, 3, 16], 0, 0.1, 'float32', 1) as tf.Tensor4D;
    const probe = tf.zeros([batchSize, size, size, 3]) as tf.Tensor4D;
    const one = makeStep(kernel, 1);
    one(probe);
    const c0 = process.cpuUsage();
    for (let i = 0; i < 5; i++) one(probe);
    const c1 = process.cpuUsage(c0);
    const perRep = (c1.user + c1.system) / 1000 / 5;
    probe.dispose();
    const reps = Math.max(1, Math.round(raw0.totalCpuMs / perRep));
    const step = makeStep(kernel, reps);
    const stepMs = reps * perRep;
    const fed0 = await timeEpochs(l0, batches, step);
    const fed1 = await timeEpochs(l1, batches, step);
    const fed2 = await timeEpochs(l2, batches, step);
    kernel.dispose();
    const r = (x: number) => Math.round(x * 100) / 100;
    const rn = (x: number | null) => (x === null ? null : r(x));
    const estimate = (zero: Timing, one: Timing) => {
      if (one.mainCpuMs === null) return null;
      const rest = one.totalCpuMs - one.mainCpuMs;
      const rate0 = 1000 / zero.totalCpuMs;
      const rate1 = 1000 / Math.max(one.mainCpuMs, rest);
      return { workers0: r(rate0), workers1: r(rate1), speedup1: r(rate1 / rate0) };
    };
    return {
      bench: 'loader',
      preset,
      size,
      source: `${source}x${Math.round(source * 0.75)} png`,
      batchSize,
      batches,
      backend: tf.getBackend(),
      loadAverage: os.loadavg().map(r),
      raw: {
        workers0: r(raw0.rate), workers1: r(raw1.rate), workers2: r(raw2.rate), speedup1: r(raw1.rate / raw0.rate),
        mainCpuMsPerBatch: { workers0: rn(raw0.mainCpuMs), workers1: rn(raw1.mainCpuMs), workers2: rn(raw2.mainCpuMs) },
        totalCpuMsPerBatch: { workers0: r(raw0.totalCpuMs), workers1: r(raw1.totalCpuMs), workers2: r(raw2.totalCpuMs) },
      },
      fed: {
        stepCpuMs: r(stepMs), workers0: r(fed0.rate), workers1: r(fed1.rate), workers2: r(fed2.rate), speedup1: r(fed1.rate / fed0.rate),
        mainCpuMsPerBatch: { workers0: rn(fed0.mainCpuMs), workers1: rn(fed1.mainCpuMs), workers2: rn(fed2.mainCpuMs) },
        totalCpuMsPerBatch: { workers0: r(fed0.totalCpuMs), workers1: r(fed1.totalCpuMs), workers2: r(fed2.totalCpuMs) },
      },
      // On two idle cores, 0 workers costs (all CPU per batch) and 1 worker costs max(main, rest):
      idleTwoCoreEstimate: estimate(fed0, fed1),
      unit: 'batches/s',
    };
  } finally {
    await Promise.all(loaders.map((l) => l.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  run(process.argv.slice(2)).then((r) => console.log(JSON.stringify(r, null, 2)), (e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
