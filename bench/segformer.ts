import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import type { Masks } from '../src/lib/data/types';
import { buildModel } from '../src/lib/models';
import { createOptimizer } from '../src/lib/train/optimizers';
import { Rng } from '../src/lib/util/random';
import { median, round1 as round } from '../src/lib/util/stats';

const USAGE = `segformer [--model segformer-cmfd|segformer-seg] [--variant b0] [--sizes 256,512] [--batch 2,1]
          [--steps 3] [--warmup 1] [--backend wasm|cpu|tensorflow]`;


/** A random image batch with one square forged instance per image. */
function randomBatch(rng: Rng, batch: number, size: number): { images: tf.Tensor4D; instances: Masks[] } {
  const images = tf.tensor4d(Float32Array.from({ length: batch * size * size * 3 }, () => rng.normal()), [batch, size, size, 3]);
  const instances = Array.from({ length: batch }, () => {
    const data = new Uint8Array(size * size);
    const s = size / 4;
    const y0 = rng.int(0, size - s);
    const x0 = rng.int(0, size - s);
    for (let y = y0; y < y0 + s; y++) data.fill(1, y * size + x0, y * size + x0 + s);
    return { data, count: 1, height: size, width: size };
  });
  return { images, instances };
}

/**
 * Times one AdamW training step (forward + Hungarian loss + gradients + update) and one
 * inference forward of a SegFormer model at each size. Prints JSON; never asserts.
 */
export async function run(argv: string[]): Promise<object> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', default: 'segformer-cmfd' },
      variant: { type: 'string', default: 'b0' },
      sizes: { type: 'string', default: '256,512' },
      // Per size: 512 px batch 2 needs more than the 4 GB wasm heap (batch 1 takes 2.8 GB in training).
      batch: { type: 'string', default: '2,1' },
      steps: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '1' },
      backend: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return { usage: USAGE };
  const report = await initBackend({ prefer: values.backend });
  const sizes = values.sizes!.split(',').map(Number);
  const batches = values.batch!.split(',').map(Number);
  if (sizes.some((v) => !Number.isInteger(v) || v <= 0) || batches.some((v) => !Number.isInteger(v) || v <= 0)) {
    throw new Error(`--sizes and --batch take positive integers, got '${values.sizes}' and '${values.batch}'`);
  }
  const batchFor = (i: number) => batches[Math.min(i, batches.length - 1)]; // the last one repeats
  const steps = Number(values.steps);
  const warmup = Number(values.warmup);
  const model = buildModel(values.model!, { variant: values.variant }, new Rng(0));
  const paramCount = [...model.params.values()].reduce((a, v) => a + v.size, 0);
  const encoderCount = [...model.params].filter(([n]) => n.startsWith('encoder/')).reduce((a, [, v]) => a + v.size, 0);
  const vars = [...model.params.values()];
  const results: Record<string, object> = {};
  for (const [index, size] of sizes.entries()) {
    const batch = batchFor(index);
    const rng = new Rng(`bench-segformer-${size}`);
    const { images, instances } = randomBatch(rng, batch, size);
    const optimizer = createOptimizer({ kind: 'adamw', weightDecay: 0.01 }, 3e-5);
    const trainMs: number[] = [];
    const trainCpuMs: number[] = [];
    const inferMs: number[] = [];
    const single = images.slice([0, 0, 0, 0], [1, size, size, 3]);
    let tensorsAfterWarmup = 0;
    for (let i = 0; i < warmup + steps; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const { value, grads } = tf.variableGrads(() => model.forward({ images, instances }, { training: true }).loss!, vars);
      optimizer.apply(model.params, new Map([...model.params].map(([n, v]) => [n, grads[v.name]])));
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
      const t1 = performance.now();
      const c1 = process.cpuUsage(c0);
      const out = model.forward({ images: single }, { training: false });
      out.masks!.dataSync();
      const t2 = performance.now();
      tf.dispose(Object.values(out));
      if (i === warmup - 1) tensorsAfterWarmup = tf.memory().numTensors;
      if (i >= warmup) {
        trainMs.push(t1 - t0);
        trainCpuMs.push((c1.user + c1.system) / 1000);
        inferMs.push(t2 - t1);
      }
    }
    results[`${size}px`] = {
      batch,
      train_step_ms_median: round(median(trainMs)),
      train_step_ms_min: round(Math.min(...trainMs)),
      // CPU time of every thread per training step (on a loaded machine, compare this across backends).
      train_step_cpu_ms_median: round(median(trainCpuMs)),
      infer_ms_median_batch1: round(median(inferMs)),
      infer_ms_min_batch1: round(Math.min(...inferMs)),
      tensor_drift: tf.memory().numTensors - tensorsAfterWarmup,
    };
    optimizer.dispose();
    tf.dispose([images, single]);
  }
  model.dispose();
  return {
    backend: report.backend,
    threads: report.backend === 'wasm' ? report.wasmThreads ?? 1 : report.native?.intraOpThreads ?? 1,
    model: values.model,
    variant: values.variant,
    steps,
    params: paramCount,
    encoder_params: encoderCount,
    ...results,
  };
}

if (require.main === module) {
  run(process.argv.slice(2)).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (err) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      process.exitCode = 1;
    },
  );
}
