import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { Rng } from '../src/lib/util/random';
import { FAMILIES, generateDataset, generateImage, SYNTH_MARKER, type Box, type Manifest } from '../src/lib/data/synth/index';
import type { Image, Masks } from '../src/lib/data/types';

const SMALL = { min: 64, max: 192 };

function scratch(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `sifd-synth-${name}-`));
}

/** sha256 of every file under `root`, keyed by relative path. */
function hashTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(root, p), crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex'));
    }
  };
  walk(root);
  return out;
}

/** Minimal .npy reader (uint8, C order) so this test does not trust the writer's own reader. */
function readNpyU8(file: string): { shape: number[]; data: Uint8Array } {
  const buf = fs.readFileSync(file);
  assert.equal(buf.subarray(0, 6).toString('latin1'), '\x93NUMPY', `${file}: bad magic`);
  const len = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + len).toString('latin1');
  assert.match(header, /'descr': '\|u1'/);
  assert.match(header, /'fortran_order': False/);
  const shape = (/'shape': \(([^)]*)\)/.exec(header) as RegExpExecArray)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const data = new Uint8Array(buf.subarray(10 + len));
  assert.equal(data.length, shape.reduce((a, b) => a * b, 1));
  return { shape, data };
}

/** Bounding box of instance k, or null when the channel is empty. */
function maskBox(m: { data: Uint8Array; height: number; width: number }, k: number): Box | null {
  const n = m.height * m.width;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -1;
  let y1 = -1;
  for (let p = 0; p < n; p++) {
    if (!m.data[k * n + p]) continue;
    const x = p % m.width;
    const y = (p - x) / m.width;
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
  }
  return x1 < 0 ? null : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

function pixel(img: { data: Uint8Array | Uint16Array; width: number }, x: number, y: number): string {
  const i = (y * img.width + x) * 3;
  return `${img.data[i]},${img.data[i + 1]},${img.data[i + 2]}`;
}

/**
 * Re-derive exact copies from the forged image alone: for a translation or flip copy without
 * photometric change, every pasted pixel equals the source pixel it maps from, and the copy
 * mask is the source mask moved (and flipped). Returns how many copies were checked.
 */
function checkExactCopies(img: Image, masks: Masks, forgeries: Manifest['images'][number]['forgeries'], where: string): number {
  const n = img.width * img.height;
  let checked = 0;
  for (const f of forgeries) {
    for (const c of f.copies) {
      if (c.photometric.length > 0 || (c.transform.type !== 'translation' && c.transform.type !== 'flip')) continue;
      const axis = c.transform.type === 'flip' ? String(c.transform.params.axis) : '';
      const dx = Number(c.transform.params.dx);
      const dy = Number(c.transform.params.dy);
      assert.equal(c.box.x - f.source.x, dx, `${where}: dx does not match the boxes`);
      assert.equal(c.box.y - f.source.y, dy, `${where}: dy does not match the boxes`);
      assert.equal(c.box.w, f.source.w, where);
      assert.equal(c.box.h, f.source.h, where);
      for (let y = 0; y < c.box.h; y++) {
        for (let x = 0; x < c.box.w; x++) {
          const sx = f.source.x + (axis.includes('h') ? c.box.w - 1 - x : x);
          const sy = f.source.y + (axis.includes('v') ? c.box.h - 1 - y : y);
          const tp = (c.box.y + y) * img.width + c.box.x + x;
          const sp = sy * img.width + sx;
          assert.equal(masks.data[c.instance * n + tp], masks.data[f.sourceInstance * n + sp], `${where}: copy mask is not the moved source mask at (${x},${y})`);
          if (masks.data[c.instance * n + tp]) {
            assert.equal(pixel(img, c.box.x + x, c.box.y + y), pixel(img, sx, sy), `${where}: pasted pixel differs from its source`);
          }
        }
      }
      checked++;
    }
  }
  return checked;
}

interface Seen {
  transforms: Set<string>;
  contents: Set<string>;
  shapes: Set<string>;
  kinds: Set<string>;
  photometric: number;
  exact: number;
}

function newSeen(): Seen {
  return { transforms: new Set(), contents: new Set(), shapes: new Set(), kinds: new Set(), photometric: 0, exact: 0 };
}

/**
 * The invariants of a forged image: instance count and numbering, disjoint 0/1 instances whose
 * bounding boxes are the recorded boxes, every changed pixel inside a copy mask, sources
 * untouched, and exact copies re-derived from the image.
 */
function checkForged(g: ReturnType<typeof generateImage>, where: string, seen: Seen): void {
  const { image, masks, record, pristine } = g;
  const n = image.width * image.height;
  assert.equal(record.label, 'forged');
  assert.ok(record.forgeries.length >= 1 && record.forgeries.length <= 3, where);
  assert.equal(masks.count, record.instances);
  assert.equal(masks.count, record.forgeries.reduce((s, f) => s + 1 + f.copies.length, 0));
  assert.equal(masks.data.length, masks.count * n);
  const owner = new Int16Array(n).fill(-1);
  for (let k = 0; k < masks.count; k++) {
    for (let p = 0; p < n; p++) {
      if (masks.data[k * n + p] > 1) assert.fail(`${where}: mask value ${masks.data[k * n + p]}`);
      if (!masks.data[k * n + p]) continue;
      assert.equal(owner[p], -1, `${where}: instances ${owner[p]} and ${k} overlap`);
      owner[p] = k;
    }
  }
  const copyInstances = new Set<number>();
  for (const f of record.forgeries) {
    assert.deepEqual(maskBox(masks, f.sourceInstance), f.source, `${where}: source box`);
    seen.contents.add(f.content);
    seen.shapes.add(f.shape);
    seen.kinds.add(f.kind);
    for (const c of f.copies) {
      assert.deepEqual(maskBox(masks, c.instance), c.box, `${where}: copy box`);
      copyInstances.add(c.instance);
      seen.transforms.add(c.transform.type);
      seen.photometric += c.photometric.length;
    }
  }
  // Pixels changed by the forgery all lie inside a copy mask (nothing pasted outside the footprint).
  for (let p = 0; p < n; p++) {
    const changed =
      image.data[p * 3] !== pristine.data[p * 3] || image.data[p * 3 + 1] !== pristine.data[p * 3 + 1] || image.data[p * 3 + 2] !== pristine.data[p * 3 + 2];
    if (changed) assert.ok(copyInstances.has(owner[p]), `${where}: pixel ${p} changed outside every copy mask`);
    if (owner[p] >= 0 && !copyInstances.has(owner[p])) assert.ok(!changed, `${where}: source pixel ${p} was modified`);
  }
  seen.exact += checkExactCopies(image, masks, record.forgeries, where);
}

test('generateImage: forged masks cover exactly the pasted pixels, boxes match, instances are disjoint', () => {
  const rng = new Rng('synth-test-masks');
  const seen = newSeen();
  for (let i = 0; i < 42; i++) {
    const family = FAMILIES[i % FAMILIES.length];
    checkForged(generateImage(rng, { family, forged: true, sizes: { min: 96, max: 256 } }), `image ${i} (${family})`, seen);
  }
  assert.ok(seen.exact >= 10, `only ${seen.exact} exact copies were checked`);
  assert.deepEqual([...seen.transforms].sort(), ['flip', 'rotation', 'scale', 'translation']);
  assert.deepEqual([...seen.contents].sort(), ['flat', 'textured']);
  assert.deepEqual([...seen.shapes].sort(), ['blob', 'ellipse', 'rect']);
  assert.ok(seen.photometric > 0);
});

test('generateImage: compound figures sometimes reuse a panel crop in another panel, with exact masks', () => {
  const seen = newSeen();
  for (let i = 0; i < 40 && !seen.kinds.has('panel'); i++) {
    const g = generateImage(new Rng(`panel-${i}`), { family: 'compound', forged: true, width: 240, height: 200 });
    checkForged(g, `compound ${i}`, seen);
  }
  assert.ok(seen.kinds.has('panel'), 'no panel reuse in 40 compound figures');
  assert.ok(seen.exact >= 1);
});

test('generateImage: authentic images have no masks; same rng state -> same pixels; bad options are refused', () => {
  const a = generateImage(new Rng(5), { forged: false, family: 'gel', width: 120, height: 80 });
  assert.equal(a.record.label, 'authentic');
  assert.equal(a.masks.count, 0);
  assert.equal(a.image.data.length, 120 * 80 * 3);
  const b = generateImage(new Rng(5), { forged: false, family: 'gel', width: 120, height: 80 });
  assert.deepEqual(b.image.data, a.image.data);
  const c = generateImage(new Rng(6), { forged: false, family: 'gel', width: 120, height: 80 });
  assert.notDeepEqual(c.image.data, a.image.data);
  assert.throws(() => generateImage(new Rng(1), { family: 'blot' as never }), /unknown figure family 'blot'/);
  assert.throws(() => generateImage(new Rng(1), { sizes: { min: 300, max: 100 } }), /32 <= min <= max <= 4096/);
  assert.throws(() => generateImage(new Rng(1), { width: 10, height: 10 }), /image size/);
  assert.throws(() => generateImage(new Rng(1), { forged: true, regions: 4 }), /regions must be 1, 2 or 3/);
});

test('generateDataset: Kaggle layout, manifest, masks on disk match the manifest; same seed -> same bytes', async () => {
  const root = scratch('det');
  const a = path.join(root, 'a');
  const b = path.join(root, 'b');
  const c = path.join(root, 'c');
  try {
    const manifest = await generateDataset({ out: a, n: 30, seed: 11, sizes: SMALL, testFraction: 0.2 });
    await generateDataset({ out: b, n: 30, seed: 11, sizes: SMALL, testFraction: 0.2 });
    await generateDataset({ out: c, n: 30, seed: 12, sizes: SMALL, testFraction: 0.2 });
    const ha = hashTree(a);
    assert.deepEqual(hashTree(b), ha, 'same seed must give byte-identical files');
    const hc = hashTree(c);
    assert.notDeepEqual(hc, ha);
    const common = [...ha.keys()].filter((k) => k.endsWith('.png') && hc.has(k) && hc.get(k) === ha.get(k));
    assert.equal(common.length, 0, 'a different seed must give different images');

    const onDisk = JSON.parse(fs.readFileSync(path.join(a, 'manifest.json'), 'utf8')) as Manifest;
    assert.deepEqual(onDisk, JSON.parse(JSON.stringify(manifest)));
    assert.ok(fs.existsSync(path.join(a, SYNTH_MARKER)));
    assert.equal(manifest.images.length, 30);
    assert.equal(manifest.images.filter((r) => r.label === 'forged').length, 15);
    assert.equal(manifest.images.filter((r) => r.split === 'test').length, 6);
    assert.equal(new Set(manifest.images.map((r) => r.id)).size, 30, 'ids are unique');
    const pngs = [...ha.keys()].filter((k) => k.endsWith('.png')).sort();
    assert.deepEqual(pngs, manifest.images.map((r) => r.image).sort(), 'every image file is in the manifest');
    let exact = 0;
    for (const r of manifest.images) {
      assert.match(r.id, /^\d+$/);
      const expectedImage = r.split === 'test' ? `test_images/${r.id}.png` : `train_images/${r.label}/${r.id}.png`;
      assert.equal(r.image, expectedImage);
      const { data, info } = await sharp(path.join(a, r.image)).raw().toBuffer({ resolveWithObject: true });
      assert.equal(info.width, r.width);
      assert.equal(info.height, r.height);
      assert.equal(info.channels, 3);
      assert.ok(r.width >= SMALL.min && r.width <= SMALL.max && r.height >= SMALL.min && r.height <= SMALL.max);
      if (r.label === 'authentic') {
        assert.equal(r.mask, undefined);
        assert.ok(!fs.existsSync(path.join(a, 'train_masks', `${r.id}.npy`)));
        continue;
      }
      assert.equal(r.mask, `${r.split === 'test' ? 'test_masks' : 'train_masks'}/${r.id}.npy`);
      const npy = readNpyU8(path.join(a, r.mask as string));
      assert.deepEqual(npy.shape, [r.instances, r.height, r.width]);
      const masks = { data: npy.data, count: r.instances, height: r.height, width: r.width };
      for (const f of r.forgeries) {
        assert.deepEqual(maskBox(masks, f.sourceInstance), f.source);
        for (const cp of f.copies) assert.deepEqual(maskBox(masks, cp.instance), cp.box);
      }
      const img = { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };
      exact += checkExactCopies(img, masks, r.forgeries, r.image);
    }
    assert.ok(exact >= 3, `only ${exact} exact copies checked on disk`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('generateDataset: refuses a foreign non-empty folder or a file, replaces its own output', async () => {
  const root = scratch('refuse');
  try {
    const foreign = path.join(root, 'foreign');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'notes.txt'), 'precious');
    await assert.rejects(generateDataset({ out: foreign, n: 2, seed: 1, sizes: SMALL }), (err: Error) => {
      assert.equal(err.name, 'DatasetError');
      assert.match(err.message, /foreign: folder is not empty and was not created by sifd synth/);
      return true;
    });
    assert.deepEqual(fs.readdirSync(foreign), ['notes.txt']);
    assert.equal(fs.readFileSync(path.join(foreign, 'notes.txt'), 'utf8'), 'precious');

    const file = path.join(root, 'file.png');
    fs.writeFileSync(file, 'x');
    await assert.rejects(generateDataset({ out: file, n: 2, seed: 1, sizes: SMALL }), /not a folder/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'x');

    const empty = path.join(root, 'empty');
    fs.mkdirSync(empty);
    await generateDataset({ out: empty, n: 3, seed: 1, sizes: SMALL });
    assert.ok(fs.existsSync(path.join(empty, 'manifest.json')));
    await generateDataset({ out: empty, n: 4, seed: 2, sizes: SMALL });
    const m = JSON.parse(fs.readFileSync(path.join(empty, 'manifest.json'), 'utf8')) as Manifest;
    assert.equal(m.n, 4);
    assert.equal(m.seed, 2);
    const pngs = [...hashTree(empty).keys()].filter((k) => k.endsWith('.png'));
    assert.equal(pngs.length, 4, 'the old output is replaced, not merged');
    assert.deepEqual(fs.readdirSync(root).sort(), ['empty', 'file.png', 'foreign'], 'no temp folders left behind');

    await assert.rejects(generateDataset({ out: path.join(root, 'x'), n: 0, seed: 1 }), /n must be an integer/);
    await assert.rejects(generateDataset({ out: path.join(root, 'x'), n: 2, seed: 1, forgedRatio: 1.5 }), /forgedRatio/);
    assert.ok(!fs.existsSync(path.join(root, 'x')));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('generateDataset: 300 small images in well under a minute of CPU', async () => {
  const root = scratch('speed');
  try {
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    const m = await generateDataset({ out: path.join(root, 'ds'), n: 300, seed: 'speed', sizes: { min: 128, max: 384 } });
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const wallSeconds = (Date.now() - t0) / 1000;
    console.log(`synth speed: 300 images (${m.images.reduce((s, r) => s + r.width * r.height, 0) / 1e6} Mpx) in ${wallSeconds.toFixed(1)} s wall, ${cpuSeconds.toFixed(1)} s CPU`);
    // CPU time, not wall time: the shared test machine's load must not make this flaky.
    assert.ok(cpuSeconds < 40, `took ${cpuSeconds.toFixed(1)} s of CPU`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
