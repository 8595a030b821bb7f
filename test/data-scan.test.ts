import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import sharp from 'sharp';
import { writeNpyMasks } from '../src/lib/data/npy';
import { resolveDataRoot, scan } from '../src/lib/data/scan';
import { repoRoot } from '../src/lib/util/paths';
import { edaRows, labelCounts, problemCounts, topImageSizes } from '../src/lib/data/eda';
import type { Masks } from '../src/lib/data/types';

const NPY = path.join(__dirname, 'fixtures', 'data', 'npy');
let root: string;
const W = 40;
const H = 30;

async function png(file: string, width = W, height = H): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const px = Buffer.from(Array.from({ length: width * height * 3 }, (_, i) => (i * 13) % 256));
  await sharp(px, { raw: { width, height, channels: 3 } }).png().toFile(file);
}

/** count instances, each a filled rectangle [x, y, w, h]. */
function rects(list: Array<[number, number, number, number]>, height = H, width = W): Masks {
  const data = new Uint8Array(list.length * height * width);
  list.forEach(([x0, y0, w, h], n) => {
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) data[(n * height + y) * width + x] = 1;
  });
  return { data, count: list.length, height, width };
}

/**
 * The corrupt corpus: good samples of every kind next to one file per problem kind. Each problem
 * must name its file, and every good sample must still come back.
 */
before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-scan-'));
  const ti = path.join(root, 'train_images');
  const tm = path.join(root, 'train_masks');
  await png(path.join(ti, 'authentic', 'a1.png'));
  await png(path.join(ti, 'authentic', 'a2.png'), 64, 48);
  await png(path.join(ti, 'forged', 'f1.png'));
  writeNpyMasks(path.join(tm, 'f1.npy'), rects([[0, 0, 10, 5], [20, 10, 10, 5]]));
  await png(path.join(ti, 'forged', 'f2.png'));
  writeNpyMasks(path.join(tm, 'f2.npy'), rects([[5, 5, 4, 4], [5, 5, 4, 4], [30, 20, 2, 2]])); // overlapping copies
  await png(path.join(ti, 'forged', 'f3.png'));
  const one = rects([[1, 1, 3, 3]]);
  writeNpyMasks(path.join(tm, 'f3.npy'), one);
  // Problems.
  await png(path.join(ti, 'forged', 'no_mask.png'));
  writeNpyMasks(path.join(tm, 'orphan.npy'), one);
  fs.writeFileSync(path.join(ti, 'authentic', 'corrupt.png'), 'definitely not a png');
  await png(path.join(ti, 'forged', 'truncated_mask.png'), 7, 5);
  fs.copyFileSync(path.join(NPY, 'truncated.npy'), path.join(tm, 'truncated_mask.npy'));
  await png(path.join(ti, 'forged', 'mismatch.png'));
  writeNpyMasks(path.join(tm, 'mismatch.npy'), rects([[0, 0, 2, 2]], 31, 40));
  await png(path.join(ti, 'forged', 'ambiguous.png'), 13, 12);
  fs.copyFileSync(path.join(NPY, 'ambiguous_3d.npy'), path.join(tm, 'ambiguous.npy'));
  await png(path.join(ti, 'forged', 'empty.png'));
  writeNpyMasks(path.join(tm, 'empty.npy'), rects([]));
  await png(path.join(ti, 'forged', 'zeros.png'));
  writeNpyMasks(path.join(tm, 'zeros.npy'), { ...one, data: new Uint8Array(H * W) });
  await png(path.join(ti, 'forged', 'bad_dtype.png'), 7, 5);
  fs.copyFileSync(path.join(NPY, 'complex_nhw.npy'), path.join(tm, 'bad_dtype.npy'));
  fs.writeFileSync(path.join(ti, 'forged', 'notes.txt'), 'hello');
  fs.writeFileSync(path.join(tm, 'readme.md'), 'hello');
  fs.writeFileSync(path.join(ti, 'forged', '.DS_Store'), 'hidden files are ignored');
  fs.mkdirSync(path.join(root, 'supplemental_images'), { recursive: true });
  await sharp(path.join(ti, 'forged', 'f1.png')).webp({ lossless: true }).toFile(path.join(ti, 'forged', 'f1.webp'));
  writeNpyMasks(path.join(tm, 'a2.npy'), rects([[0, 0, 2, 2]], 48, 64));
  fs.mkdirSync(path.join(ti, 'misc'));
  await png(path.join(ti, 'misc', 'm.png'));
  await png(path.join(ti, 'forged', 'f4.png'));
  writeNpyMasks(path.join(tm, 'f4.npy'), rects([[0, 0, 2, 2], [0, 0, 0, 0]]));
  // Test split: unlabelled (no test_masks/).
  await png(path.join(root, 'test_images', 't1.png'), 50, 20);
  await png(path.join(root, 'test_images', 't2.png'), 50, 20);
});

after(() => fs.rmSync(root, { recursive: true, force: true }));

test('the corrupt corpus: every problem kind names its file, every good sample comes back', async () => {
  const r = await scan(root);
  assert.equal(r.layout, 'kaggle');
  assert.deepEqual(
    r.samples.map((s) => `${s.split}/${s.label}/${s.id}${s.maskPath ? '+mask' : ''}`),
    ['train/authentic/a1', 'train/authentic/a2', 'train/forged/f1+mask', 'train/forged/f2+mask', 'train/forged/f3+mask', 'train/forged/f4+mask', 'test/unknown/t1', 'test/unknown/t2'],
  );
  const ti = path.join(root, 'train_images');
  const tm = path.join(root, 'train_masks');
  const expected: Array<[string, string, RegExp]> = [
    ['forged-without-mask', path.join(ti, 'forged', 'no_mask.png'), /no mask train_masks\/no_mask\.npy/],
    ['mask-without-image', path.join(tm, 'orphan.npy'), /no image 'orphan'/],
    ['corrupt-image', path.join(ti, 'authentic', 'corrupt.png'), /cannot decode image/],
    ['invalid-mask', path.join(tm, 'truncated_mask.npy'), /truncated \.npy/],
    ['invalid-mask', path.join(tm, 'bad_dtype.npy'), /unsupported mask dtype '<c8'/],
    ['mask-shape-mismatch', path.join(tm, 'mismatch.npy'), /mask shape \(1, 31, 40\) is 31x40 \(HxW\) but the image is 30x40/],
    ['ambiguous-mask', path.join(tm, 'ambiguous.npy'), /ambiguous 3-D mask shape \(11, 12, 13\)/],
    ['empty-mask', path.join(tm, 'empty.npy'), /0 instance\(s\) and no forged pixel/],
    ['empty-mask', path.join(tm, 'zeros.npy'), /1 instance\(s\) and no forged pixel/],
    ['not-an-image', path.join(ti, 'forged', 'notes.txt'), /not an image file/],
    ['not-a-mask', path.join(tm, 'readme.md'), /not an \.npy file/],
    ['empty-folder', path.join(root, 'supplemental_images'), /no images/],
    ['duplicate-id', path.join(ti, 'forged', 'f1.webp'), /id 'f1' is also .*f1\.png/],
    ['mask-on-authentic', path.join(tm, 'a2.npy'), /mask for an authentic image .*the image is kept as authentic/],
    ['unexpected-folder', path.join(ti, 'misc'), /unknown folder in train_images\//],
    ['empty-instance', path.join(tm, 'f4.npy'), /instance\(s\) 1 of 2 have no forged pixel \(the sample is kept\)/],
  ];
  for (const [kind, file, reason] of expected) {
    const p = r.problems.find((q) => q.kind === kind && q.file === file);
    assert.ok(p, `expected a ${kind} problem for ${file}; got ${JSON.stringify(r.problems, null, 1)}`);
    assert.match(p.reason, reason);
  }
  assert.equal(r.problems.length, expected.length, JSON.stringify(r.problems, null, 1));
});

test('EDA rows: sizes, instances, areas (overlapping instances counted once in the fraction)', async () => {
  const r = await scan(root);
  const rows = edaRows(r);
  const f2 = rows.find((x) => x.id === 'f2')!;
  assert.deepEqual(
    { ...f2, bytes: 0 },
    { id: 'f2', stem: 'f2', split: 'train', label: 'forged', width: W, height: H, megapixels: (W * H) / 1e6, channels: 3, mode: 'RGB', bit_depth: 8, format: 'png', bytes: 0, n_events: 3, forged_area_fraction: 20 / (W * H), event_areas: [16, 16, 4], parts_per_event: [1, 1, 1] },
  );
  assert.equal(f2.bytes, fs.statSync(path.join(root, 'train_images', 'forged', 'f2.png')).size);
  const a2 = rows.find((x) => x.id === 'a2')!;
  assert.deepEqual([a2.width, a2.height, a2.n_events, a2.forged_area_fraction, a2.event_areas, a2.parts_per_event], [64, 48, 0, 0, [], []]);
  assert.deepEqual(labelCounts(rows).map((c) => [c.split, c.label, c.images]), [['train', 'authentic', 2], ['train', 'forged', 4], ['test', 'unknown', 2]]);
  assert.deepEqual(topImageSizes(rows, 2).map((s) => [s.width, s.height, s.images]), [[40, 30, 5], [50, 20, 2]]);
  assert.equal(problemCounts(r.problems).find((p) => p.kind === 'empty-mask')?.count, 2);
  // Header level: no mask data read, so no areas.
  const header = edaRows(await scan(root, { verify: 'header' }));
  const f2h = header.find((x) => x.id === 'f2')!;
  assert.deepEqual([f2h.event_areas, f2h.parts_per_event, f2h.n_events], [null, null, 3]);
});

test('verify levels: layout skips file checks, full decodes pixels', async () => {
  const layout = await scan(root, { verify: 'layout' });
  assert.ok(layout.samples.some((s) => s.id === 'corrupt'));
  assert.equal(layout.details.size, 0);
  const trunc = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-scan-full-'));
  try {
    await png(path.join(trunc, 'ok.png'));
    const good = fs.readFileSync(path.join(trunc, 'ok.png'));
    fs.writeFileSync(path.join(trunc, 'cut.png'), good.subarray(0, good.length - 40));
    // the header level already reads a PNG's last bytes: a cut-off file is a problem, not a sample
    for (const verify of ['header', 'masks'] as const) {
      const r = await scan(trunc, { verify });
      assert.deepEqual(r.samples.map((s) => s.id), ['ok']);
      assert.deepEqual(r.problems.map((p) => [p.kind, p.file]), [['corrupt-image', path.join(trunc, 'cut.png')]]);
      assert.match(r.problems[0].reason, /truncated PNG/);
    }
    const full = await scan(trunc, { verify: 'full' });
    assert.deepEqual(full.samples.map((s) => s.id), ['ok']);
    assert.deepEqual(full.problems.map((p) => [p.kind, p.file]), [['corrupt-image', path.join(trunc, 'cut.png')]]);
  } finally {
    fs.rmSync(trunc, { recursive: true, force: true });
  }
});

test('flat folder of images: label unknown, non-images reported; empty folder reported; limit per group', async () => {
  const flat = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-flat-'));
  try {
    await png(path.join(flat, 'x10.png'));
    await png(path.join(flat, 'x9.png'));
    fs.writeFileSync(path.join(flat, 'list.csv'), 'a,b');
    const r = await scan(flat);
    assert.equal(r.layout, 'flat');
    assert.deepEqual(r.samples.map((s) => [s.id, s.split, s.label]), [['x9', 'test', 'unknown'], ['x10', 'test', 'unknown']]);
    assert.deepEqual(r.problems.map((p) => [p.kind, path.basename(p.file)]), [['not-an-image', 'list.csv']]);
    assert.deepEqual((await scan(flat, { limitPerGroup: 1 })).samples.map((s) => s.id), ['x9']);
    const empty = path.join(flat, 'empty');
    fs.mkdirSync(empty);
    assert.deepEqual((await scan(empty)).problems.map((p) => [p.kind, p.file]), [['empty-folder', empty]]);
    await assert.rejects(scan(path.join(flat, 'nope')), /data folder does not exist/);
  } finally {
    fs.rmSync(flat, { recursive: true, force: true });
  }
});

test('an image folder of the Kaggle layout (train_images/ with authentic/ and forged/) scans as unlabelled images', async () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-imagefolder-'));
  try {
    await png(path.join(d, 'authentic', 'a1.png'));
    await png(path.join(d, 'forged', 'f1.png'));
    await png(path.join(d, 'forged', 'a1.png'));
    await png(path.join(d, 'other', 'ignored.png'));
    const r = await scan(d);
    assert.equal(r.layout, 'flat');
    assert.deepEqual(r.samples.map((s) => [s.id, s.label]), [['a1', 'unknown'], ['f1', 'unknown']]);
    assert.deepEqual(r.problems.map((p) => [p.kind, path.relative(d, p.file)]), [['duplicate-id', path.join('forged', 'a1.png')]]);
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('test_masks/ labels test images (synthetic sample); resolveDataRoot: argument, SIFD_DATA, default', async () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-testmasks-'));
  const saved = process.env.SIFD_DATA;
  try {
    await png(path.join(d, 'test_images', 'p.png'));
    await png(path.join(d, 'test_images', 'q.png'));
    writeNpyMasks(path.join(d, 'test_masks', 'q.npy'), rects([[0, 0, 3, 3]]));
    const r = await scan(d);
    assert.deepEqual(r.samples.map((s) => [s.id, s.label, Boolean(s.maskPath)]), [['p', 'authentic', false], ['q', 'forged', true]]);
    process.env.SIFD_DATA = d;
    assert.equal(resolveDataRoot(), d);
    assert.equal(resolveDataRoot('/x/y'), '/x/y');
    delete process.env.SIFD_DATA;
    assert.equal(resolveDataRoot(), path.join(repoRoot(), 'data', 'sample'));
    assert.ok(fs.existsSync(path.join(repoRoot(), 'package.json')));
  } finally {
    if (saved === undefined) delete process.env.SIFD_DATA;
    else process.env.SIFD_DATA = saved;
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('sifd eda writes snake_case JSON rows and problems, and a self-contained HTML report', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-eda-cli-'));
  try {
    const json = path.join(out, 'eda.json');
    const html = path.join(out, 'report.html');
    const res = spawnSync(process.execPath, [path.join(repoRoot(), 'bin', 'sifd.js'), 'eda', '--data', root, '--json', json, '--out', html], { encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /8 images, 16 problems/);
    const parsed = JSON.parse(fs.readFileSync(json, 'utf8')) as { rows: Array<Record<string, unknown>>; problems: Array<Record<string, unknown>> };
    assert.equal(parsed.rows.length, 8);
    assert.deepEqual(Object.keys(parsed.rows[0]), ['id', 'stem', 'split', 'label', 'width', 'height', 'megapixels', 'channels', 'mode', 'bit_depth', 'format', 'bytes', 'n_events', 'forged_area_fraction', 'event_areas', 'parts_per_event']);
    assert.equal(parsed.problems.length, 16);
    assert.ok(parsed.problems.every((p) => typeof p.file === 'string' && typeof p.kind === 'string' && typeof p.reason === 'string'));
    const page = fs.readFileSync(html, 'utf8');
    assert.ok(!/<script[^>]+src=/i.test(page), 'no external scripts');
    assert.ok(!/<link[^>]+href="?https?:/i.test(page), 'no external stylesheets');
    assert.ok(page.includes(fs.readFileSync(require.resolve('plotly.js-dist-min/plotly.min.js'), 'utf8').slice(0, 200)), 'plotly.js inlined');
    assert.match(page, /Plotly\.newPlot\('plot3'/);
    assert.equal((page.match(/<figure><img src="data:image\/png;base64,/g) ?? []).length, 4, 'one overlay per good forged sample');
    const bad = spawnSync(process.execPath, [path.join(repoRoot(), 'bin', 'sifd.js'), 'eda', '--data', root, '--verify', 'deep'], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr + bad.stdout, /--verify must be one of header, masks, full/);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('areas of odd-sized, numpy-written masks (instances not 4-byte aligned) and a float (H,W,N) mask', async () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-odd-'));
  try {
    await png(path.join(d, 'train_images', 'forged', 'u8.png'), 7, 5);
    await png(path.join(d, 'train_images', 'forged', 'f4.png'), 7, 5);
    fs.mkdirSync(path.join(d, 'train_masks'));
    fs.copyFileSync(path.join(NPY, 'u8_nhw.npy'), path.join(d, 'train_masks', 'u8.npy'));
    fs.copyFileSync(path.join(NPY, 'float32_hwn.npy'), path.join(d, 'train_masks', 'f4.npy'));
    const r = await scan(d);
    assert.deepEqual(r.problems, []);
    // The fixtures' pattern: (x + 2y + 3n) % 4 == 0 on a 5x7 plane, instances n = 0, 1.
    const expected = [0, 1].map((n) => {
      let a = 0;
      for (let y = 0; y < 5; y++) for (let x = 0; x < 7; x++) if ((x + 2 * y + 3 * n) % 4 === 0) a++;
      return a;
    });
    let union = 0;
    for (let y = 0; y < 5; y++) for (let x = 0; x < 7; x++) if ((x + 2 * y) % 4 === 0 || (x + 2 * y + 3) % 4 === 0) union++;
    for (const row of edaRows(r)) {
      assert.deepEqual(row.event_areas, expected, row.id);
      assert.equal(row.forged_area_fraction, union / 35, row.id);
    }
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});
