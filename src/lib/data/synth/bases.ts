/**
 * Real photographs as bases for forgeries (`sifd synth --bases DIR`): a dev set whose content is
 * real (sensor noise, natural texture, JPEG history) rather than procedural. The photographs are
 * read where they are installed and never copied; each image is a random crop at a realistic size.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DatasetError } from '../../errors';
import type { Rng } from '../../util/random';
import { isImageFile, readImage } from '../image-io';
import type { Image } from '../types';
import type { SizeRange } from './manifest';
import { realisticSize } from './realism';

export interface BaseSet {
  root: string;
  /** Paths relative to `root`, '/' separators, sorted. */
  files: string[];
  /** Decoded photographs, by relative path (a set is small: a few dozen images). */
  cache: Map<string, Image>;
  /** Entries of the bases list that are not image files in the folder (skipped with a warning). */
  missing: string[];
  /** The bases list the files were restricted to, if any. */
  listFile?: string;
}

/**
 * The base paths named by a list file (`--bases-list`): one path relative to the bases folder per
 * line, '#' starts a comment, blank lines are skipped. Throws, naming the file, when it cannot be
 * read or names nothing.
 */
export function readBasesList(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new DatasetError(`cannot read the bases list (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, file);
  }
  const names = text.split(/\r?\n/).map((line) => line.replace(/#.*/, '').trim()).filter(Boolean);
  if (names.length === 0) throw new DatasetError('the bases list names no file', file);
  return names.map((n) => n.replace(/\\/g, '/'));
}

/**
 * Every image file under `dir` (recursively, hidden entries skipped), or only those a bases list
 * names (`readBasesList`); throws when there is none.
 */
export function listBases(dir: string, listFile?: string): BaseSet {
  const root = path.resolve(dir);
  if (!fs.existsSync(root)) throw new DatasetError('bases folder does not exist', root);
  if (!fs.statSync(root).isDirectory()) throw new DatasetError('bases path is not a folder', root);
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const child = rel ? `${rel}/${e.name}` : e.name;
      const stat = fs.statSync(path.join(root, child));
      if (stat.isDirectory()) walk(child);
      else if (isImageFile(e.name)) files.push(child);
    }
  };
  walk('');
  files.sort();
  if (files.length === 0) throw new DatasetError('no image files (.png, .jpg, .tif, .webp) in the bases folder', root);
  if (listFile === undefined) return { root, files, cache: new Map(), missing: [] };
  const listed = readBasesList(listFile);
  const present = new Set(files);
  const chosen = [...new Set(listed.filter((n) => present.has(n)))].sort();
  const missing = listed.filter((n) => !present.has(n));
  if (chosen.length === 0) throw new DatasetError(`the bases list names no image file of ${root}`, listFile);
  return { root, files: chosen, cache: new Map(), missing, listFile };
}

/**
 * Decode every base once, dropping (and reporting through `warn`) files that cannot be read or
 * are smaller than 32 px; throws when none is usable.
 */
export async function loadBases(set: BaseSet, warn: (msg: string) => void = () => undefined): Promise<BaseSet> {
  const usable: string[] = [];
  for (const rel of set.missing) warn(`skipping base ${rel} named in ${set.listFile}: no such image file in ${set.root}`);
  for (const rel of set.files) {
    const file = path.join(set.root, rel);
    try {
      const img = await readImage(file);
      if (Math.min(img.width, img.height) < 32) throw new DatasetError(`too small (${img.width}x${img.height}; at least 32 px a side)`, file);
      set.cache.set(rel, img as Image);
      usable.push(rel);
    } catch (err) {
      warn(`skipping base ${file}: ${(err as DatasetError).reason ?? (err as Error).message}`);
    }
  }
  if (usable.length === 0) throw new DatasetError('no usable photograph in the bases folder', set.root);
  return { ...set, files: usable };
}

/** A random crop of a random base at a realistic size that fits inside it. */
export function cropBase(rng: Rng, set: BaseSet, sizes: SizeRange): { image: Image; name: string } {
  const name = rng.pick(set.files);
  const photo = set.cache.get(name);
  if (!photo) throw new DatasetError('base photograph was not loaded (call loadBases first)', path.join(set.root, name));
  const wanted = realisticSize(rng, photo.width / photo.height, { min: Math.min(32, sizes.min), max: sizes.max });
  const fit = Math.min(1, photo.width / wanted.width, photo.height / wanted.height);
  const width = Math.max(32, Math.min(photo.width, Math.round(wanted.width * fit)));
  const height = Math.max(32, Math.min(photo.height, Math.round(wanted.height * fit)));
  const x0 = rng.int(0, photo.width - width);
  const y0 = rng.int(0, photo.height - height);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((y0 + y) * photo.width + x0) * 3;
    data.set(photo.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { image: { data, width, height, channels: 3 }, name };
}
