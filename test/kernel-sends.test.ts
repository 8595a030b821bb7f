import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { serialiseKernelSends } from '../src/viz/kernel-sends';
import { withoutNewProcessHandlers } from '../src/lib/util/process-handlers';
import { initBackend } from '../src/lib/backend/index';
import { loadOpenCv } from '../src/lib/classical/opencv';

type Sock = { send(msg: unknown): Promise<void>; close(): void; lastEndpoint: string | null };
// eslint-disable-next-line @typescript-eslint/no-var-requires
const zmq = require('zeromq') as {
  Router: new (o: object) => Sock & { bind(addr: string): Promise<void>; receive(): Promise<Buffer[]> };
  Dealer: new (o: object) => Sock & { connect(addr: string): void };
};

/** Many sends on one socket, none awaited before the next (as tslab does), against a slow reader. */
async function burst(): Promise<Array<'ok' | string>> {
  const router = new zmq.Router({ receiveHighWaterMark: 1 });
  await router.bind('tcp://127.0.0.1:*');
  const dealer = new zmq.Dealer({ sendHighWaterMark: 1, sendTimeout: 5000 });
  dealer.connect(router.lastEndpoint as string);
  const big = Buffer.alloc(1 << 20, 7);
  const sends: Array<Promise<void>> = [];
  for (let i = 0; i < 12; i++) {
    try {
      sends.push(dealer.send([`m${i}`, big]));
    } catch (err) {
      sends.push(Promise.reject(err));
    }
  }
  const reader = (async () => {
    for (let got = 0; got < 12; got++) {
      const next = await Promise.race([router.receive(), new Promise<null>((r) => setTimeout(() => r(null), 1000))]);
      if (!next) break;
    }
  })();
  const settled = await Promise.allSettled(sends);
  await reader;
  dealer.close();
  router.close();
  return settled.map((r) => (r.status === 'fulfilled' ? 'ok' : String((r.reason as { code?: string }).code ?? r.reason)));
}

test('overlapping zeromq sends fail with EBUSY unless serialised, which only happens inside a kernel', async () => {
  assert.equal(serialiseKernelSends(), false, 'outside a kernel nothing is patched');
  const raw = await burst();
  assert.ok(raw.includes('EBUSY'), `the bug tslab hits; got ${raw.join(' ')}`);
  require('tslab/dist/jupyter'); // what a tslab kernel has loaded
  assert.equal(serialiseKernelSends(), true);
  const queued = await burst();
  assert.deepEqual(queued, Array(12).fill('ok'));
});

test('loading tfjs-wasm and OpenCV.js leaves no crash-on-any-rejection process handlers behind', async () => {
  const count = () => process.listeners('unhandledRejection').length + process.listeners('uncaughtException').length;
  const before = count();
  const start = tf.memory().numTensors;
  await initBackend({ prefer: 'wasm' });
  await loadOpenCv();
  assert.equal(count(), before);
  const added = await withoutNewProcessHandlers(() => {
    process.on('unhandledRejection', () => undefined);
    return 42;
  });
  assert.equal(added, 42);
  assert.equal(count(), before);
  assert.equal(tf.memory().numTensors, start);
});
