import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import { createBenchNet } from '../src/lib/models/benchnet';
import { shardSizes } from '../src/lib/train/data-parallel';
import { startTsWorker } from '../src/lib/util/ts-worker';
import { Rng } from '../src/lib/util/random';
import { median, round1 as round } from '../src/lib/util/stats';

const USAGE = `train-step [--backend wasm|cpu|tensorflow] [--steps 10] [--warmup 2] [--batch 4] [--size 256]
           [--memory-steps 0]   run that many extra steps and report numTensors/RSS drift
           [--no-profile]       skip the per-kernel tf.profile step
           [--data-parallel N]  N single-threaded wasm replicas (this thread + N-1 worker_threads), each on a
                                shard of the batch; gradients combined by shard size, the same Adam step on each`;


/**
 * Trains the issue-5 bench net on random input (default 4x256x256x3) with mean BCE and Adam(1e-3) and times
 * the step. Prints {backend, step_ms_median, step_ms_min, infer_ms_median, steps, top_kernels, ...}.
 */
export async function run(argv: string[]): Promise<object> {
  const { values } = parseArgs({
    args: argv,
    options: {
      backend: { type: 'string' },
      steps: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      batch: { type: 'string', default: '4' },
      size: { type: 'string', default: '256' },
      'memory-steps': { type: 'string', default: '0' },
      'no-profile': { type: 'boolean', default: false },
      'data-parallel': { type: 'string', default: '1' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return { usage: USAGE };
  const replicas = Number(values['data-parallel']);
  if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`--data-parallel must be a positive integer, got ${values['data-parallel']}`);
  if (replicas > 1) return runDataParallel(values, replicas);
  const report = await initBackend({ prefer: values.backend });
  const steps = Number(values.steps);
  const warmup = Number(values.warmup);
  const batch = Number(values.batch);
  const size = Number(values.size);
  const memorySteps = Number(values['memory-steps']);

  const rng = new Rng('bench-train-step');
  const n = batch * size * size;
  const xData = new Float32Array(n * 3).map(() => rng.next());
  const yData = new Float32Array(n).map(() => (rng.bool() ? 1 : 0));
  const x = tf.tensor4d(xData, [batch, size, size, 3]);
  const y = tf.tensor4d(yData, [batch, size, size, 1]);
  const net = createBenchNet(1);
  const optimizer = tf.train.adam(1e-3);
  const vars = [...net.params.values()];
  const step = (): number => {
    const loss = optimizer.minimize(() => tf.losses.sigmoidCrossEntropy(y, net.forward(x)) as tf.Scalar, true, vars)!;
    const value = loss.dataSync()[0];
    loss.dispose();
    return value;
  };

  for (let i = 0; i < warmup; i++) step();
  const stepMs: number[] = [];
  const stepCpuMs: number[] = [];
  let lastLoss = NaN;
  for (let i = 0; i < steps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    lastLoss = step();
    stepMs.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    stepCpuMs.push((c.user + c.system) / 1000);
  }
  const inferMs: number[] = [];
  for (let i = 0; i < Math.max(3, Math.min(steps, 10)); i++) {
    const t0 = performance.now();
    tf.tidy(() => net.forward(x).dataSync());
    inferMs.push(performance.now() - t0);
  }

  let topKernels: { name: string; ms: number; calls: number }[] = [];
  if (!values['no-profile']) {
    // Nested kernels (ops inside the project's composed wasm kernels) are listed on their own too.
    const info = await tf.profile(() => {
      step();
    });
    const byName = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      e.calls += 1;
      byName.set(k.name, e);
    }
    topKernels = [...byName.entries()]
      .map(([name, e]) => ({ name, ms: round(e.ms), calls: e.calls }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, Number(process.env.SIFD_BENCH_TOP ?? 12));
  }

  let memory: object | undefined;
  if (memorySteps > 0) {
    const tensors0 = tf.memory().numTensors;
    const rss: number[] = [];
    for (let i = 0; i < memorySteps; i++) {
      step();
      if (i % Math.max(1, Math.floor(memorySteps / 10)) === 0 || i === memorySteps - 1) rss.push(process.memoryUsage().rss);
    }
    const mb = (b: number) => Math.round(b / 1048576);
    memory = {
      steps: memorySteps,
      num_tensors_start: tensors0,
      num_tensors_end: tf.memory().numTensors,
      rss_mb_samples: rss.map(mb),
      rss_mb_growth_after_first_sample: mb(rss[rss.length - 1] - rss[0]),
    };
  }

  net.dispose();
  optimizer.dispose();
  x.dispose();
  y.dispose();
  return {
    backend: report.backend,
    // XNNPACK threads of the wasm backend (SIFD_WASM_THREADS; default every core, max 8); TensorFlow's intra-op pool on
    // tensorflow (SIFD_TF_THREADS); 1 on cpu.
    threads: report.backend === 'wasm' ? report.wasmThreads ?? 1 : report.native?.intraOpThreads ?? 1,
    load_avg_1m: round(os.loadavg()[0]),
    step_ms_median: round(median(stepMs)),
    step_ms_min: round(Math.min(...stepMs)),
    // CPU time of the whole process per step (every thread): on a loaded machine, cpu / threads estimates the
    // wall time the step would take with the cores to itself (the pool splits the GEMM/conv work evenly).
    step_cpu_ms_median: round(median(stepCpuMs)),
    infer_ms_median: round(median(inferMs)),
    steps,
    input: [batch, size, size, 3],
    last_loss: lastLoss,
    top_kernels: topKernels,
    ...(memory ? { memory } : {}),
  };
}

/** Shard sizes of a batch over `replicas` (as even as possible, larger shards first). */
function nextMessage<T>(w: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    w.once('error', onError);
    w.once('message', (m: T) => {
      w.off('error', onError);
      resolve(m);
    });
  });
}

/**
 * Data-parallel variant (avenue 2 of issue 5): replica 0 runs here, the others in worker_threads, each with its
 * own single-threaded wasm backend and the same initial weights. A step: every replica computes the gradients of
 * its shard's mean loss; the main thread sums them weighted by shard size (= the full batch's mean-loss gradient)
 * and every replica applies the same Adam update, so the replicas stay identical (checked at the end).
 */
async function runDataParallel(values: Record<string, string | boolean | undefined>, replicas: number): Promise<object> {
  // Each replica owns a core: XNNPACK threads on top would oversubscribe it.
  process.env.SIFD_WASM_THREADS ??= '1';
  const report = await initBackend({ prefer: (values.backend as string | undefined) ?? 'wasm' });
  const steps = Number(values.steps);
  const warmup = Number(values.warmup);
  const batch = Number(values.batch);
  const size = Number(values.size);
  const rng = new Rng('bench-train-step');
  const n = batch * size * size;
  const xData = new Float32Array(n * 3).map(() => rng.next());
  const yData = new Float32Array(n).map(() => (rng.bool() ? 1 : 0));
  const sizes = shardSizes(batch, replicas);
  const starts = sizes.map((_, k) => sizes.slice(0, k).reduce((a, b) => a + b, 0));
  const px = size * size;
  const entry = path.join(__dirname, 'workers', 'train-step-replica.ts');
  const workers = sizes.slice(1).map((nb, k) => {
    const b0 = starts[k + 1];
    return startTsWorker(entry, {
      env: { ...process.env, SIFD_BACKEND: report.backend },
      workerData: {
        xData: xData.slice(b0 * px * 3, (b0 + nb) * px * 3),
        yData: yData.slice(b0 * px, (b0 + nb) * px),
        shape: [nb, size, size, 3],
      },
    });
  });
  try {
    await Promise.all(workers.map((w) => nextMessage(w)));
    const x = tf.tensor4d(xData.slice(0, sizes[0] * px * 3), [sizes[0], size, size, 3]);
    const y = tf.tensor4d(yData.slice(0, sizes[0] * px), [sizes[0], size, size, 1]);
    const net = createBenchNet(1);
    const vars = [...net.params.values()];
    const optimizer = tf.train.adam(1e-3);
    const weights = sizes.map((s) => s / batch);
    const step = async (): Promise<number> => {
      const remote = workers.map((w) => nextMessage<{ loss: number; grads: Float32Array[] }>(w));
      for (const w of workers) w.postMessage({ cmd: 'grads' });
      const { value, grads } = tf.variableGrads(() => tf.losses.sigmoidCrossEntropy(y, net.forward(x)) as tf.Scalar, vars);
      const own = vars.map((v) => grads[v.name].dataSync() as Float32Array);
      let loss = weights[0] * value.dataSync()[0];
      tf.dispose([value, ...Object.values(grads)]);
      const combined = own.map((g) => g.map((e) => e * weights[0]));
      (await Promise.all(remote)).forEach((r, k) => {
        loss += weights[k + 1] * r.loss;
        r.grads.forEach((g, i) => {
          const c = combined[i];
          for (let e = 0; e < g.length; e++) c[e] += weights[k + 1] * g[e];
        });
      });
      const applied = workers.map((w) => nextMessage(w));
      for (const w of workers) w.postMessage({ cmd: 'apply', grads: combined });
      tf.tidy(() => optimizer.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: tf.tensor(combined[i], v.shape) }))));
      await Promise.all(applied);
      return loss;
    };
    const tensors0 = tf.memory().numTensors;
    for (let i = 0; i < warmup; i++) await step();
    const tensorsAfterWarmup = tf.memory().numTensors;
    const stepMs: number[] = [];
    let lastLoss = NaN;
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      lastLoss = await step();
      stepMs.push(performance.now() - t0);
    }
    // The replicas must still hold the same weights.
    let replicaDiff = 0;
    for (const w of workers) {
      const got = nextMessage<{ weights: Float32Array[] }>(w);
      w.postMessage({ cmd: 'weights' });
      const theirs = (await got).weights;
      vars.forEach((v, i) => {
        const mine = v.dataSync();
        for (let e = 0; e < mine.length; e++) replicaDiff = Math.max(replicaDiff, Math.abs(mine[e] - theirs[i][e]));
      });
    }
    const tensorsEnd = tf.memory().numTensors;
    net.dispose();
    optimizer.dispose();
    tf.dispose([x, y]);
    return {
      backend: report.backend,
      threads: report.backend === 'wasm' ? report.wasmThreads ?? 1 : 1,
      data_parallel_replicas: sizes.length,
      shard_sizes: sizes,
      load_avg_1m: round(os.loadavg()[0]),
      step_ms_median: round(median(stepMs)),
      step_ms_min: round(Math.min(...stepMs)),
      steps,
      input: [batch, size, size, 3],
      last_loss: lastLoss,
      replica_weights_max_abs_diff: replicaDiff,
      num_tensors: { start: tensors0, after_warmup: tensorsAfterWarmup, end: tensorsEnd },
    };
  } finally {
    for (const w of workers) w.postMessage({ cmd: 'close' });
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
