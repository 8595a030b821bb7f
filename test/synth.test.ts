import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { Rng } from '../src/lib/util/random';
import { FAMILIES, FORGE_STYLES, generateDataset, generateImage, REALISTIC_SIZES, realisticAreaFraction, realisticMode, realisticSize, SYNTH_MARKER, type Box, type Manifest } from '../src/lib/data/synth/index';
import { drawWeighted } from '../src/lib/data/synth/forgery';
import type { Image, Masks } from '../src/lib/data/types';
import { connectedComponents } from '../src/lib/data/components';

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

function pixel(img: { data: Uint8Array | Uint16Array; width: number }, x: number, y: number): string {
  const i = (y * img.width + x) * 3;
  return `${img.data[i]},${img.data[i + 1]},${img.data[i + 2]}`;
}

/** Bounding box of channel k's pixels inside `box` (a part of an event), or null. */
function partBox(m: Masks, k: number, box: Box): Box | null {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -1;
  let y1 = -1;
  const n = m.height * m.width;
  for (let y = box.y; y < box.y + box.h; y++) {
    for (let x = box.x; x < box.x + box.w; x++) {
      if (!m.data[k * n + y * m.width + x]) continue;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  }
  return x1 < 0 ? null : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/**
 * Re-derive exact copies from the forged image alone: for a hard-edged translation or flip copy
 * without photometric change, every pasted pixel equals the source pixel it maps from, and the
 * copy's part of the event mask is the source's part moved (and flipped). Returns how many
 * copies were checked.
 */
function checkExactCopies(img: Image, masks: Masks, forgeries: Manifest['images'][number]['forgeries'], where: string): number {
  const n = img.width * img.height;
  let checked = 0;
  for (const f of forgeries) {
    const k = f.instance;
    for (const c of f.copies) {
      if (c.photometric.length > 0 || c.edge === 'soft' || (c.transform.type !== 'translation' && c.transform.type !== 'flip')) continue;
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
          assert.equal(masks.data[k * n + tp], masks.data[k * n + sp], `${where}: copy mask is not the moved source mask at (${x},${y})`);
          if (masks.data[k * n + tp]) {
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
  resamples: Set<string>;
  edges: Set<string>;
  photometric: number;
  exact: number;
}

function newSeen(): Seen {
  return { transforms: new Set(), contents: new Set(), shapes: new Set(), kinds: new Set(), resamples: new Set(), edges: new Set(), photometric: 0, exact: 0 };
}

/**
 * The invariants of a forged image: one mask channel per event (record.forgeries[k].instance = k),
 * channels disjoint and 0/1, each channel exactly its source and copies (the recorded boxes are the
 * bounding boxes of its parts, nothing outside them), every changed pixel inside a copy (or among
 * the few twin differences the record counts), sources untouched, exact copies re-derived.
 */
function checkForged(g: ReturnType<typeof generateImage>, where: string, seen: Seen, maxEvents = 5): void {
  const { image, masks, record, pristine } = g;
  const n = image.width * image.height;
  assert.equal(record.label, 'forged');
  assert.ok(record.forgeries.length >= 1 && record.forgeries.length <= maxEvents, where);
  assert.equal(masks.count, record.instances);
  assert.equal(masks.count, record.forgeries.length, `${where}: one channel per event`);
  assert.equal(masks.data.length, masks.count * n);
  const owner = new Int16Array(n).fill(-1);
  for (let k = 0; k < masks.count; k++) {
    for (let p = 0; p < n; p++) {
      if (masks.data[k * n + p] > 1) assert.fail(`${where}: mask value ${masks.data[k * n + p]}`);
      if (!masks.data[k * n + p]) continue;
      assert.equal(owner[p], -1, `${where}: events ${owner[p]} and ${k} overlap`);
      owner[p] = k;
    }
  }
  const inCopy = new Uint8Array(n);
  const inPart = new Uint8Array(n);
  record.forgeries.forEach((f, k) => {
    assert.equal(f.instance, k, `${where}: event ${k} names channel ${f.instance}`);
    assert.deepEqual(partBox(masks, k, f.source), f.source, `${where}: source box`);
    seen.contents.add(f.content);
    seen.shapes.add(f.shape);
    seen.kinds.add(f.kind);
    const mark = (b: Box, copy: boolean) => {
      for (let y = b.y; y < b.y + b.h; y++) for (let x = b.x; x < b.x + b.w; x++) if (masks.data[k * n + y * image.width + x]) (inPart[y * image.width + x] = 1), copy && (inCopy[y * image.width + x] = 1);
    };
    mark(f.source, false);
    for (const c of f.copies) {
      assert.deepEqual(partBox(masks, k, c.box), c.box, `${where}: copy box`);
      mark(c.box, true);
      seen.transforms.add(c.transform.type);
      seen.resamples.add(c.resample);
      seen.edges.add(c.edge);
      seen.photometric += c.photometric.length;
    }
  });
  for (let p = 0; p < n; p++) if (owner[p] >= 0) assert.equal(inPart[p], 1, `${where}: mask pixel ${p} lies in no recorded part of its event`);
  // Pixels changed by the forgery lie inside a copy (nothing pasted outside the footprint), except
  // the few twin differences the record counts; sources are never modified.
  let outside = 0;
  for (let p = 0; p < n; p++) {
    const changed =
      image.data[p * 3] !== pristine.data[p * 3] || image.data[p * 3 + 1] !== pristine.data[p * 3 + 1] || image.data[p * 3 + 2] !== pristine.data[p * 3 + 2];
    if (changed && !inCopy[p]) {
      assert.equal(owner[p], -1, `${where}: source pixel ${p} was modified`);
      outside++;
    }
  }
  assert.ok(outside <= (record.globalDifferences ?? 0), `${where}: ${outside} pixels changed outside every copy, ${record.globalDifferences ?? 0} recorded`);
  seen.exact += checkExactCopies(image, masks, record.forgeries, where);
}

for (const generator of ['classic', 'realistic'] as const) {
  test(`generateImage (${generator}): one mask channel per event covering exactly its source and pasted copies`, () => {
    const rng = new Rng(`synth-test-masks-${generator}`);
    const seen = newSeen();
    for (let i = 0; i < 42; i++) {
      const family = FAMILIES[i % FAMILIES.length];
      checkForged(generateImage(rng, { family, forged: true, sizes: { min: 96, max: 256 }, generator }), `image ${i} (${family})`, seen, generator === 'classic' ? 3 : 5);
    }
    assert.ok(seen.exact >= 8, `only ${seen.exact} exact copies were checked`);
    assert.deepEqual([...seen.transforms].sort(), ['flip', 'rotation', 'scale', 'translation']);
    assert.deepEqual([...seen.contents].sort(), ['flat', 'textured']);
    assert.deepEqual([...seen.shapes].sort(), ['blob', 'ellipse', 'rect']);
    assert.ok(seen.photometric > 0);
    if (generator === 'classic') {
      assert.deepEqual([...seen.resamples], ['nearest']);
      assert.deepEqual([...seen.edges], ['hard']);
    } else {
      assert.deepEqual([...seen.resamples].sort(), ['bicubic', 'bilinear', 'nearest']);
      assert.deepEqual([...seen.edges].sort(), ['hard', 'soft']);
    }
  });
}

test('generateImage: a source copied twice is ONE event channel holding the source and both copies', () => {
  for (let i = 0; i < 6; i++) {
    const g = generateImage(new Rng(`two-copies-${i}`), { family: 'fluorescence', forged: true, width: 320, height: 240, regions: 1, copies: 2 });
    assert.equal(g.masks.count, 1);
    assert.equal(g.record.forgeries.length, 1);
    const f = g.record.forgeries[0];
    if (f.copies.length < 2) continue; // a copy that did not fit is dropped; others must have two
    const seen = newSeen();
    checkForged(g, `two copies ${i}`, seen);
    const parts = connectedComponents(g.masks.data, g.masks.height, g.masks.width);
    assert.equal(parts.count, 3, 'source and two copies are three parts of the one channel');
    return;
  }
  assert.fail('no image of six got both copies placed');
});

test('generateImage: compound figures sometimes reuse a panel crop in another panel, with exact masks', () => {
  const seen = newSeen();
  for (let i = 0; i < 40 && !seen.kinds.has('panel'); i++) {
    const g = generateImage(new Rng(`panel-${i}`), { family: 'compound', forged: true, width: 240, height: 200, generator: 'classic' });
    checkForged(g, `compound ${i}`, seen, 3);
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
  assert.throws(() => generateImage(new Rng(1), { forged: true, regions: 6 }), /regions \(events\) must be an integer from 1 to 5/);
  assert.throws(() => generateImage(new Rng(1), { forged: true, copies: 0 }), /copies per event must be an integer from 1 to 4/);
  assert.throws(() => generateImage(new Rng(1), { generator: 'fancy' as never }), /unknown generator 'fancy'/);
});

test('generateDataset: Kaggle layout, manifest, masks on disk match the manifest; same seed -> same bytes', async () => {
  const root = scratch('det');
  const a = path.join(root, 'a');
  const b = path.join(root, 'b');
  const c = path.join(root, 'c');
  try {
    const manifest = await generateDataset({ out: a, n: 30, seed: 11, sizes: SMALL, testFraction: 0.2, generator: 'classic' });
    await generateDataset({ out: b, n: 30, seed: 11, sizes: SMALL, testFraction: 0.2, generator: 'classic' });
    await generateDataset({ out: c, n: 30, seed: 12, sizes: SMALL, testFraction: 0.2, generator: 'classic' });
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
      assert.equal(r.instances, r.forgeries.length, 'one channel per event');
      for (const f of r.forgeries) {
        assert.deepEqual(partBox(masks, f.instance, f.source), f.source);
        for (const cp of f.copies) assert.deepEqual(partBox(masks, f.instance, cp.box), cp.box);
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

test('generateDataset (realistic): twins share a stem, the authentic twin is the unforged figure, modes and re-encodings as recorded; scan and split keep twins together', async () => {
  const root = scratch('twins');
  try {
    const out = path.join(root, 'ds');
    const m = await generateDataset({ out, n: 40, seed: 'twins', sizes: { min: 64, max: 320 } });
    assert.equal(m.version, 2);
    assert.equal(m.style, 'realistic');
    assert.equal(m.images.length, 40);
    const train = m.images.filter((r) => r.split === 'train');
    const pairs = new Map<string, typeof m.images>();
    for (const r of train.filter((r) => r.twin)) pairs.set(r.id, [...(pairs.get(r.id) ?? []), r]);
    assert.ok(pairs.size >= 10, `only ${pairs.size} twin pairs`);
    const nForged = train.filter((r) => r.label === 'forged').length;
    assert.equal(pairs.size, Math.min(nForged, train.length - nForged), 'every authentic training image has a forged twin as far as the ratio allows');
    assert.ok(m.images.filter((r) => r.split === 'test').every((r) => !r.twin), 'test images are singles');
    const channels: Record<string, number> = { grey: 1, rgb: 3, rgba: 4 };
    let differing = 0;
    for (const [stem, [x, y]] of pairs) {
      const [auth, forged] = x.label === 'authentic' ? [x, y] : [y, x];
      assert.equal(auth.label, 'authentic');
      assert.equal(forged.label, 'forged');
      assert.equal(auth.image, `train_images/authentic/${stem}.png`);
      assert.equal(forged.image, `train_images/forged/${stem}.png`);
      assert.equal(forged.mask, `train_masks/${stem}.npy`);
      assert.deepEqual([auth.width, auth.height, auth.family], [forged.width, forged.height, forged.family]);
      const a = await sharp(path.join(out, auth.image)).raw().toBuffer({ resolveWithObject: true });
      const f = await sharp(path.join(out, forged.image)).raw().toBuffer({ resolveWithObject: true });
      assert.equal((await sharp(path.join(out, auth.image)).metadata()).channels, channels[auth.mode!], `${auth.image} is stored as ${auth.mode}`);
      assert.equal((await sharp(path.join(out, forged.image)).metadata()).channels, channels[forged.mode!], `${forged.image} is stored as ${forged.mode}`);
      if (auth.mode !== forged.mode) differing++;
      const npy = readNpyU8(path.join(out, forged.mask!));
      assert.deepEqual(npy.shape, [forged.forgeries.length, forged.height, forged.width]);
      // Outside the mask the twins agree (up to the recorded differences and the re-encoding), in grey levels.
      if (!forged.reencoding) {
        const grey = (img: { data: Buffer; info: { channels: number } }, p: number) => {
          const c = img.info.channels;
          return c === 1 ? img.data[p] : Math.round(0.299 * img.data[p * c] + 0.587 * img.data[p * c + 1] + 0.114 * img.data[p * c + 2]);
        };
        const n = forged.width * forged.height;
        let off = 0;
        for (let p = 0; p < n; p++) {
          let masked = false;
          for (let k = 0; k < npy.shape[0]; k++) masked ||= npy.data[k * n + p] === 1;
          if (!masked && Math.abs(grey(a, p) - grey(f, p)) > 3) off++;
        }
        assert.ok(off <= (forged.globalDifferences ?? 0), `${stem}: ${off} pixels differ outside the mask`);
      }
    }
    assert.ok(m.images.some((r) => r.reencoding), 'some forged twins are re-encoded');
    assert.ok(differing > 0 || pairs.size < 5, 'twins may differ in mode');

    const { scan } = await import('../src/lib/data/scan');
    const { stratifiedSplit } = await import('../src/lib/data/split');
    const scanned = await scan(out);
    assert.deepEqual(scanned.problems, [], 'twins are no duplicate ids and their mask is no mask-on-authentic');
    assert.equal(scanned.samples.length, 40);
    assert.equal(new Set(scanned.samples.map((s) => s.id)).size, 40, 'ids are unique');
    const twinSample = scanned.samples.find((s) => s.id === `forged/${[...pairs.keys()][0]}`);
    assert.ok(twinSample?.maskPath, 'the forged twin has its mask');
    for (const seed of [1, 2, 3]) {
      const split = stratifiedSplit(scanned.samples.filter((s) => s.split === 'train'), { valFraction: 0.3, seed });
      const side = new Map<string, string>();
      for (const [name, list] of [['train', split.train], ['val', split.val]] as const) {
        for (const s of list) {
          const stem = s.stem ?? s.id;
          assert.ok(!side.has(stem) || side.get(stem) === name, `twin ${stem} straddles the split (seed ${seed})`);
          side.set(stem, name);
        }
      }
      assert.ok(split.val.length > 0 && split.train.length > 0);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('realistic draws match the real data: sizes, megapixels, forged-area fractions, modes and events', () => {
  const rng = new Rng('realism');
  const n = 20000;
  const mp: number[] = [];
  const widths: number[] = [];
  const areas: number[] = [];
  const forgedModes: Record<string, number> = { rgb: 0, rgba: 0, grey: 0 };
  const events = [0, 0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    const { width, height } = realisticSize(rng, Math.exp(rng.uniform(Math.log(0.8), Math.log(1.8))), REALISTIC_SIZES);
    mp.push((width * height) / 1e6);
    widths.push(width);
    areas.push(realisticAreaFraction(rng));
    forgedModes[realisticMode(rng, 'forged')]++;
    events[drawWeighted(rng, FORGE_STYLES.realistic.events)]++;
  }
  const q = (xs: number[], p: number) => xs.slice().sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))];
  const near = (got: number, want: number, rel: number, what: string) => assert.ok(Math.abs(got - want) <= rel * want, `${what}: ${got.toFixed(4)} vs real ${want}`);
  near(q(mp, 0.5), 0.33, 0.15, 'median megapixels');
  near(q(mp, 0.1), 0.066, 0.2, 'p10 megapixels');
  near(q(mp, 0.9), 1.92, 0.15, 'p90 megapixels');
  near(q(widths, 0.5), 696, 0.15, 'median width');
  near(q(areas, 0.1), 0.0025, 0.1, 'p10 area');
  near(q(areas, 0.5), 0.021, 0.1, 'median area');
  near(q(areas, 0.9), 0.125, 0.1, 'p90 area');
  near(forgedModes.rgb / n, 1935 / 2751, 0.05, 'RGB share');
  near(forgedModes.rgba / n, 647 / 2751, 0.08, 'RGBA share');
  near(events[0] / n, 1869 / 2751, 0.05, 'one-event share');
  near(events[1] / n, 701 / 2751, 0.08, 'two-event share');
});

test('synth --bases: real photographs forged into the same layout with twins; unreadable bases are skipped by name', async () => {
  const root = scratch('bases');
  try {
    const bases = path.join(root, 'photos');
    fs.mkdirSync(path.join(bases, 'sub'), { recursive: true });
    for (const [i, name] of ['a.png', 'sub/b.jpg'].entries()) {
      const w = 300 + i * 40;
      const h = 220;
      const px = Buffer.alloc(w * h * 3);
      const r = new Rng(`photo-${i}`);
      for (let p = 0; p < px.length; p++) px[p] = Math.max(0, Math.min(255, Math.round(120 + 60 * Math.sin(p / 997) + r.normal(0, 20))));
      await sharp(px, { raw: { width: w, height: h, channels: 3 } }).toFile(path.join(bases, name));
    }
    fs.writeFileSync(path.join(bases, 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\nnot really'));
    const warnings: string[] = [];
    const out = path.join(root, 'ds');
    const m = await generateDataset({ out, n: 12, seed: 3, bases, onWarning: (w) => warnings.push(w) });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /broken\.png/);
    assert.ok(m.images.every((r) => r.family === 'photo' && (r.base === 'a.png' || r.base === 'sub/b.jpg')));
    assert.ok(m.images.some((r) => r.twin));
    assert.deepEqual(fs.readdirSync(bases).sort(), ['a.png', 'broken.png', 'sub'], 'bases are read in place, never copied or changed');
    await assert.rejects(generateDataset({ out: path.join(root, 'none'), n: 2, seed: 1, bases: path.join(root, 'missing') }), /bases folder does not exist/);

    // A bases list keeps only the files it names; a named file that is not there is skipped by name.
    const list = path.join(root, 'photos.txt');
    fs.writeFileSync(list, '# photographs only\nsub/b.jpg   # the second\n\ngone.png\n');
    const listed: string[] = [];
    const ml = await generateDataset({ out: path.join(root, 'listed'), n: 8, seed: 3, bases, basesList: list, onWarning: (w) => listed.push(w) });
    assert.ok(ml.images.every((r) => r.base === 'sub/b.jpg'));
    assert.equal(listed.length, 1);
    assert.match(listed[0], /gone\.png named in .*photos\.txt/);
    fs.writeFileSync(list, '# nothing\n\n');
    await assert.rejects(generateDataset({ out: path.join(root, 'none'), n: 2, seed: 1, bases, basesList: list }), (e: Error) => /names no file/.test(e.message) && e.message.includes('photos.txt'));
    fs.writeFileSync(list, 'gone.png\n');
    await assert.rejects(generateDataset({ out: path.join(root, 'none'), n: 2, seed: 1, bases, basesList: list }), /names no image file/);
    await assert.rejects(generateDataset({ out: path.join(root, 'none'), n: 2, seed: 1, bases, basesList: path.join(root, 'nolist.txt') }), /cannot read the bases list/);
    await assert.rejects(generateDataset({ out: path.join(root, 'none'), n: 2, seed: 1, basesList: list }), /basesList needs bases/);
    assert.ok(!fs.existsSync(path.join(root, 'none')), 'a refused run writes nothing');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
