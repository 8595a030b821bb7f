/**
 * The corpus: every image under a folder (recursively) or named in a list file, each keyed by its content.
 * A result's key is sha256(content sha256, detector id): the same bytes at two paths are one job, a file edited
 * since the last run is a new job, and a rerun finds what is already done by key.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { isImageFile } from '../data/image-io';
import { ConfigError } from '../errors';
import { isTempName } from '../util/tempfile';

export interface CorpusFile {
  /** Absolute path. */
  path: string;
  /** The folder it is counted under in reports: relative to the corpus root ('.' for the root itself). */
  folder: string;
}

export interface CorpusProblem {
  path: string;
  reason: string;
}

export interface Corpus {
  files: CorpusFile[];
  /** Files that are not screened, with why (PDFs, unreadable folders). */
  problems: CorpusProblem[];
}

/**
 * PDFs are listed as not screened: no maintained npm package extracts their embedded figures faithfully
 * (pdfjs-dist renders pages; pdf-lib does not decode image streams), and a rendered page is not the figure.
 */
const PDF_REASON = 'PDF: figure extraction from PDFs is not supported (extract the images first, e.g. with poppler pdfimages)';

/** Every image under `root`, recursively, sorted by path (symbolic links to folders are not followed). */
export function walkFolder(root: string): Corpus {
  const base = path.resolve(root);
  const files: CorpusFile[] = [];
  const problems: CorpusProblem[] = [];
  const visit = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      problems.push({ path: dir, reason: `cannot list folder: ${(err as Error).message}` });
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (isTempName(e.name)) continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) visit(full);
      else if (!e.isFile() && !e.isSymbolicLink()) continue;
      else if (isImageFile(e.name)) files.push({ path: full, folder: path.relative(base, dir) || '.' });
      else if (/\.pdf$/i.test(e.name)) problems.push({ path: full, reason: PDF_REASON });
    }
  };
  visit(base);
  return { files, problems };
}

/** The images named in a list file, one path a line (relative paths from the list's folder); '#' starts a comment. */
export function readList(listFile: string): Corpus {
  let text: string;
  try {
    text = fs.readFileSync(listFile, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the image list: ${(err as Error).message}`, listFile);
  }
  const dir = path.dirname(path.resolve(listFile));
  const files: CorpusFile[] = [];
  const problems: CorpusProblem[] = [];
  for (const line of text.split(/\r?\n/)) {
    const name = line.trim();
    if (!name || name.startsWith('#')) continue;
    const full = path.resolve(dir, name);
    if (/\.pdf$/i.test(name)) problems.push({ path: full, reason: PDF_REASON });
    else if (!isImageFile(name)) problems.push({ path: full, reason: 'not an image file (png, jpg, jpeg, tif, tiff, webp)' });
    else files.push({ path: full, folder: path.relative(dir, path.dirname(full)) || '.' });
  }
  return { files, problems };
}

/** sha256 of a file's bytes, hex. */
export function hashFile(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The key of a result: one per (content, detector). Hex, so it is also a valid BullMQ job id (no ':'). */
export function resultKey(sha256: string, detector: string): string {
  return crypto.createHash('sha256').update(`${sha256}\n${detector}`).digest('hex');
}
