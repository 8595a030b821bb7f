import { parseArgs } from 'util';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import type { Masks } from '../src/lib/data/types';
import { buildModel } from '../src/lib/models';
import { createOptimizer } from '../src/lib/train/optimizers';
import { Rng } from '../src/lib/util/random';
import { median, round1 as round } from '../src/lib/util/stats';

const USAGE = 'maskrcnn [--size 256] [--batch 4] [--steps 3] [--warmup 1] [--backend tensorflow|wasm|cpu] [--torch true|false]';

/** A random image batch with one rectangular forged instance per image. */
function randomBatch(rng: Rng, batch: number, size: number): { images: tf.Tensor4D; instances: Masks[] } {
  const images = tf.tensor4d(Float32Array.from({ length: batch * size * size * 3 }, () => rng.normal()), [batch, size, size, 3]);
  const instances = Array.from({ length: batch }, () => {
    const data = new Uint8Array(size * size);
    const s = Math.round(size / 3);
    const y0 = rng.int(0, size - s);
    const x0 = rng.int(0, size - s);
    for (let y = y0; y < y0 + s; y++) data.fill(1, y * size + x0, y * size + x0 + s);
    return { data, count: 1, height: size, width: size };
  });
  return { images, instances };
}

/** torchvision's figure for the same configuration, measured now (Debian's python3-torchvision); null when absent. */
function torchvisionFigure(steps: number, threads: number): object | null {
  const script = path.join(__dirname, 'torch', 'maskrcnn.py');
  if (!fs.existsSync('/usr/bin/python3')) return null;
  try {
    return JSON.parse(execFileSync('/usr/bin/python3', [script, String(steps), String(threads)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop()!);
  } catch (e) {
    return { error: `torchvision reference failed: ${(e as Error).message.split('\n')[0]}` };
  }
}

/**
 * maskrcnn-mnv3s at the seed's configuration: one AdamW training step (forward, the five losses,
 * gradients, update) and one eval forward (detections + pasted masks) at 256 px batch 4, then the
 * same for torchvision in the same run. Prints JSON; never asserts.
 */
export async function run(argv: string[]): Promise<object> {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: 'string', default: '256' },
      batch: { type: 'string', default: '4' },
      steps: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '1' },
      backend: { type: 'string' },
      torch: { type: 'string', default: 'true' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return { usage: USAGE };
  const report = await initBackend({ prefer: values.backend });
  const size = Number(values.size);
  const batch = Number(values.batch);
  const steps = Number(values.steps);
  const warmup = Number(values.warmup);
  const model = buildModel('maskrcnn-mnv3s', { minSize: size, maxSize: size }, new Rng(0));
  const vars = [...model.params.values()];
  const { images, instances } = randomBatch(new Rng('bench-maskrcnn'), batch, size);
  const optimizer = createOptimizer({ kind: 'adamw', weightDecay: 1e-4 }, 1e-3);
  const trainMs: number[] = [];
  const inferMs: number[] = [];
  let tensorsAfterWarmup = 0;
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(() => model.forward({ images, instances }, { training: true }).loss!, vars);
    optimizer.apply(model.params, new Map([...model.params].map(([n, v]) => [n, grads[v.name]])));
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
    const t1 = performance.now();
    const out = model.forward({ images }, { training: false });
    out.scores!.dataSync();
    const t2 = performance.now();
    tf.dispose(Object.values(out) as tf.Tensor[]);
    if (i === warmup - 1) tensorsAfterWarmup = tf.memory().numTensors;
    if (i >= warmup) trainMs.push(t1 - t0), inferMs.push(t2 - t1);
  }
  const threads = report.backend === 'wasm' ? (report.wasmThreads ?? 1) : (report.native?.intraOpThreads ?? 1);
  const sifd = {
    backend: report.backend,
    threads,
    params: vars.reduce((a, v) => a + v.size, 0),
    train_step_ms_median: round(median(trainMs)),
    infer_ms_median: round(median(inferMs)),
    tensor_drift: tf.memory().numTensors - tensorsAfterWarmup,
  };
  optimizer.dispose();
  tf.dispose(images);
  model.dispose();
  const torchvision = values.torch === 'true' && size === 256 && batch === 4 ? torchvisionFigure(steps, threads) : null;
  const ratio = torchvision && 'train_step_ms' in torchvision ? round(sifd.train_step_ms_median / (torchvision as { train_step_ms: number }).train_step_ms) : null;
  return { size, batch, steps, sifd, torchvision, train_step_ratio_vs_torchvision: ratio };
}

if (require.main === module) {
  run(process.argv.slice(2)).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
