import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, SifdError } from '../errors';

/**
 * Paths a user gives are checked here, once, before any work: an output that is a folder, lies
 * under a file, or sits in a folder that cannot be written fails with a ConfigError naming the path,
 * instead of a raw EISDIR/ENOTDIR/EEXIST stack trace after the work is done.
 */

function statOrUndefined(p: string, what: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') throw new ConfigError(`${what} cannot be created: ${blockingFile(p) ?? 'a part of it'} is a file, not a folder`, p);
    throw new ConfigError(explainFsError(err), p);
  }
}

/** The first existing ancestor of `p` (walking up), and whether it is a folder. */
function nearestExisting(p: string): { dir: string; stat: fs.Stats } {
  let cur = path.resolve(p);
  for (;;) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(cur);
    } catch {
      st = undefined;
    }
    if (st) return { dir: cur, stat: st };
    const up = path.dirname(cur);
    if (up === cur) throw new ConfigError('no existing folder above this path', p);
    cur = up;
  }
}

function blockingFile(p: string): string | undefined {
  const { dir, stat } = nearestExisting(path.dirname(path.resolve(p)));
  return stat.isDirectory() ? undefined : dir;
}

function checkParent(p: string, what: string): void {
  const { dir, stat } = nearestExisting(path.dirname(path.resolve(p)));
  if (!stat.isDirectory()) throw new ConfigError(`${what} cannot be created: ${dir} is a file, not a folder`, p);
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch {
    throw new ConfigError(`${what} cannot be created: folder ${dir} is not writable`, p);
  }
}

/** An output file: may exist as a file (it is replaced atomically), must not be a folder or lie under a file. */
export function checkOutputFile(file: string, what = 'output file'): string {
  const abs = path.resolve(file);
  const st = statOrUndefined(abs, what);
  if (st?.isDirectory()) throw new ConfigError(`${what} is a folder; give a file name (e.g. ${path.join(file, 'out')})`, file);
  if (st && !st.isFile()) throw new ConfigError(`${what} exists and is not a regular file`, file);
  checkParent(abs, what);
  return abs;
}

/** An output folder: may exist as a folder, must not be a file or lie under a file. */
export function checkOutputDir(dir: string, what = 'output folder'): string {
  const abs = path.resolve(dir);
  const st = statOrUndefined(abs, what);
  if (st && !st.isDirectory()) throw new ConfigError(`${what} exists and is not a folder`, dir);
  if (st) {
    try {
      fs.accessSync(abs, fs.constants.W_OK | fs.constants.X_OK);
    } catch {
      throw new ConfigError(`${what} is not writable`, dir);
    }
  } else {
    checkParent(abs, what);
  }
  return abs;
}

/** An input folder: must exist and be a folder. */
export function checkInputDir(dir: string, what = 'input folder'): string {
  const abs = path.resolve(dir);
  const st = statOrUndefined(abs, what);
  if (!st) throw new ConfigError(`${what} does not exist`, dir);
  if (!st.isDirectory()) throw new ConfigError(`${what} is not a folder`, dir);
  return abs;
}

/** Refuse an output that is one of the inputs (same file after symlinks). */
export function checkNotAnInput(out: string, inputs: Iterable<string>, what = 'output file'): void {
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  const target = real(out);
  for (const input of inputs) {
    if (real(input) === target) throw new ConfigError(`${what} would overwrite an input file (${input}); choose another path`, out);
  }
}

const FS_REASONS: Record<string, string> = {
  EISDIR: 'is a folder where a file was expected',
  ENOTDIR: 'a part of this path is a file where a folder was expected',
  EEXIST: 'already exists',
  ENOENT: 'does not exist',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EROFS: 'the file system is read-only',
  ELOOP: 'too many symbolic links (a link loop?)',
  ENAMETOOLONG: 'the name is too long',
};

/** One line for a Node file-system error: the path and what the error code means. */
export function explainFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { dest?: string };
  const reason = (e.code && FS_REASONS[e.code]) ?? e.message;
  const where = e.dest ? `${e.path} -> ${e.dest}` : e.path;
  return where ? `${where}: ${reason} (${e.code})` : `${reason}${e.code ? ` (${e.code})` : ''}`;
}

/** A Node file-system error (has an errno code and a path), as opposed to a bug. */
export function isFsError(err: unknown): err is NodeJS.ErrnoException {
  const e = err as NodeJS.ErrnoException;
  return !(err instanceof SifdError) && err instanceof Error && typeof e.code === 'string' && typeof e.syscall === 'string';
}
