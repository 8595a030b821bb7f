import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/**
 * The one way sifd makes temp files and folders next to what it writes:
 * `.<target name>.tmp-<pid>-<random>` in the target's folder, created exclusively (O_EXCL for files,
 * mkdtemp for folders), so a name cannot be predicted or pre-planted (a symlink placed there makes
 * the create fail instead of writing through it). Leftovers of a killed process (its pid no longer
 * runs) are removed by `cleanStaleTemps` when the next writer starts in that folder.
 */
const TEMP = /^\.(.+)\.tmp-(\d+)-[^/]*$/;

function tempPrefix(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-`);
}

/** Create an empty temp file for `target` exclusively; returns its path and an open fd (the caller closes it). */
export function createTempFile(target: string): { file: string; fd: number } {
  for (;;) {
    const file = tempPrefix(target) + crypto.randomBytes(8).toString('hex');
    try {
      return { file, fd: fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0), 0o666) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** Create an empty temp folder for `target` (random name, created exclusively by mkdtemp). */
export function createTempDir(target: string): string {
  return fs.mkdtempSync(tempPrefix(target));
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the temp leftovers of dead processes in `dir` (for one target name, or all of them).
 * Entries of a process that still runs are left alone. Returns the names removed.
 */
export function cleanStaleTemps(dir: string, target?: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP.exec(name);
    if (!m || (target !== undefined && m[1] !== target) || pidAlive(Number(m[2]))) continue;
    fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** True for a name this module gives temp files and folders. */
export function isTempName(name: string): boolean {
  return TEMP.test(name);
}
