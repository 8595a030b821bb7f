/**
 * Header-only EDA scan speed: N generated PNGs (half forged, with uint8 (N,H,W) .npy masks) in
 * the Kaggle layout, scanned by sifd at two depths, against the usual Python loop
 * (PIL `Image.open().size` + `np.load` per image) on the same files.
 *
 *   npx tsx bench/scan.ts [--n 1000] [--repeat 5] [--python /path/to/python-with-pillow-numpy]
 *
 * Prints JSON. Files go to a temp folder, removed afterwards. Each figure is the best of
 * `repeat` runs (warm page cache for everyone).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { parseArgs } from 'util';
import sharp from 'sharp';
import { writeNpyMasks } from '../src/lib/data/npy';
import { scan, type VerifyLevel } from '../src/lib/data/scan';
import { edaRows } from '../src/lib/data/eda';
import { Rng } from '../src/lib/util/random';

async function makeDataset(dir: string, n: number, seed: number): Promise<void> {
  const rng = new Rng(seed);
  for (let i = 0; i < n; i++) {
    const forged = i % 2 === 1;
    const width = rng.int(128, 513);
    const height = rng.int(128, 513);
    const base = rng.int(0, 256);
    const px = Buffer.alloc(width * height * 3);
    for (let p = 0; p < px.length; p++) px[p] = (base + (p % 97) * 3 + ((p / width) | 0)) & 255;
    const file = path.join(dir, 'train_images', forged ? 'forged' : 'authentic', `${i}.png`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await sharp(px, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 1 }).toFile(file);
    if (forged) {
      const count = rng.int(1, 4);
      const data = new Uint8Array(count * height * width);
      for (let c = 0; c < count; c++) {
        const x0 = rng.int(0, width - 32);
        const y0 = rng.int(0, height - 32);
        for (let y = y0; y < y0 + 32; y++) data.fill(1, (c * height + y) * width + x0, (c * height + y) * width + x0 + 32);
      }
      writeNpyMasks(path.join(dir, 'train_masks', `${i}.npy`), { data, count, height, width });
    }
  }
}

const PYTHON_LOOP = `
import glob, os, sys, time
import numpy as np
from PIL import Image
root, repeat = sys.argv[1], int(sys.argv[2])
best = None
for _ in range(repeat):
    t = time.perf_counter()
    n = 0
    for p in sorted(glob.glob(os.path.join(root, 'train_images', '*', '*.png'))):
        w, h = Image.open(p).size
        m = os.path.join(root, 'train_masks', os.path.splitext(os.path.basename(p))[0] + '.npy')
        if os.path.exists(m):
            a = np.load(m)
        n += 1
    dt = time.perf_counter() - t
    best = dt if best is None else min(best, dt)
print(n, best)
`;

function findPython(given?: string): string | undefined {
  const candidates = [given, process.env.SIFD_BENCH_PYTHON, '/tmp/npvenv/bin/python', 'python3'];
  return candidates.find((p) => p && spawnSync(p, ['-c', 'import numpy, PIL'], { stdio: 'ignore' }).status === 0);
}

async function timeScan(dir: string, verify: VerifyLevel, repeat: number): Promise<{ seconds: number; images: number }> {
  let best = Infinity;
  let images = 0;
  for (let r = 0; r < repeat; r++) {
    const t = process.hrtime.bigint();
    const result = await scan(dir, { verify });
    images = edaRows(result, { parts: false }).length;
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e9);
    if (result.problems.length) throw new Error(`bench dataset has problems: ${JSON.stringify(result.problems.slice(0, 3))}`);
  }
  return { seconds: best, images };
}

export async function run(args: string[]): Promise<object> {
  const { values } = parseArgs({ args, options: { n: { type: 'string' }, repeat: { type: 'string' }, python: { type: 'string' } } });
  const n = Number(values.n ?? 1000);
  const repeat = Number(values.repeat ?? 5);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-bench-scan-'));
  try {
    const t0 = Date.now();
    await makeDataset(dir, n, 1);
    const generateSeconds = (Date.now() - t0) / 1000;
    const header = await timeScan(dir, 'header', repeat);
    const masks = await timeScan(dir, 'masks', repeat);
    const python = findPython(values.python);
    let py: { images: number; seconds: number } | null = null;
    if (python) {
      const out = spawnSync(python, ['-c', PYTHON_LOOP, dir, String(repeat)], { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`python loop failed: ${out.stderr}`);
      const [images, seconds] = out.stdout.trim().split(/\s+/).map(Number);
      py = { images, seconds };
    }
    const rate = (x: { images: number; seconds: number }) => Math.round(x.images / x.seconds);
    return {
      images: n,
      forged_with_masks: Math.floor(n / 2),
      image_sizes: '128..512 px per side',
      repeat,
      // sifd scan at verify 'header': PNG header + .npy header (+ size/shape checks) per image: the EDA table without areas.
      images_per_s: rate(header),
      header_seconds: header.seconds,
      // verify 'masks': also reads every mask and computes instance areas (what np.load does, and more).
      masks_images_per_s: rate(masks),
      masks_seconds: masks.seconds,
      python_images_per_s: py ? rate(py) : null,
      python_seconds: py?.seconds ?? null,
      python: python ?? 'not found (needs Pillow + numpy; pass --python)',
      speedup_header_vs_python: py ? +(rate(header) / rate(py)).toFixed(2) : null,
      speedup_masks_vs_python: py ? +(rate(masks) / rate(py)).toFixed(2) : null,
      generate_seconds: generateSeconds,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  run(process.argv.slice(2)).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
