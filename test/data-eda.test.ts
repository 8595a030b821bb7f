import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { describeEda, edaFrame, edaRows, EDA_COLUMNS, type EdaRow } from '../src/lib/data/eda';
import { edaComparison, edaSummary, quantile, quantiles, type EdaSummary } from '../src/lib/data/eda-summary';
import { encodeNpyMasks } from '../src/lib/data/npy';
import { scan } from '../src/lib/data/scan';
import type { Masks } from '../src/lib/data/types';
import { forgedAreaDistribution, instancesPerImage, partsPerEventFigure, sizeHistograms, sizeScatter } from '../src/viz/figures/eda';
import { INSTANCE_COLOURS, overlayMasks, sampleGrid } from '../src/viz/overlay';

function row(id: string, label: string, width: number, height: number, areas: number[] | null, fraction: number | null): EdaRow {
  return {
    id, stem: id, split: 'train', label, width, height, megapixels: (width * height) / 1e6, channels: 3, mode: 'RGB', bit_depth: 8, format: 'png', bytes: 100,
    n_events: areas?.length ?? 0, forged_area_fraction: fraction, event_areas: areas, parts_per_event: areas === null ? null : areas.map(() => 2),
  };
}
const ROWS: EdaRow[] = [
  row('a', 'authentic', 100, 50, [], 0),
  row('b', 'forged', 200, 100, [400, 100], 0.025),
  row('c', 'forged', 100, 50, [50], 0.01),
  row('d', 'forged', 300, 300, null, null),
];

test('edaFrame: one row per image, snake_case columns, areas as text; describe of numeric columns', () => {
  const before = tf.memory().numTensors;
  const df = edaFrame(ROWS);
  assert.deepEqual(df.columns, EDA_COLUMNS);
  assert.deepEqual(df.shape, [4, 16]);
  assert.deepEqual(df.column('event_areas').values, ['', '400;100', '50', '']);
  assert.deepEqual(df.column('parts_per_event').values, ['', '2;2', '2', '']);
  assert.deepEqual(df.column('width').values, [100, 200, 100, 300]);
  const d = describeEda(ROWS);
  const widthStats = d.column('width').values as number[];
  const index = d.index as string[];
  assert.equal(widthStats[index.indexOf('mean')], 175);
  assert.equal(widthStats[index.indexOf('max')], 300);
  assert.equal((d.column('n_events').values as number[])[index.indexOf('count')], 4);
  assert.equal(tf.memory().numTensors, before);
});

test('figures carry the rows: histograms, scatter per label, event shares beside the competition, area fractions, parts', () => {
  const h = sizeHistograms(ROWS).data as Array<{ x: number[] }>;
  assert.deepEqual(h.map((t) => t.x), [[100, 200, 100, 300], [50, 100, 50, 300]]);
  const s = sizeScatter(ROWS).data as Array<{ name: string; x: number[]; y: number[] }>;
  assert.deepEqual(s.map((t) => [t.name, t.x, t.y]), [['authentic', [100], [50]], ['forged', [200, 100, 300], [100, 50, 300]]]);
  const [events, reference] = instancesPerImage(ROWS).data as Array<{ x: number[]; y: number[] }>;
  assert.deepEqual([events.x, events.y], [[0, 1, 2, 3, 4, 5], [1 / 3, 1 / 3, 1 / 3, 0, 0, 0]]);
  assert.deepEqual(reference.y, [0, 1869, 701, 174, 5, 2].map((n) => n / 2751));
  const parts = partsPerEventFigure(ROWS).data[0] as { x: number[]; y: number[] };
  assert.deepEqual([parts.x, parts.y], [[2], [3]]);
  const area = forgedAreaDistribution(ROWS).data as Array<{ x: number[] }>;
  // binned as log10(fraction), shown with percent tick labels
  assert.deepEqual(area[0].x, [0.025, 0.01].map(Math.log10));
  assert.deepEqual(area[1].x, [400 / 20000, 100 / 20000, 50 / 5000].map(Math.log10));
});

test('overlayMasks blends each instance in its colour and outlines it; sampleGrid lays out cells', async () => {
  const W = 8;
  const H = 6;
  const image = { data: new Uint8Array(W * H * 3).fill(100), width: W, height: H, channels: 3 };
  const data = new Uint8Array(2 * H * W);
  for (let y = 1; y <= 4; y++) for (let x = 1; x <= 4; x++) data[y * W + x] = 1; // instance 0: 4x4 square
  data[H * W + 0 * W + 7] = 1; // instance 1: one pixel at (7, 0)
  const png = await overlayMasks(image, { data, count: 2, height: H, width: W }, { alpha: 0.5 });
  const { data: px, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [W, H, 3]);
  const at = (x: number, y: number): number[] => Array.from(px.subarray((y * W + x) * 3, (y * W + x) * 3 + 3));
  const [r0, g0, b0] = INSTANCE_COLOURS[0];
  assert.deepEqual(at(0, 0), [100, 100, 100], 'outside: unchanged');
  assert.deepEqual(at(1, 1), [r0, g0, b0], 'outline: opaque instance colour');
  const inner = at(2, 2);
  const blend = [r0, g0, b0].map((c) => 100 + (c - 100) * (128 / 255));
  inner.forEach((v, i) => assert.ok(Math.abs(v - blend[i]) <= 1, `inside blends 50%: ${inner} vs ${blend}`));
  assert.deepEqual(at(7, 0), [...INSTANCE_COLOURS[1]]);
  await assert.rejects(overlayMasks(image, { data, count: 2, height: H + 1, width: W }), /masks are 7x8 but the image is 6x8/);
  const small = await overlayMasks({ ...image, width: 40, height: 20, data: new Uint8Array(40 * 20 * 3) }, { data: new Uint8Array(0), count: 0, height: 20, width: 40 }, { maxSize: 10 });
  assert.deepEqual([(await sharp(small).metadata()).width, (await sharp(small).metadata()).height], [10, 5]);

  const grid = await sampleGrid([{ image: png, caption: 'one' }, { image }, { image: png }], { cols: 2, cellSize: 32, gap: 2 });
  const meta = await sharp(grid).metadata();
  assert.deepEqual([meta.width, meta.height], [2 * 32 + 3 * 2, 2 * (32 + 18) + 3 * 2]);
  await assert.rejects(sampleGrid([]), /at least one image/);
});

/** count (H,W) planes, each a list of filled rectangles [x, y, w, h]: one event, its parts. */
function events(height: number, width: number, ...planes: Array<Array<[number, number, number, number]>>): Masks {
  const data = new Uint8Array(planes.length * height * width);
  planes.forEach((rects, n) => {
    for (const [x0, y0, w, h] of rects) for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) data[(n * height + y) * width + x] = 1;
  });
  return { data, count: planes.length, height, width };
}

async function writeImage(file: string, width: number, height: number, channels: 1 | 3 | 4): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const px = Buffer.alloc(width * height * channels, 200);
  const img = sharp(px, { raw: { width, height, channels } });
  await (channels === 1 ? img.toColourspace('b-w') : img).png().toFile(file); // else sharp widens grey to RGB
}

test('EDA summary of a hand-made Kaggle folder: modes, events, 8-connected parts per event, areas, twins, comparison', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-eda-summary-'));
  try {
    const ti = path.join(dir, 'train_images');
    const tm = path.join(dir, 'train_masks');
    fs.mkdirSync(tm, { recursive: true });
    await writeImage(path.join(ti, 'authentic', 'p1.png'), 40, 30, 3); // twin of forged/p1.png
    await writeImage(path.join(ti, 'authentic', 'a2.png'), 20, 10, 1);
    await writeImage(path.join(ti, 'forged', 'p1.png'), 40, 30, 4); // twins may differ in mode
    await writeImage(path.join(ti, 'forged', 'f2.png'), 50, 40, 1);
    await writeImage(path.join(ti, 'forged', 'f3.png'), 64, 48, 3);
    fs.writeFileSync(path.join(tm, 'p1.npy'), encodeNpyMasks(events(30, 40, [[5, 5, 4, 4], [25, 5, 4, 4]]))); // source + copy: 2 parts
    // event 0: source + one copy (2 parts, 32 px); event 1: source + two copies (3 parts, 27 px)
    fs.writeFileSync(path.join(tm, 'f2.npy'), encodeNpyMasks(events(40, 50, [[2, 2, 4, 4], [20, 2, 4, 4]], [[2, 20, 3, 3], [20, 20, 3, 3], [40, 30, 3, 3]])));
    // squares touching at a corner: one 8-connected part (8 px)
    fs.writeFileSync(path.join(tm, 'f3.npy'), encodeNpyMasks(events(48, 64, [[0, 0, 2, 2], [2, 2, 2, 2]])));
    const result = await scan(dir);
    const rows = edaRows(result);
    const byStem = (stem: string) => rows.find((r) => r.stem === stem)!;
    assert.deepEqual(
      ['a2', 'f2', 'f3'].map((stem) => { const r = byStem(stem); return [r.stem, r.mode, r.megapixels, r.n_events, r.event_areas, r.parts_per_event]; }),
      [['a2', 'grey', 0.0002, 0, [], []], ['f2', 'grey', 0.002, 2, [32, 27], [2, 3]], ['f3', 'RGB', 0.003072, 1, [8], [1]]],
    );
    assert.equal(byStem('f2').forged_area_fraction, 59 / 2000);
    assert.deepEqual(edaRows(result, { parts: false }).find((r) => r.stem === 'f2')!.parts_per_event, null);

    // Twins: the same stem under authentic/ and forged/ of one split; the scan names them apart.
    const twin = rows.find((r) => r.stem === 'p1' && r.label === 'forged');
    assert.ok(twin, 'the forged twin is scanned, not dropped as a duplicate id');
    assert.deepEqual(result.problems.filter((p) => p.kind === 'duplicate-id'), []);
    const s = edaSummary(rows);
    assert.deepEqual([twin.mode, twin.n_events, twin.parts_per_event], ['RGBA', 1, [2]]);
    assert.deepEqual(s.twins, { pairs: 1, forged_only: 2, authentic_only: 1, forged: 3, authentic: 2 });
    assert.deepEqual(s.event_counts, { 1: 2, 2: 1, 3: 0, 4: 0, 5: 0 });
    assert.deepEqual(s.parts_per_event, { 1: 1, 2: 2, 3: 1 });
    assert.deepEqual(s.modes, { authentic: { RGB: 1, grey: 1 }, forged: { RGBA: 1, grey: 1, RGB: 1 } });
    assert.equal(s.area_fraction!.median, 32 / 1200);
    assert.equal(s.width!.median, 40); // 20, 40, 40, 50, 64
    assert.equal(s.area_fraction!.max, 59 / 2000);
    assert.equal(s.parts_per_event[3], 1);

    const comparison = edaComparison(s);
    const row = (name: string) => comparison.find((c) => c.statistic === name)!;
    assert.deepEqual(row('forged images with 1 event (share)').competition, 1869 / 2751);
    assert.deepEqual(row('forged-area fraction p90').competition, 0.125);
    assert.deepEqual(row('width median (px)').competition, 696);
    assert.deepEqual(row('forged RGBA (share)').competition, 647 / 2751);
    assert.deepEqual(row('authentic grey (share)'), { statistic: 'authentic grey (share)', this_set: 0.5, competition: 142 / 2377 });
    assert.deepEqual(row('train: forged images with an authentic twin (share)').competition, 2377 / 2751);
    assert.equal(row('events with 1 part (share)').competition, null);

    const json = path.join(dir, 'eda.json');
    const cli = spawnSync(process.execPath, [path.join(__dirname, '..', 'bin', 'sifd.js'), 'eda', '--data', dir, '--json', json], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /^statistic\s+this_set\s+competition$/m);
    assert.match(cli.stdout, /^forged images with 2 events \(share\)\s+0\.\d+\s+0\.2548$/m);
    const written = JSON.parse(fs.readFileSync(json, 'utf8')) as { summary: EdaSummary; comparison: unknown[] };
    assert.deepEqual(written.summary, s);
    assert.deepEqual(written.comparison, comparison);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('edaSummary on rows: linear-interpolation quantiles, twins by stem within a split, shares beside the competition', () => {
  const r = (id: string, stem: string, split: string, label: string, width: number, fraction: number, parts: number[]): EdaRow => ({
    ...row(id, label, width, 10, label === 'forged' ? parts.map(() => 1) : [], label === 'forged' ? fraction : 0),
    stem,
    split,
    parts_per_event: label === 'forged' ? parts : [],
  });
  const rows = [
    r('a', 'x', 'train', 'authentic', 10, 0, []),
    r('b', 'x', 'train', 'forged', 20, 0.1, [2]),
    r('c', 'y', 'train', 'forged', 30, 0.2, [2, 5]),
    r('d', 'y', 'supplemental', 'authentic', 40, 0, []), // same stem, other split: no twin (and twins count the train split)
    r('e', 'z', 'train', 'forged', 50, 0.4, [7]),
    r('f', 'w', 'test', 'unknown', 60, 0, []),
  ];
  const s = edaSummary(rows);
  assert.deepEqual([s.images, s.forged, s.authentic, s.unlabelled], [6, 3, 2, 1]);
  assert.deepEqual(s.twins, { pairs: 1, forged_only: 2, authentic_only: 0, forged: 3, authentic: 1 });
  assert.deepEqual(s.event_counts, { 1: 2, 2: 1, 3: 0, 4: 0, 5: 0 });
  assert.deepEqual(s.parts_per_event, { 2: 2, 5: 1, 7: 1 });
  // fractions 0.1, 0.2, 0.4: p10 at 0.2 of the way from 0.1 to 0.2, p75 halfway from 0.2 to 0.4
  const a = s.area_fraction!;
  assert.ok(Math.abs(a.p10 - 0.12) < 1e-12 && Math.abs(a.p75 - 0.3) < 1e-12);
  assert.deepEqual([a.n, a.min, a.median, a.max], [3, 0.1, 0.2, 0.4]);
  assert.deepEqual([s.width!.median, s.width!.p90, s.megapixels!.max], [35, 55, 0.0006]);
  assert.deepEqual(quantile([], 0.5), NaN);
  assert.equal(quantiles([]), null);
  const c = edaComparison(s);
  const get = (name: string) => c.find((x) => x.statistic === name)!;
  assert.deepEqual(get('forged images with 2 events (share)'), { statistic: 'forged images with 2 events (share)', this_set: 1 / 3, competition: 701 / 2751 });
  assert.equal(get("events with 2-5 parts, the real masks' range (share)").this_set, 3 / 4);
  assert.equal(get('events with more than 5 parts (share)').this_set, 1 / 4);
  assert.equal(get('train: forged images without a twin (share)').this_set, 2 / 3);
  assert.equal(get('train: authentic images without a twin (share)').this_set, 0);
  assert.equal(get('train: authentic images without a twin (share)').competition, 0);
  assert.equal(get('megapixels median').competition, 0.33);
  // no forged image: event shares have no value, the competition's stay
  const none = edaComparison(edaSummary([rows[0]]));
  assert.deepEqual(none.find((x) => x.statistic === 'forged images with 1 event (share)'), { statistic: 'forged images with 1 event (share)', this_set: null, competition: 1869 / 2751 });
});
