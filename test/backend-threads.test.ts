/**
 * The multithreaded wasm backend (src/lib/backend/wasm-threads.ts) runs in child processes here, so each case gets
 * a fresh tfjs and its own SIFD_WASM_THREADS, and so a pool worker that kept the process alive would show up as a
 * child that does not exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as os from 'os';
import { repoRoot } from '../src/lib/util/paths';

const CHILD = `
const tf = require('@tensorflow/tfjs');
const { initBackend } = require('./src/lib/backend/index');
const before = ['uncaughtException', 'unhandledRejection'].map((e) => process.listenerCount(e));
initBackend({ prefer: 'wasm' }).then((r) => {
  const start = tf.memory().numTensors;
  const x = tf.tensor4d(Float32Array.from({ length: 2 * 32 * 32 * 8 }, (_, i) => Math.sin(i)), [2, 32, 32, 8]);
  const w = tf.tensor4d(Float32Array.from({ length: 3 * 3 * 8 * 16 }, (_, i) => Math.cos(i)), [3, 3, 8, 16]);
  const [conv, gx, gw] = tf.tidy(() => {
    const g = tf.grads((a, b) => tf.conv2d(a, b, 1, 'same').square().mean())([x, w]);
    return [tf.conv2d(x, w, 1, 'same').square().mean(), g[0].sum(), g[1].sum()].map((t) => t.dataSync()[0]);
  });
  const out = {
    backend: r.backend, threads: r.wasmThreads, skipped: r.skipped, conv, gx, gw,
    globalWorker: typeof globalThis.Worker,
    handlersAdded: ['uncaughtException', 'unhandledRejection'].map((e, k) => process.listenerCount(e) - before[k]),
  };
  tf.dispose([x, w]);
  out.tensorsLeft = tf.memory().numTensors - start;
  process.stdout.write(JSON.stringify(out));
});
`;

function runChild(threads?: string): { status: number | null; ms: number; out: Record<string, unknown>; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, SIFD_BACKEND: '' };
  delete env.SIFD_WASM_THREADS;
  if (threads !== undefined) env.SIFD_WASM_THREADS = threads;
  const t0 = performance.now();
  const res = spawnSync(process.execPath, ['--import', 'tsx', '-e', CHILD], { cwd: repoRoot(), env, encoding: 'utf8', timeout: 60_000 });
  const ms = performance.now() - t0;
  let out: Record<string, unknown> = {};
  try {
    out = JSON.parse(res.stdout);
  } catch {
    // reported by the asserts below
  }
  return { status: res.status, ms, out, stderr: res.stderr };
}

const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;

test('wasm runs multithreaded by default, exits on its own, leaves no global Worker or process handlers', () => {
  const r = runChild();
  assert.equal(r.status, 0, `child failed or hung: ${r.stderr}`);
  assert.equal(r.out.backend, 'wasm');
  assert.equal(r.out.threads, Math.min(cores, 8), `threads (skipped: ${JSON.stringify(r.out.skipped)})`);
  assert.equal(r.out.globalWorker, 'undefined');
  assert.deepEqual(r.out.handlersAdded, [0, 0]);
  assert.equal(r.out.tensorsLeft, 0);
  // The pool's workers are unref'd: the script ends when its work does (the 60 s spawn timeout would kill a hang).
  assert.ok(r.ms < 30_000, `child took ${r.ms} ms`);
});

test('SIFD_WASM_THREADS=1 keeps the stock single-threaded build, with the same results', () => {
  const one = runChild('1');
  const two = runChild('2');
  assert.equal(one.status, 0, one.stderr);
  assert.equal(two.status, 0, two.stderr);
  assert.equal(one.out.threads, 1);
  assert.equal(two.out.threads, 2); // an explicit count is honoured even above the core count
  for (const k of ['conv', 'gx', 'gw']) {
    const a = one.out[k] as number;
    const b = two.out[k] as number;
    assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(a)), `${k}: 1 thread ${a} vs 2 threads ${b}`);
  }
});

test('SIFD_WASM_THREADS must be a positive integer', () => {
  const r = runChild('zero');
  assert.equal(r.status, 0, r.stderr);
  assert.notEqual(r.out.backend, 'wasm');
  assert.match(JSON.stringify(r.out.skipped), /SIFD_WASM_THREADS='zero' is not a positive integer/);
});
