/**
 * One data-parallel replica of the train-step bench (bench/train-step.ts --data-parallel N): the bench net on its
 * own wasm backend (single-threaded) and its own shard of the batch. Per step it sends the gradients of its shard's
 * mean loss, receives the combined gradients and applies the same Adam update as every other replica.
 */
import { parentPort, workerData } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/lib/backend/index';
import { createBenchNet } from '../../src/lib/models/benchnet';

interface Init {
  xData: Float32Array;
  yData: Float32Array;
  shape: [number, number, number, number];
}

async function main(): Promise<void> {
  const port = parentPort!;
  await initBackend({ prefer: 'wasm' });
  const { xData, yData, shape } = workerData as Init;
  const x = tf.tensor4d(xData, shape);
  const y = tf.tensor4d(yData, [shape[0], shape[1], shape[2], 1]);
  const net = createBenchNet(1); // same seed as the main replica: identical initial weights
  const vars = [...net.params.values()];
  const opt = tf.train.adam(1e-3);
  port.on('message', (m: { cmd: 'grads' | 'apply' | 'weights' | 'close'; grads?: Float32Array[] }) => {
    if (m.cmd === 'grads') {
      const { value, grads } = tf.variableGrads(() => tf.losses.sigmoidCrossEntropy(y, net.forward(x)) as tf.Scalar, vars);
      const out = vars.map((v) => grads[v.name].dataSync() as Float32Array);
      const loss = value.dataSync()[0];
      tf.dispose([value, ...Object.values(grads)]);
      port.postMessage({ loss, grads: out }, out.map((g) => g.buffer as ArrayBuffer));
    } else if (m.cmd === 'apply') {
      tf.tidy(() => opt.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: tf.tensor(m.grads![i], v.shape) }))));
      port.postMessage({ applied: true });
    } else if (m.cmd === 'weights') {
      port.postMessage({ weights: vars.map((v) => v.dataSync() as Float32Array) });
    } else {
      net.dispose();
      opt.dispose();
      tf.dispose([x, y]);
      port.close();
    }
  });
  port.postMessage({ ready: true });
}

main().catch((err) => {
  throw err;
});
