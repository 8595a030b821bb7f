/**
 * The dinov2-metric decoding cascade per image (models/dinov2/cascade.ts): HDBSCAN over the token
 * embeddings, suspicion, core growth on the token grid, then the pixel masks, at the token grids the
 * notebook and the reference system use (8x8 = 112 px, 16x16 = 224 px, 33x33 = 462 px, the reference's
 * frozen ViT-B/14 input), on synthetic unit embeddings: a background cloud and two events, each a source
 * and a copy sharing one direction. Side by side: HDBSCAN alone in sifd and in scikit-learn
 * (`HDBSCAN(metric='euclidean', algorithm='brute')` on the same points, as the fixture of
 * test/dinov2-hdbscan.test.ts) when a Python with scikit-learn is found (--python, SIFD_BENCH_PYTHON).
 *
 *   npx tsx bench/run.ts cascade [--repeat 5] [--dim 64] [--python PY]
 *
 * Prints JSON: milliseconds per image (best of `repeat`) per grid.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { parseArgs } from 'util';
import { hdbscan } from '../src/lib/cluster/hdbscan';
import { cascadeToInstances, runCascade } from '../src/lib/models/dinov2/index';
import { Rng } from '../src/lib/util/random';

/** h*w unit vectors of `d` values: background around one direction, two events (2 blocks each) around others. */
function embeddings(h: number, w: number, d: number, rng: Rng): Float32Array {
  const dirs = [0, 1, 2].map(() => Float32Array.from({ length: d }, () => rng.normal(0, 1)));
  const out = new Float32Array(h * w * d);
  const side = Math.max(2, Math.round(h / 6));
  const events: Array<[number, number, number]> = [
    [1, 1, 1], [1, Math.floor(w / 2), 1],
    [Math.floor(h / 2), 1, 2], [Math.floor(h / 2), Math.floor(w / 2), 2],
  ];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const hit = events.find(([ey, ex]) => y >= ey && y < ey + side && x >= ex && x < ex + side);
      const dir = dirs[hit ? hit[2] : 0];
      let norm = 0;
      const o = (y * w + x) * d;
      for (let k = 0; k < d; k++) norm += (out[o + k] = dir[k] + rng.normal(0, 0.35)) ** 2;
      for (let k = 0; k < d; k++) out[o + k] /= Math.sqrt(norm);
    }
  }
  return out;
}

function best(repeat: number, fn: () => void): number {
  let ms = Infinity;
  for (let r = 0; r < repeat; r++) {
    const t = process.hrtime.bigint();
    fn();
    ms = Math.min(ms, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return ms;
}

const SKLEARN = `
import sys, time, numpy as np
from sklearn.cluster import HDBSCAN
pts = np.load(sys.argv[1]); repeat = int(sys.argv[2]); mcs = int(sys.argv[3])
best = None
for _ in range(repeat):
    t = time.perf_counter()
    HDBSCAN(min_cluster_size=mcs, metric='euclidean', algorithm='brute', cluster_selection_method='eom').fit_predict(pts)
    dt = time.perf_counter() - t
    best = dt if best is None else min(best, dt)
print(best * 1000)
`;

function findPython(given?: string): string | undefined {
  return [given, process.env.SIFD_BENCH_PYTHON, 'python3'].find((p) => p && spawnSync(p, ['-c', 'import numpy, sklearn.cluster; sklearn.cluster.HDBSCAN'], { stdio: 'ignore' }).status === 0);
}

/** float32 (n, d) as a .npy file. */
function writeNpy(file: string, data: Float32Array, n: number, d: number): void {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n}, ${d}), }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

export async function run(args: string[]): Promise<object> {
  const { values } = parseArgs({ args, options: { repeat: { type: 'string' }, dim: { type: 'string' }, python: { type: 'string' } } });
  const repeat = Number(values.repeat ?? 5);
  const d = Number(values.dim ?? 64);
  const python = findPython(values.python);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-bench-cascade-'));
  const rows = [];
  try {
    for (const grid of [8, 16, 33]) {
      const emb = embeddings(grid, grid, d, new Rng(`cascade-${grid}`));
      const n = grid * grid;
      const size = grid * 14;
      const ctx = { height: size, width: size, restore: (m: Float32Array) => m, threshold: 0.5, minArea: 10 };
      let events = 0;
      const cascadeMs = best(repeat, () => {
        const result = runCascade(emb, grid, grid, d);
        events = cascadeToInstances(result, ctx).instances.count;
      });
      const minClusterSize = 4;
      const hdbscanMs = best(repeat, () => hdbscan(emb, n, d, { minClusterSize }));
      let sklearnMs: number | null = null;
      if (python) {
        const file = path.join(tmp, `emb-${grid}.npy`);
        writeNpy(file, emb, n, d);
        const r = spawnSync(python, ['-c', SKLEARN, file, String(repeat), String(minClusterSize)], { encoding: 'utf8' });
        if (r.status === 0) sklearnMs = Number(r.stdout.trim());
      }
      rows.push({ grid: `${grid}x${grid}`, tokens: n, input_px: size, cascade_ms: cascadeMs, events, hdbscan_ms: hdbscanMs, sklearn_hdbscan_ms: sklearnMs });
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return { bench: 'cascade', dim: d, repeat, python: python ?? null, load: os.loadavg().map((v) => Number(v.toFixed(2))), rows };
}
