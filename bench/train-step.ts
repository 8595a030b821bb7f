import * as os from 'os';
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import { createBenchNet } from '../src/lib/models/benchnet';
import { Rng } from '../src/lib/util/random';
import { median, round1 as round } from '../src/lib/util/stats';

const USAGE = `train-step [--backend wasm|cpu|tensorflow] [--steps 10] [--warmup 2] [--batch 4] [--size 256]
           [--memory-steps 0]   run that many extra steps and report numTensors/RSS drift
           [--no-profile]       skip the per-kernel tf.profile step`;


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
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return { usage: USAGE };
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
    // XNNPACK threads of the wasm backend (SIFD_WASM_THREADS; default every core, max 8); 1 on other backends.
    threads: report.backend === 'wasm' ? report.wasmThreads ?? 1 : 1,
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
