import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { Loader, type LoadedBatch as Batch } from '../src/lib/data/loader';
import { writeNpyMasks } from '../src/lib/data/npy';
import { IMAGENET_MEAN, IMAGENET_STD } from '../src/lib/augment';
import type { Problem, Sample } from '../src/lib/data/types';
import { Rng } from '../src/lib/util/random';
import { generateImage } from '../src/lib/data/synth/index';
import { connectedComponents } from '../src/lib/data/components';

let dir = '';
let samples: Sample[] = [];

/** A W x H RGB PNG whose red channel is 255 exactly on a rectangle, with that rectangle as mask 0. */
async function writeSample(id: string, W: number, H: number, forged: boolean): Promise<Sample> {
  const data = Buffer.alloc(W * H * 3);
  const mask = new Uint8Array(W * H);
  const [x0, y0, w, h] = [Math.floor(W / 5), Math.floor(H / 4), Math.floor(W / 2), Math.floor(H / 3)];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const on = forged && x >= x0 && x < x0 + w && y >= y0 && y < y0 + h;
      mask[i] = on ? 1 : 0;
      data[i * 3] = on ? 255 : 0;
      data[i * 3 + 1] = (x * 3 + y * 5) % 256;
      data[i * 3 + 2] = 90;
    }
  }
  const imagePath = path.join(dir, `${id}.png`);
  await sharp(data, { raw: { width: W, height: H, channels: 3 } }).png().toFile(imagePath);
  if (!forged) return { id, split: 'train', label: 'authentic', imagePath };
  const maskPath = path.join(dir, `${id}.npy`);
  writeNpyMasks(maskPath, { data: mask, count: 1, height: H, width: W });
  return { id, split: 'train', label: 'forged', imagePath, maskPath };
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-loader-'));
  const sizes: [number, number][] = [[70, 50], [64, 64], [90, 40], [48, 72], [60, 60], [80, 56], [40, 40], [66, 44], [50, 70]];
  samples = [];
  for (let i = 0; i < sizes.length; i++) samples.push(await writeSample(`s${i}`, sizes[i][0], sizes[i][1], i % 3 !== 0));
  const corrupt = path.join(dir, 'broken.png');
  fs.writeFileSync(corrupt, 'this is not a png');
  samples.push({ id: 'broken', split: 'train', label: 'authentic', imagePath: corrupt });
  const bad = await writeSample('badmask', 30, 30, true);
  writeNpyMasks(bad.maskPath!, { data: new Uint8Array(20 * 30), count: 1, height: 20, width: 30 });
  samples.push(bad);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Snapshot {
  ids: string[];
  images: number[];
  masks: number[];
}

async function drain(loader: Loader, epoch: number, keep?: (b: Batch) => void): Promise<Snapshot[]> {
  const out: Snapshot[] = [];
  for await (const b of loader.epoch(epoch)) {
    keep?.(b);
    out.push({ ids: b.ids, images: Array.from(await b.images.data()), masks: Array.from(await b.masks.data()) });
    b.dispose();
  }
  return out;
}

test('same seed gives identical batches with 0 and 2 workers; seeds and epochs differ', async () => {
  const start = tf.memory().numTensors;
  const make = (workers: number, seed: number) =>
    new Loader({ samples, batchSize: 4, size: 32, augment: 'seed-b', seed, workers });
  const inline = make(0, 1);
  const threaded = make(2, 1);
  const other = make(0, 2);
  try {
    const a = await drain(inline, 0);
    const b = await drain(threaded, 0);
    assert.deepEqual(b, a);
    assert.deepEqual(await drain(threaded, 1), await drain(inline, 1));
    const c = await drain(other, 0);
    assert.notDeepEqual(c, a);
    assert.notDeepEqual(await drain(inline, 1), a);
    // every loadable sample exactly once per epoch; the two bad ones reported and skipped
    const ids = a.flatMap((s) => s.ids).sort();
    assert.deepEqual(ids, samples.slice(0, 9).map((s) => s.id).sort());
    assert.equal(a.reduce((n, s) => n + s.ids.length, 0), 9);
  } finally {
    await Promise.all([inline.close(), threaded.close(), other.close()]);
  }
  assert.equal(tf.memory().numTensors, start);
});

test('broken samples are reported with file and reason, then skipped', async () => {
  const seen: Problem[] = [];
  const loader = new Loader({ samples, batchSize: 3, size: 24, workers: 1, onProblem: (p) => seen.push(p) });
  try {
    await drain(loader, 0);
    await drain(loader, 1);
  } finally {
    await loader.close();
  }
  assert.equal(seen.length, 2, JSON.stringify(seen));
  const broken = seen.find((p) => p.file.endsWith('broken.png'));
  assert.ok(broken && broken.reason.length > 0, JSON.stringify(seen));
  const mismatch = seen.find((p) => p.file.endsWith('badmask.npy'));
  assert.ok(mismatch && /20x30/.test(mismatch.reason), JSON.stringify(seen));
  assert.deepEqual(loader.problems, seen);
});

test('batch tensors: shapes, foreground on the marker, instance boxes', async () => {
  const start = tf.memory().numTensors;
  const loader = new Loader({ samples: samples.slice(0, 9), batchSize: 5, size: [40, 48], augment: 'seed-a', seed: 3, instances: true });
  let checked = 0;
  try {
    for await (const b of loader.epoch(0)) {
      assert.deepEqual(b.images.shape, [b.ids.length, 40, 48, 3]);
      assert.deepEqual(b.masks.shape, [b.ids.length, 40, 48, 1]);
      assert.equal(b.images.dtype, 'float32');
      const img = await b.images.data();
      const fg = await b.masks.data();
      const t = (0.5 - IMAGENET_MEAN[0]) / IMAGENET_STD[0];
      for (let s = 0; s < b.ids.length; s++) {
        const inst = b.instances![s];
        const boxes = await inst.boxes.data();
        const im = await inst.masks.data();
        const forged = b.labels[s] === 'forged';
        assert.equal(inst.masks.shape[0], forged ? 1 : 0);
        let disagree = 0;
        let on = 0;
        const at = (x: number, y: number) => fg[s * 40 * 48 + Math.min(39, Math.max(0, y)) * 48 + Math.min(47, Math.max(0, x))];
        for (let y = 0; y < 40; y++) {
          for (let x = 0; x < 48; x++) {
            const i = y * 48 + x;
            const m = fg[s * 40 * 48 + i];
            on += m;
            if (forged) assert.equal(im[i], m);
            // blur and resampling may move the rectangle's edge by a pixel, never the rectangle
            const edge = at(x - 1, y) !== m || at(x + 1, y) !== m || at(x, y - 1) !== m || at(x, y + 1) !== m;
            if (!edge && (img[(s * 40 * 48 + i) * 3] > t ? 1 : 0) !== m) disagree++;
          }
        }
        assert.equal(disagree, 0, `${b.ids[s]}: ${disagree} pixels away from the edge disagree`);
        if (forged) {
          assert.ok(on > 100);
          const [x1, y1, x2, y2] = boxes;
          let inBox = 0;
          for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) inBox += im[y * 48 + x];
          assert.equal(inBox, on, 'box holds the whole instance');
          assert.ok((x2 - x1) * (y2 - y1) === on, 'a rectangle stays a rectangle under flips/rot90');
        } else assert.equal(on, 0);
        inst.masks.dispose();
        inst.boxes.dispose();
        checked++;
      }
      b.images.dispose();
      b.masks.dispose();
    }
  } finally {
    await loader.close();
  }
  assert.equal(checked, 9);
  assert.equal(tf.memory().numTensors, start);
});

test('breaking out of an epoch and closing leaves no tensors and no running workers', async () => {
  const start = tf.memory().numTensors;
  const loader = new Loader({ samples, batchSize: 2, size: 32, augment: 'seed-b', workers: 2, prefetch: 3 });
  for await (const b of loader.epoch(0)) {
    b.dispose();
    break;
  }
  const again = await drain(loader, 0);
  assert.ok(again.length >= 4);
  await loader.close();
  assert.equal(tf.memory().numTensors, start);
  await assert.rejects(async () => {
    for await (const b of loader.epoch(1)) b.dispose();
  }, /closed/);
  assert.throws(() => new Loader({ samples, batchSize: 0, size: 32 }), /batchSize/);
  assert.throws(() => new Loader({ samples, batchSize: 2, size: 32, augment: 'seed-z' }), /did you mean/);
});

test('evidence channel: the exact-twin map of the native image rides the augmentations as the truth does', async () => {
  const start = tf.memory().numTensors;
  // Noisy RGB with one 16x16 patch pasted elsewhere: the truth (source and copy) is exactly the evidence.
  const [W, H, s] = [64, 48, 16];
  const rng = new Rng('loader-evidence');
  const data = Buffer.from(Uint8Array.from({ length: W * H * 3 }, () => rng.int(0, 256)));
  const mask = new Uint8Array(W * H);
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      for (let c = 0; c < 3; c++) data[((30 + y) * W + 40 + x) * 3 + c] = data[((4 + y) * W + 6 + x) * 3 + c];
      mask[(4 + y) * W + 6 + x] = mask[(30 + y) * W + 40 + x] = 1;
    }
  }
  const imagePath = path.join(dir, 'twins.png');
  await sharp(data, { raw: { width: W, height: H, channels: 3 } }).png().toFile(imagePath);
  const maskPath = path.join(dir, 'twins.npy');
  writeNpyMasks(maskPath, { data: mask, count: 1, height: H, width: W });
  const sample: Sample = { id: 'twins', split: 'train', label: 'forged', imagePath, maskPath };
  for (const [workers, evidence] of [[0, 'exact-twins'], [1, 'exact-twins'], [1, 'twins-blocks']] as const) {
    const C = evidence === 'exact-twins' ? 4 : 5;
    const loader = new Loader({ samples: [sample, sample, sample, sample], batchSize: 4, size: [H, W], augment: 'seed-a', seed: 5, workers, evidence });
    try {
      for (let epoch = 0; epoch < 2; epoch++) {
        for await (const b of loader.epoch(epoch)) {
          assert.deepEqual(b.images.shape, [4, H, W, C]);
          const img = await b.images.data();
          const fg = await b.masks.data();
          for (let p = 0; p < 4 * H * W; p++) {
            // both planes (exact twins; block-matching blocks) mark exactly the pasted square and its source
            for (let c = 3; c < C; c++) assert.equal(img[p * C + c], fg[p], `pixel ${p} channel ${c}: evidence vs truth (${evidence}, workers ${workers}, epoch ${epoch})`);
          }
          b.dispose();
        }
      }
    } finally {
      await loader.close();
    }
  }
  assert.throws(() => new Loader({ samples, batchSize: 2, size: 32, evidence: 'twins' as never }), /evidence must be one of/);
  assert.equal(tf.memory().numTensors, start);
});

/** The loader's targets for one forged sample at its own size, no augmentation (tensors disposed). */
async function targetsOf(imagePath: string, maskPath: string, height: number, width: number): Promise<{ count: number; masks: Uint8Array; boxes: number[] }> {
  const loader = new Loader({ samples: [{ id: 'one', split: 'train', label: 'forged', imagePath, maskPath }], batchSize: 1, size: [height, width], augment: 'none', seed: 1, instances: true });
  try {
    for await (const b of loader.epoch(0)) {
      const inst = b.instances![0];
      const out = { count: inst.masks.shape[0], masks: Uint8Array.from(await inst.masks.data()), boxes: Array.from(await inst.boxes.data()) };
      tf.dispose([inst.masks, inst.boxes, b.images, b.masks]);
      return out;
    }
    throw new Error('the loader yielded no batch');
  } finally {
    await loader.close();
  }
}

test('event targets: a source copied twice is ONE target instance whose box holds all three parts', async () => {
  const start = tf.memory().numTensors;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-loader-events-'));
  try {
    // Find a generated figure whose one event has its source and both copies placed.
    let g: ReturnType<typeof generateImage> | undefined;
    for (let i = 0; i < 8 && !g; i++) {
      const c = generateImage(new Rng(`loader-event-${i}`), { family: 'sem', forged: true, width: 160, height: 120, regions: 1, copies: 2, generator: 'classic' });
      if (c.record.forgeries[0].copies.length === 2) g = c;
    }
    assert.ok(g, 'no figure of eight got both copies placed');
    const imagePath = path.join(root, 'f.png');
    const maskPath = path.join(root, 'f.npy');
    await sharp(Buffer.from(g.image.data), { raw: { width: 160, height: 120, channels: 3 } }).png().toFile(imagePath);
    writeNpyMasks(maskPath, g.masks);
    const t = await targetsOf(imagePath, maskPath, 120, 160);
    assert.equal(t.count, 1, 'one event, one target instance');
    const [x1, y1, x2, y2] = t.boxes;
    const f = g.record.forgeries[0];
    for (const part of [f.source, ...f.copies.map((c) => c.box)]) {
      assert.ok(part.x >= x1 && part.y >= y1 && part.x + part.w <= x2 && part.y + part.h <= y2, 'the event box holds every part');
    }
    assert.equal(connectedComponents(t.masks, 120, 160).count, 3, 'the target instance has the source and both copies as parts');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  assert.equal(tf.memory().numTensors, start);
});

test('old-convention masks (one channel per region) load as they are: two channels stay two targets', async () => {
  const start = tf.memory().numTensors;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-loader-old-'));
  try {
    const W = 64;
    const H = 48;
    const data = new Uint8Array(2 * W * H);
    for (let y = 5; y < 15; y++) for (let x = 5; x < 15; x++) data[y * W + x] = 1; // source, channel 0
    for (let y = 30; y < 40; y++) for (let x = 40; x < 50; x++) data[W * H + y * W + x] = 1; // copy, channel 1
    const imagePath = path.join(root, 'old.png');
    const maskPath = path.join(root, 'old.npy');
    await sharp(Buffer.alloc(W * H * 3, 128), { raw: { width: W, height: H, channels: 3 } }).png().toFile(imagePath);
    writeNpyMasks(maskPath, { data, count: 2, height: H, width: W });
    const t = await targetsOf(imagePath, maskPath, H, W);
    assert.equal(t.count, 2, 'no silent conversion to events');
    assert.deepEqual(t.boxes, [5, 5, 15, 15, 40, 30, 50, 40]);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  assert.equal(tf.memory().numTensors, start);
});
