import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { ConfigError, DatasetError } from '../../errors';
import { writeDirAtomic } from '../../util/atomic';
import { Rng } from '../../util/random';
import { encodeNpyMasks } from '../npy';
import type { Image } from '../types';
import { DEFAULT_SIZES, generateImage, validateSizes, type SizeRange } from './generate';
import { FAMILIES, type Family, type Manifest, type ManifestEntry } from './manifest';

/** File that marks a folder as written by the generator; only such folders are ever replaced. */
export const SYNTH_MARKER = '.sifd-synth';

export interface GenerateDatasetOptions {
  /** Output folder; must not exist, be empty, or hold an earlier synthetic dataset (replaced). */
  out: string;
  /** Number of images (train + test). */
  n: number;
  seed: number | string;
  /** Fraction of forged images (default 0.5). */
  forgedRatio?: number;
  /** Image side range (default 128..2048, skewed towards small). */
  sizes?: SizeRange;
  /** Fraction of images put in test_images/ (default 0.1). */
  testFraction?: number;
  /** Restrict figure families (default: all). */
  families?: readonly Family[];
  /** Called after each image is written. */
  onProgress?: (done: number, total: number) => void;
}

/** PNG settings are fixed: sharp/libspng then writes the same bytes for the same pixels. */
function encodePng(img: Image): Promise<Buffer> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: img.channels as 3 },
  })
    .png({ compressionLevel: 6, adaptiveFiltering: false, palette: false })
    .toBuffer();
}

function checkOptions(o: GenerateDatasetOptions): Required<Pick<GenerateDatasetOptions, 'forgedRatio' | 'testFraction' | 'sizes'>> {
  if (!o.out) throw new ConfigError('out folder is required');
  if (!Number.isInteger(o.n) || o.n < 1 || o.n > 1_000_000) throw new ConfigError(`n must be an integer in [1, 1000000], got ${o.n}`);
  const forgedRatio = o.forgedRatio ?? 0.5;
  if (!(forgedRatio >= 0 && forgedRatio <= 1)) throw new ConfigError(`forgedRatio must be in [0, 1], got ${forgedRatio}`);
  const testFraction = o.testFraction ?? 0.1;
  if (!(testFraction >= 0 && testFraction < 1)) throw new ConfigError(`testFraction must be in [0, 1), got ${testFraction}`);
  const sizes = o.sizes ?? DEFAULT_SIZES;
  validateSizes(sizes);
  for (const f of o.families ?? []) if (!FAMILIES.includes(f)) throw new ConfigError(`unknown figure family '${f}'; known: ${FAMILIES.join(', ')}`);
  return { forgedRatio, testFraction, sizes };
}

/**
 * Refuse to touch a folder that holds anything but an earlier output of this generator: an earlier
 * output is replaced only when every entry in it is one the generator wrote (its manifest's images
 * and masks, the manifest, the marker, the layout folders). A file the user added (notes, a runs/
 * folder, a symbolic link) makes it refuse, naming what it would have deleted.
 */
function checkTarget(out: string): void {
  if (!fs.existsSync(out)) return;
  if (!fs.statSync(out).isDirectory()) throw new DatasetError('exists and is not a folder; refusing to replace it', out);
  const entries = fs.readdirSync(out);
  if (entries.length === 0) return;
  if (!entries.includes(SYNTH_MARKER)) {
    throw new DatasetError(`folder is not empty and was not created by sifd synth (no ${SYNTH_MARKER} marker); refusing to write into it`, out);
  }
  const foreign = foreignEntries(out);
  if (foreign.length) {
    const shown = foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? `, ... (${foreign.length} in all)` : '');
    throw new DatasetError(`holds an earlier sifd synth output plus files it did not write (${shown}); move them elsewhere or choose another --out`, out);
  }
}

const LAYOUT_DIRS = ['train_images', 'train_images/authentic', 'train_images/forged', 'train_masks', 'test_images', 'test_masks'];

/** Entries of an earlier output (relative paths) that the generator did not write. */
function foreignEntries(out: string): string[] {
  let ours: Set<string>;
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
    ours = new Set(manifest.images.flatMap((e) => [e.image, ...(e.mask ? [e.mask] : [])]));
  } catch {
    return ['manifest.json (missing or unreadable, so no file can be known as generated)'];
  }
  ours.add('manifest.json');
  ours.add(SYNTH_MARKER);
  const foreign: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(out, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory() && LAYOUT_DIRS.includes(child)) walk(child);
      else if (!e.isFile() || !ours.has(child)) foreign.push(e.isDirectory() ? `${child}/` : child);
    }
  };
  walk('');
  return foreign;
}

/** n distinct Kaggle-like numeric ids, in random order. */
function drawIds(rng: Rng, n: number): string[] {
  const limit = Math.max(100, n * 10);
  const seen = new Set<number>();
  const ids: string[] = [];
  while (ids.length < n) {
    const id = rng.int(1, limit);
    if (seen.has(id)) continue;
    seen.add(id);
    ids.push(String(id));
  }
  return ids;
}

/**
 * Write a synthetic copy-move dataset in the Kaggle layout:
 *   train_images/{authentic,forged}/<id>.png, train_masks/<id>.npy (uint8 (N,H,W)),
 *   test_images/<id>.png, test_masks/<id>.npy (truth for forged test images),
 *   manifest.json (per image: id, split, label, family, size, forgeries) and a .sifd-synth marker.
 * The folder is built next to `out` and renamed into place, so `out` is never half-written.
 * Same options -> byte-identical files. Image i draws only from its own Rng (seed, i).
 */
export async function generateDataset(opts: GenerateDatasetOptions): Promise<Manifest> {
  const { forgedRatio, testFraction, sizes } = checkOptions(opts);
  // An --out that is a symbolic link stays one: the folder it points to is written, not the link.
  const given = path.resolve(opts.out);
  const out = fs.existsSync(given) ? fs.realpathSync(given) : given;
  checkTarget(out);
  const { n, seed } = opts;
  const plan = new Rng(`sifd-synth:${seed}:plan`);
  const ids = drawIds(plan, n);
  const order = plan.shuffle(Array.from({ length: n }, (_, i) => i));
  const nForged = Math.round(n * forgedRatio);
  const forged = new Set(order.slice(0, nForged));
  const nTest = Math.round(n * testFraction);
  const test = new Set(plan.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, nTest));

  const images: ManifestEntry[] = [];
  await writeDirAtomic(out, async (tmp) => {
    for (const dir of ['train_images/authentic', 'train_images/forged', 'train_masks', 'test_images', 'test_masks']) {
      fs.mkdirSync(path.join(tmp, dir), { recursive: true });
    }
    const pending = new Set<Promise<void>>();
    let done = 0;
    for (let i = 0; i < n; i++) {
      const rng = new Rng(`sifd-synth:${seed}:${i}`);
      const g = generateImage(rng, { forged: forged.has(i), sizes, families: opts.families });
      const id = ids[i];
      const split = test.has(i) ? 'test' : 'train';
      const image = split === 'test' ? `test_images/${id}.png` : `train_images/${g.record.label}/${id}.png`;
      const mask = g.record.label === 'forged' ? `${split === 'test' ? 'test_masks' : 'train_masks'}/${id}.npy` : undefined;
      images.push({ id, split, image, ...(mask ? { mask } : {}), ...g.record });
      if (mask) fs.writeFileSync(path.join(tmp, mask), encodeNpyMasks(g.masks));
      const job = encodePng(g.image).then((png) => {
        fs.writeFileSync(path.join(tmp, image), png);
        opts.onProgress?.(++done, n);
      });
      pending.add(job);
      job.finally(() => pending.delete(job)).catch(() => undefined);
      // Keep a few PNG encodes in flight (sharp runs them off the main thread) while drawing the next image.
      if (pending.size >= 4) await Promise.race(pending);
    }
    await Promise.all(pending);
    const manifest: Manifest = { generator: 'sifd-synth', version: 1, seed, n, forgedRatio, testFraction, sizes, images };
    fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
    fs.writeFileSync(path.join(tmp, SYNTH_MARKER), JSON.stringify({ generator: 'sifd-synth', version: 1, seed, n }) + '\n');
  });
  return { generator: 'sifd-synth', version: 1, seed, n, forgedRatio, testFraction, sizes, images };
}
