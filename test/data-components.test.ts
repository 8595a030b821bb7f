import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectedComponents, instanceBoxes, instanceStats, maskBox, splitComponents, unionMask } from '../src/lib/data/components';

/** A plane from rows of '#' (1) and '.' (0). */
function plane(rows: string[]): { data: Uint8Array; height: number; width: number } {
  return { data: Uint8Array.from(rows.join('').split(''), (c) => (c === '#' ? 1 : 0)), height: rows.length, width: rows[0].length };
}

test('8-connectivity joins diagonal neighbours; labels follow raster order; boxes are exclusive', () => {
  const p = plane([
    '#.....',
    '.#..##',
    '..#.#.',
    '......',
    '##...#',
  ]);
  const cc = connectedComponents(p.data, p.height, p.width);
  assert.equal(cc.count, 4);
  assert.deepEqual(cc.areas, [3, 3, 2, 1]);
  assert.deepEqual(cc.boxes, [
    { x1: 0, y1: 0, x2: 3, y2: 3 },
    { x1: 4, y1: 1, x2: 6, y2: 3 },
    { x1: 0, y1: 4, x2: 2, y2: 5 },
    { x1: 5, y1: 4, x2: 6, y2: 5 },
  ]);
  assert.deepEqual(Array.from(cc.labels.subarray(6, 12)), [0, 1, 0, 0, 2, 2]);
  assert.equal(connectedComponents(new Uint8Array(12), 3, 4).count, 0);
  assert.throws(() => connectedComponents(new Uint8Array(5), 2, 3), /expected 2x3/);
});

test('a large filled region does not overflow (explicit stack)', () => {
  const n = 1500;
  const cc = connectedComponents(new Uint8Array(n * n).fill(1), n, n);
  assert.equal(cc.count, 1);
  assert.deepEqual(cc.boxes[0], { x1: 0, y1: 0, x2: n, y2: n });
});

test('per-instance stats, boxes, component split and union', () => {
  const a = plane(['##....', '......', '....##']);
  const b = plane(['......', '.##...', '......']);
  const empty = plane(['......', '......', '......']);
  const masks = { data: Uint8Array.from([...a.data, ...b.data, ...empty.data]), count: 3, height: 3, width: 6 };
  assert.deepEqual(instanceStats(masks), [
    { area: 4, box: { x1: 0, y1: 0, x2: 6, y2: 3 }, components: 2 },
    { area: 2, box: { x1: 1, y1: 1, x2: 3, y2: 2 }, components: 1 },
    { area: 0, box: null, components: 0 },
  ]);
  assert.deepEqual(instanceBoxes(masks), [[0, 0, 6, 3], [1, 1, 3, 2]]);
  assert.deepEqual(maskBox(a.data, 6), { x1: 0, y1: 0, x2: 6, y2: 3 });
  assert.deepEqual(maskBox(b.data, 6), { x1: 1, y1: 1, x2: 3, y2: 2 });
  assert.equal(maskBox(empty.data, 6), null);
  const split = splitComponents(masks);
  assert.equal(split.count, 3);
  assert.deepEqual(Array.from(split.data.subarray(0, 18)), Array.from(plane(['##....', '......', '......']).data));
  assert.deepEqual(Array.from(split.data.subarray(18, 36)), Array.from(plane(['......', '......', '....##']).data));
  assert.deepEqual(Array.from(unionMask(masks)), Array.from(plane(['##....', '.##...', '....##']).data));
});
