import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { describeEda, edaFrame, EDA_COLUMNS, type EdaRow } from '../src/lib/data/eda';
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
