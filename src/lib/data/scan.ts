import * as fs from 'fs';
import * as path from 'path';
import { DatasetError } from '../errors';
import { imageInfo, isImageFile, readImage, type ImageInfo } from './image-io';
import { MaskShapeError, maskLayout, readMasks, readNpyHeader } from './npy';
import { stemOf, type Label, type Problem, type Sample, type Split } from './types';
import { repoRoot } from '../util/paths';

/**
 * How deep a scan looks at each file:
 * - 'layout': names only (pairing, extensions, folders);
 * - 'header': + image headers and .npy headers (sizes, dtypes, truncation, shape checks);
 * - 'masks' (default): + mask data (instance areas, empty masks), images still header-only;
 * - 'full': + decode every image's pixels (corrupt image data).
 */
export type VerifyLevel = 'layout' | 'header' | 'masks' | 'full';

export interface ScanOptions {
  verify?: VerifyLevel;
  /** At most this many samples per (split, label), first in name order (quick runs). */
  limitPerGroup?: number;
  /** Files checked in parallel (sharp runs on libuv threads); default 8. */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  /**
   * Inference: only the images matter. Masks are neither read nor required, so a bad, missing or
   * ambiguous mask never drops an image (labels still come from the folders).
   */
  imagesOnly?: boolean;
}

/** What the scan learned about one sample's files (present from verify 'header' on). */
export interface SampleDetails {
  image: ImageInfo;
  mask?: {
    shape: number[];
    dtype: string;
    count: number;
    /** Forged pixels per instance (from verify 'masks' on). */
    areas?: number[];
    /** Pixels forged in at least one instance (from verify 'masks' on). */
    unionArea?: number;
  };
}

export interface ScanResult {
  root: string;
  layout: 'kaggle' | 'flat';
  /** Every sample whose files passed the checks, sorted by split, label, then id. */
  samples: Sample[];
  problems: Problem[];
  /** Keyed by sample imagePath. */
  details: Map<string, SampleDetails>;
}

/**
 * The data root: the argument, else env SIFD_DATA, else data/sample in the repo. A relative path
 * is taken from the current directory, or from the repo root when only that one exists.
 */
export function resolveDataRoot(root?: string): string {
  const given = root ?? process.env.SIFD_DATA;
  if (!given) return path.join(repoRoot(), 'data', 'sample');
  if (path.isAbsolute(given)) return given;
  const fromCwd = path.resolve(given);
  const fromRepo = path.resolve(repoRoot(), given);
  return !fs.existsSync(fromCwd) && fs.existsSync(fromRepo) ? fromRepo : fromCwd;
}

const SPLITS: Array<{ split: Split; images: string; masks: string }> = [
  { split: 'train', images: 'train_images', masks: 'train_masks' },
  { split: 'supplemental', images: 'supplemental_images', masks: 'supplemental_masks' },
  { split: 'test', images: 'test_images', masks: 'test_masks' },
];
const LABEL_DIRS: Label[] = ['authentic', 'forged'];
const SPLIT_ORDER: Record<Split, number> = { train: 0, supplemental: 1, test: 2 };
const LABEL_ORDER: Record<Label, number> = { authentic: 0, forged: 1, unknown: 2 };

/** Natural order (x9 before x10); one collator, as localeCompare with options builds one per call. */
const naturalCompare = new Intl.Collator('en', { numeric: true }).compare;

function idOf(file: string): string {
  return path.basename(file, path.extname(file));
}

interface Entry {
  name: string;
  isDirectory(): boolean;
}

/**
 * A folder's visible entries in natural order. Symbolic links are followed (a label folder or an
 * image may be a link to elsewhere); a link whose target is missing is reported and left out.
 */
function listDir(dir: string, report?: Report): Entry[] {
  const entries: Entry[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    if (!e.isSymbolicLink()) {
      entries.push(e);
      continue;
    }
    const file = path.join(dir, e.name);
    try {
      const isDir = fs.statSync(file).isDirectory();
      entries.push({ name: e.name, isDirectory: () => isDir });
    } catch (err) {
      report?.(file, 'broken-link', `symbolic link to a missing target (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
  }
  return entries.sort((a, b) => naturalCompare(a.name, b.name));
}

/**
 * Find every sample under a dataset root (Kaggle layout: `<split>_images/{authentic,forged}/`,
 * `<split>_masks/<id>.npy`; or a flat folder of images, label 'unknown', for inference) and check
 * its files. Problems are collected, never thrown; a sample with a problem that makes it unusable
 * is left out of `samples`. Only a root that does not exist throws.
 */
export async function scan(root?: string, opts: ScanOptions = {}): Promise<ScanResult> {
  const dir = resolveDataRoot(root);
  if (!fs.existsSync(dir)) throw new DatasetError('data folder does not exist (set --data or SIFD_DATA)', dir);
  if (!fs.statSync(dir).isDirectory()) throw new DatasetError('data root is not a folder', dir);
  const problems: Problem[] = [];
  const report = (file: string, kind: string, reason: string) => problems.push({ file, kind, reason });
  const kaggle = SPLITS.some((s) => fs.existsSync(path.join(dir, s.images)) || fs.existsSync(path.join(dir, s.masks)));
  let samples = kaggle ? findKaggle(dir, report, opts.imagesOnly ?? false) : findFlat(dir, report);
  samples.sort(
    (a, b) =>
      SPLIT_ORDER[a.split] - SPLIT_ORDER[b.split] ||
      LABEL_ORDER[a.label] - LABEL_ORDER[b.label] ||
      naturalCompare(a.id, b.id),
  );
  if (opts.limitPerGroup !== undefined) {
    const seen = new Map<string, number>();
    samples = samples.filter((s) => {
      const key = `${s.split}/${s.label}`;
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      return n < opts.limitPerGroup!;
    });
  }
  const details = new Map<string, SampleDetails>();
  const level = opts.verify ?? 'masks';
  if (level !== 'layout') {
    const ok = await verifySamples(samples, opts.imagesOnly ? 'header' : level, opts, details, report);
    samples = samples.filter((_, i) => ok[i]);
  }
  return { root: dir, layout: kaggle ? 'kaggle' : 'flat', samples, problems, details };
}

type Report = (file: string, kind: string, reason: string) => void;

/**
 * A flat folder of images, or one image folder of a Kaggle layout (`train_images/`, whose images
 * sit in `authentic/` and `forged/`): every image, unlabelled (its masks live elsewhere).
 */
function findFlat(dir: string, report: Report): Sample[] {
  const samples: Sample[] = [];
  const seen = new Map<string, string>();
  const visit = (folder: string, nested: boolean) => {
    for (const e of listDir(folder, report)) {
      const file = path.join(folder, e.name);
      if (e.isDirectory()) {
        if (!nested && LABEL_DIRS.some((l) => l === e.name)) visit(file, true);
        continue;
      }
      if (!isImageFile(e.name)) {
        report(file, 'not-an-image', 'not an image file (expected .png, .jpg, .jpeg, .tif, .tiff or .webp)');
        continue;
      }
      const id = idOf(e.name);
      const other = seen.get(id);
      if (other) report(file, 'duplicate-id', `id '${id}' is also ${other}`);
      else {
        seen.set(id, file);
        samples.push({ id, stem: id, split: 'test', label: 'unknown', imagePath: file });
      }
    }
  };
  visit(dir, false);
  if (samples.length === 0) report(dir, 'empty-folder', 'no images here, and no Kaggle layout (train_images/, test_images/, ...)');
  return samples;
}

function findKaggle(dir: string, report: Report, imagesOnly: boolean): Sample[] {
  const samples: Sample[] = [];
  for (const { split, images, masks } of SPLITS) {
    const imageDir = path.join(dir, images);
    const maskDir = path.join(dir, masks);
    const maskById = new Map<string, string>();
    if (!imagesOnly && fs.existsSync(maskDir)) {
      for (const e of listDir(maskDir, report)) {
        const file = path.join(maskDir, e.name);
        if (e.isDirectory()) report(file, 'unexpected-folder', `folder inside ${masks}/ (masks are ${masks}/<id>.npy)`);
        else if (path.extname(e.name).toLowerCase() !== '.npy') report(file, 'not-a-mask', 'not an .npy file');
        else maskById.set(idOf(e.name), file);
      }
    }
    if (!fs.existsSync(imageDir)) {
      if (imagesOnly) continue;
      for (const file of maskById.values()) report(file, 'mask-without-image', `no ${images}/ folder for this mask`);
      continue;
    }
    // Test images are unlabelled unless a test_masks/ folder holds their truth (the synthetic sample).
    const testLabel: Label | 'by-mask' = fs.existsSync(maskDir) ? 'by-mask' : 'unknown';
    const used = new Set<string>();
    // Stem -> file, per label folder: the same stem under authentic/ and forged/ is a twin pair.
    const seenIds = new Map<string, string>();
    // Stems of the forged/ folder, listed once per split: a mask beside an authentic image belongs to its forged twin.
    let forgedStems: Set<string> | undefined;
    const hasForgedTwin = (id: string) => {
      const dir = path.join(imageDir, 'forged');
      forgedStems ??= fs.existsSync(dir) ? new Set(listDir(dir).filter((e) => !e.isDirectory() && isImageFile(e.name)).map((e) => idOf(e.name))) : new Set();
      return forgedStems.has(id);
    };
    const twinKey = (id: string, label: Label | 'by-mask') => (label === 'authentic' || label === 'forged' ? `${label}/${id}` : id);
    const add = (file: string, label: Label | 'by-mask') => {
      const id = idOf(file);
      const key = twinKey(id, label);
      const other = seenIds.get(key) ?? (key === id ? undefined : seenIds.get(id));
      if (other) {
        report(file, 'duplicate-id', `id '${id}' is also ${other}`);
        return;
      }
      seenIds.set(key, file);
      const mask = maskById.get(id);
      if (imagesOnly) {
        samples.push({ id, stem: id, split, label: label === 'by-mask' ? 'unknown' : label, imagePath: file });
        return;
      }
      if (label === 'unknown') {
        samples.push({ id, stem: id, split, label, imagePath: file });
        return;
      }
      const resolved: Label = label === 'by-mask' ? (mask ? 'forged' : 'authentic') : label;
      if (mask) used.add(id);
      if (resolved === 'forged' && !mask) {
        report(file, 'forged-without-mask', `forged image has no mask ${path.join(masks, `${id}.npy`)}`);
      } else if (resolved === 'authentic' && mask) {
        // The mask of a twin pair belongs to its forged twin; anywhere else it contradicts the label.
        if (!hasForgedTwin(id)) {
          report(mask, 'mask-on-authentic', `mask for an authentic image (${file}); the image is kept as authentic, the mask ignored`);
        }
        samples.push({ id, stem: id, split, label: resolved, imagePath: file });
      } else {
        samples.push({ id, stem: id, split, label: resolved, imagePath: file, ...(mask ? { maskPath: mask } : {}) });
      }
    };
    let imageCount = 0;
    let sawLabelDir = false;
    for (const e of listDir(imageDir, report)) {
      const file = path.join(imageDir, e.name);
      if (e.isDirectory()) {
        const label = LABEL_DIRS.find((l) => l === e.name);
        if (!label) {
          report(file, 'unexpected-folder', `unknown folder in ${images}/ (expected ${LABEL_DIRS.join(', ')} or image files)`);
          continue;
        }
        sawLabelDir = true;
        let inLabel = 0;
        for (const f of listDir(file, report)) {
          const inner = path.join(file, f.name);
          if (f.isDirectory()) report(inner, 'unexpected-folder', `folder inside ${images}/${label}/`);
          else if (!isImageFile(f.name)) report(inner, 'not-an-image', 'not an image file (expected .png, .jpg, .jpeg, .tif, .tiff or .webp)');
          else {
            add(inner, split === 'test' ? testLabel : label);
            inLabel++;
          }
        }
        if (inLabel === 0) report(file, 'empty-folder', 'no images in this folder');
        imageCount += inLabel;
      } else if (!isImageFile(e.name)) {
        report(file, 'not-an-image', 'not an image file (expected .png, .jpg, .jpeg, .tif, .tiff or .webp)');
      } else {
        add(file, split === 'test' ? testLabel : 'by-mask');
        imageCount++;
      }
    }
    if (imageCount === 0 && !sawLabelDir) report(imageDir, 'empty-folder', 'no images in this folder');
    nameTwins(samples.filter((s) => s.split === split));
    if (imagesOnly) continue;
    for (const [id, file] of maskById) {
      if (!used.has(id) && !seenIds.has(id)) report(file, 'mask-without-image', `no image '${id}' in ${images}/`);
    }
  }
  if (samples.length === 0) report(dir, 'empty-folder', 'no images found in any split');
  return samples;
}

/** Twins (one stem, both labels, one split) get ids '<label>/<stem>' so every id stays unique. */
function nameTwins(samples: Sample[]): void {
  const labels = new Map<string, Set<Label>>();
  for (const s of samples) {
    const set = labels.get(stemOf(s)) ?? new Set<Label>();
    set.add(s.label);
    labels.set(stemOf(s), set);
  }
  for (const s of samples) {
    const l = labels.get(stemOf(s))!;
    if (l.has('authentic') && l.has('forged')) s.id = `${s.label}/${stemOf(s)}`;
  }
}

async function verifySamples(
  samples: Sample[],
  level: VerifyLevel,
  opts: ScanOptions,
  details: Map<string, SampleDetails>,
  report: Report,
): Promise<boolean[]> {
  const ok = new Array<boolean>(samples.length).fill(false);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < samples.length) {
      const i = next++;
      ok[i] = await verifyOne(samples[i], level, details, report);
      done++;
      opts.onProgress?.(done, samples.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 8) }, worker));
  return ok;
}

async function verifyOne(s: Sample, level: VerifyLevel, details: Map<string, SampleDetails>, report: Report): Promise<boolean> {
  let image: ImageInfo;
  try {
    image = await imageInfo(s.imagePath);
    if (level === 'full') await readImage(s.imagePath);
  } catch (err) {
    report(s.imagePath, 'corrupt-image', (err as DatasetError).reason ?? (err as Error).message);
    return false;
  }
  const entry: SampleDetails = { image };
  details.set(s.imagePath, entry);
  if (!s.maskPath) return true;
  const hint = { height: image.height, width: image.width };
  try {
    const header = readNpyHeader(s.maskPath);
    const { count } = maskLayout(header.shape, hint, s.maskPath);
    entry.mask = { shape: header.shape, dtype: header.descr, count };
    if (level === 'header') return true;
    const masks = readMasks(s.maskPath, hint);
    const plane = masks.height * masks.width;
    const { areas, union } = maskAreas(masks.data, masks.count, plane);
    entry.mask.areas = areas;
    entry.mask.unionArea = union;
    if (areas.every((a) => a === 0)) {
      report(s.maskPath, 'empty-mask', `mask of forged image ${path.basename(s.imagePath)} has ${masks.count} instance(s) and no forged pixel`);
      return false;
    }
    const empty = areas.map((a, n) => (a === 0 ? n : -1)).filter((n) => n >= 0);
    if (empty.length) {
      report(s.maskPath, 'empty-instance', `instance(s) ${empty.join(', ')} of ${masks.count} have no forged pixel (the sample is kept)`);
    }
    return true;
  } catch (err) {
    const kind = err instanceof MaskShapeError ? (err.kind === 'ambiguous' ? 'ambiguous-mask' : err.kind === 'mismatch' ? 'mask-shape-mismatch' : 'invalid-mask') : 'invalid-mask';
    report(s.maskPath, kind, (err as DatasetError).reason ?? (err as Error).message);
    return false;
  }
}

/** Forged pixels per instance, and of their union (instances may overlap). */
function maskAreas(data: Uint8Array, count: number, plane: number): { areas: number[]; union: number } {
  const areas: number[] = [];
  const any = count > 1 ? new Uint8Array(plane) : undefined;
  for (let c = 0; c < count; c++) {
    const ch = data.subarray(c * plane, (c + 1) * plane);
    const a = countOnes(ch);
    areas.push(a);
    if (any && a > 0) orInto(any, ch);
  }
  return { areas, union: any ? countOnes(any) : areas[0] ?? 0 };
}

/** dst |= src, four bytes per step when both are 4-byte aligned. */
function orInto(dst: Uint8Array, src: Uint8Array): void {
  if (dst.byteOffset % 4 === 0 && src.byteOffset % 4 === 0) {
    const n = dst.length >> 2;
    const d = new Uint32Array(dst.buffer, dst.byteOffset, n);
    const s = new Uint32Array(src.buffer, src.byteOffset, n);
    for (let i = 0; i < n; i++) d[i] |= s[i];
    for (let i = n * 4; i < dst.length; i++) dst[i] |= src[i];
  } else {
    for (let i = 0; i < dst.length; i++) dst[i] |= src[i];
  }
}

/** Sum of a 0/1 byte array, four bytes per step where aligned (a byte-sum via one multiply). */
function countOnes(u8: Uint8Array): number {
  let i = 0;
  let n = 0;
  while (i < u8.length && (u8.byteOffset + i) % 4 !== 0) n += u8[i++];
  const words = new Uint32Array(u8.buffer, u8.byteOffset + i, (u8.length - i) >> 2);
  for (let w = 0; w < words.length; w++) n += Math.imul(words[w], 0x01010101) >>> 24;
  for (i += words.length * 4; i < u8.length; i++) n += u8[i];
  return n;
}
