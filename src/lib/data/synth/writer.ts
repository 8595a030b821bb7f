import * as fs from 'fs';
import * as path from 'path';
import sharp, { type Sharp } from 'sharp';
import { ConfigError, DatasetError, didYouMean } from '../../errors';
import { writeDirAtomic } from '../../util/atomic';
import { Rng } from '../../util/random';
import { encodeNpyMasks } from '../npy';
import { COMPETITION_REFERENCE as REAL } from '../competition-reference';
import type { Image } from '../types';
import { cropBase, listBases, loadBases } from './bases';
import { DEFAULT_SIZES, generateImage, REALISTIC_SIZES, validateSizes, type SizeRange } from './generate';
import { FAMILIES, GENERATORS, type FigureFamily, type GeneratorName, type ImageMode, type ImageRecord, type Manifest, type ManifestEntry, type Reencoding } from './manifest';

/** File that marks a folder as written by the generator; only such folders are ever replaced. */
export const SYNTH_MARKER = '.sifd-synth';

export interface GenerateDatasetOptions {
  /** Output folder; must not exist, be empty, or hold an earlier synthetic dataset (replaced). */
  out: string;
  /** Number of images (train + test). */
  n: number;
  seed: number | string;
  /** 'realistic' (default) or 'classic' (the first generator: RGB, nearest-neighbour copies, no twins). */
  generator?: GeneratorName;
  /** Fraction of forged images (default: the real data's 2,751 of 5,128 for 'realistic', 0.5 for 'classic'). */
  forgedRatio?: number;
  /** Image side range (realistic default 64..3888 as the real data; classic 128..2048, skewed towards small). */
  sizes?: SizeRange;
  /** Fraction of images put in test_images/ (default 0.1). */
  testFraction?: number;
  /** Restrict figure families (default: all). */
  families?: readonly FigureFamily[];
  /**
   * Forge real photographs from this folder (read where they are, never copied) instead of
   * drawing procedural figures: family 'photo', random crops at realistic sizes.
   */
  bases?: string;
  /** Restrict `bases` to the files this list names (one path relative to `bases` per line, '#' comments). */
  basesList?: string;
  /**
   * Authentic/forged twins of one base figure sharing a file stem, as the real data pairs them
   * (default: true for 'realistic', false for 'classic'). Test images are never twins.
   */
  twins?: boolean;
  /** Called after each image is written. */
  onProgress?: (done: number, total: number) => void;
  /** Told about each base photograph that is skipped (unreadable, too small). */
  onWarning?: (msg: string) => void;
}

/** The real training data's share of forged images (2,751 of 5,128). */
export const REAL_FORGED_RATIO = REAL.forgedImages / (REAL.forgedImages + REAL.authenticImages);

/** PNG settings are fixed: sharp/libspng then writes the same bytes for the same pixels. */
function encodePng(img: Image): Promise<Buffer> {
  const pipeline = sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: img.channels as 1 | 3 | 4 },
  });
  // sharp would store one raw channel as sRGB; grey figures stay one-channel files.
  return (img.channels === 1 ? pipeline.toColourspace('b-w') : pipeline)
    .png({ compressionLevel: 6, adaptiveFiltering: false, palette: false })
    .toBuffer();
}

function rawSharp(img: Image): Sharp {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw: { width: img.width, height: img.height, channels: img.channels as 3 } });
}

/** A forged figure re-saved whole: a JPEG round trip, or a resize down and back (bilinear). */
async function reencode(img: Image, r: Reencoding | undefined): Promise<Image> {
  if (!r) return img;
  let pipeline: Sharp;
  if (r.type === 'jpeg') {
    const jpeg = await rawSharp(img).jpeg({ quality: r.params.quality, chromaSubsampling: '4:2:0' }).toBuffer();
    pipeline = sharp(jpeg).removeAlpha();
  } else {
    const w = Math.max(8, Math.round(img.width * r.params.factor));
    const h = Math.max(8, Math.round(img.height * r.params.factor));
    const small = await rawSharp(img).resize(w, h, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
    pipeline = sharp(small, { raw: { width: w, height: h, channels: 3 } }).resize(img.width, img.height, { fit: 'fill', kernel: 'linear' });
  }
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.width !== img.width || info.height !== img.height || info.channels !== 3) throw new RangeError(`re-encoding changed the figure to ${info.width}x${info.height}x${info.channels}`);
  return { data: new Uint8Array(data), width: img.width, height: img.height, channels: 3 };
}

/** RGB -> the storage mode: grey by luminance (ITU-R 601), RGBA with alpha 255 everywhere. */
export function toMode(img: Image, mode: ImageMode | undefined): Image {
  if (!mode || mode === 'rgb') return img;
  const n = img.width * img.height;
  const channels = mode === 'grey' ? 1 : 4;
  const data = new Uint8Array(n * channels);
  for (let p = 0; p < n; p++) {
    const r = img.data[p * 3];
    const g = img.data[p * 3 + 1];
    const b = img.data[p * 3 + 2];
    if (mode === 'grey') data[p] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    else data.set([r, g, b, 255], p * 4);
  }
  return { data, width: img.width, height: img.height, channels };
}

function checkOptions(o: GenerateDatasetOptions): Required<Pick<GenerateDatasetOptions, 'forgedRatio' | 'testFraction' | 'sizes' | 'generator' | 'twins'>> {
  if (!o.out) throw new ConfigError('out folder is required');
  if (!Number.isInteger(o.n) || o.n < 1 || o.n > 1_000_000) throw new ConfigError(`n must be an integer in [1, 1000000], got ${o.n}`);
  const generator = o.generator ?? 'realistic';
  if (!GENERATORS.includes(generator)) throw new ConfigError(`unknown generator '${generator}'; ${didYouMean(generator, GENERATORS)}`);
  const realistic = generator === 'realistic';
  const forgedRatio = o.forgedRatio ?? (realistic ? REAL_FORGED_RATIO : 0.5);
  if (!(forgedRatio >= 0 && forgedRatio <= 1)) throw new ConfigError(`forgedRatio must be in [0, 1], got ${forgedRatio}`);
  const testFraction = o.testFraction ?? 0.1;
  if (!(testFraction >= 0 && testFraction < 1)) throw new ConfigError(`testFraction must be in [0, 1), got ${testFraction}`);
  const sizes = o.sizes ?? (realistic ? REALISTIC_SIZES : DEFAULT_SIZES);
  validateSizes(sizes);
  if (o.basesList !== undefined && o.bases === undefined) throw new ConfigError('basesList needs bases (the folder its paths are relative to)');
  for (const f of o.families ?? []) if (!FAMILIES.includes(f)) throw new ConfigError(`unknown figure family '${f}'; known: ${FAMILIES.join(', ')}`);
  return { forgedRatio, testFraction, sizes, generator, twins: o.twins ?? realistic };
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

/** One generation unit: a twin pair (authentic + forged of one figure) or a single image. */
interface Unit {
  kind: 'pair' | 'authentic' | 'forged';
  split: 'train' | 'test';
}

/**
 * What to draw: test images are singles (a test folder holds one file per id); the training
 * images pair every authentic image with a forged twin as far as the forged ratio allows, the
 * rest are singles. Units come out in a seeded random order.
 */
function planUnits(plan: Rng, n: number, forgedRatio: number, testFraction: number, twins: boolean): Unit[] {
  const nTest = Math.round(n * testFraction);
  const nTrain = n - nTest;
  const units: Unit[] = [];
  const forged = Math.round(n * forgedRatio);
  const testForged = Math.min(forged, Math.round(nTest * forgedRatio));
  for (let i = 0; i < nTest; i++) units.push({ kind: i < testForged ? 'forged' : 'authentic', split: 'test' });
  const trainForged = Math.min(nTrain, forged - testForged);
  const pairs = twins ? Math.min(trainForged, nTrain - trainForged) : 0;
  for (let i = 0; i < pairs; i++) units.push({ kind: 'pair', split: 'train' });
  for (let i = 0; i < trainForged - pairs; i++) units.push({ kind: 'forged', split: 'train' });
  for (let i = 0; i < nTrain - trainForged - pairs; i++) units.push({ kind: 'authentic', split: 'train' });
  return plan.shuffle(units);
}

/**
 * Write a synthetic copy-move dataset in the Kaggle layout:
 *   train_images/{authentic,forged}/<id>.png, train_masks/<id>.npy (uint8 (N,H,W), one channel
 *   per copy-move event: its source and copies merged), test_images/<id>.png, test_masks/<id>.npy
 *   (truth for forged test images), manifest.json (per image: id, split, label, family, size, mode,
 *   twin, each event's source and copy boxes, transforms and re-encoding) and a .sifd-synth marker.
 * Twins share their id (the file stem) in authentic/ and forged/. Images are stored in their drawn
 * mode (grey, RGB or RGBA); a re-encoded forged twin is saved as PNG after its JPEG or resize round trip.
 * The folder is built next to `out` and renamed into place, so `out` is never half-written.
 * Same options -> byte-identical files. Unit i draws only from its own Rng (seed, i).
 */
export async function generateDataset(opts: GenerateDatasetOptions): Promise<Manifest> {
  const { forgedRatio, testFraction, sizes, generator, twins } = checkOptions(opts);
  // An --out that is a symbolic link stays one: the folder it points to is written, not the link.
  const given = path.resolve(opts.out);
  const out = fs.existsSync(given) ? fs.realpathSync(given) : given;
  checkTarget(out);
  const bases = opts.bases === undefined ? undefined : await loadBases(listBases(opts.bases, opts.basesList), opts.onWarning);
  const { n, seed } = opts;
  const plan = new Rng(`sifd-synth:${seed}:plan`);
  const units = planUnits(plan, n, forgedRatio, testFraction, twins);
  const ids = drawIds(plan, units.length);

  const images: ManifestEntry[] = [];
  await writeDirAtomic(out, async (tmp) => {
    for (const dir of ['train_images/authentic', 'train_images/forged', 'train_masks', 'test_images', 'test_masks']) {
      fs.mkdirSync(path.join(tmp, dir), { recursive: true });
    }
    const pending = new Set<Promise<void>>();
    let done = 0;
    const write = (file: string, img: Image, record: ImageRecord) => {
      const job = reencode(img, record.reencoding)
        .then((re) => encodePng(toMode(re, record.mode)))
        .then((png) => {
          fs.writeFileSync(path.join(tmp, file), png);
          opts.onProgress?.(++done, n);
        });
      pending.add(job);
      job.finally(() => pending.delete(job)).catch(() => undefined);
    };
    for (let i = 0; i < units.length; i++) {
      const { kind, split } = units[i];
      const rng = new Rng(`sifd-synth:${seed}:${i}`);
      const base = bases ? cropBase(rng, bases, sizes) : undefined;
      const g = generateImage(rng, { forged: kind !== 'authentic', sizes, families: opts.families, generator, base: base?.image });
      const id = ids[i];
      const origin = base ? { base: base.name } : {};
      if (kind === 'pair') {
        const twin: ImageRecord = { label: 'authentic', family: g.record.family, width: g.record.width, height: g.record.height, instances: 0, forgeries: [], mode: g.pristineMode, ...(g.record.panels ? { panels: g.record.panels } : {}), ...(g.record.lanes ? { lanes: g.record.lanes } : {}) };
        images.push({ id, split, twin: true, image: `train_images/authentic/${id}.png`, ...origin, ...twin });
        write(`train_images/authentic/${id}.png`, g.pristine, twin);
      }
      const image = split === 'test' ? `test_images/${id}.png` : `train_images/${g.record.label}/${id}.png`;
      const mask = g.record.label === 'forged' ? `${split === 'test' ? 'test_masks' : 'train_masks'}/${id}.npy` : undefined;
      images.push({ id, split, twin: kind === 'pair', image, ...(mask ? { mask } : {}), ...origin, ...g.record });
      if (mask) fs.writeFileSync(path.join(tmp, mask), encodeNpyMasks(g.masks));
      write(image, g.image, g.record);
      // Keep a few encodes in flight (sharp runs them off the main thread) while drawing the next figure.
      while (pending.size >= 4) await Promise.race(pending);
    }
    await Promise.all(pending);
    const manifest: Manifest = { generator: 'sifd-synth', version: 2, style: generator, seed, n, forgedRatio, testFraction, sizes, images };
    fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
    fs.writeFileSync(path.join(tmp, SYNTH_MARKER), JSON.stringify({ generator: 'sifd-synth', version: 2, seed, n }) + '\n');
  });
  return { generator: 'sifd-synth', version: 2, style: generator, seed, n, forgedRatio, testFraction, sizes, images };
}
