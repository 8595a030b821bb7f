import * as fs from 'fs';
import * as path from 'path';
import { cleanStaleTemps, createTempDir, createTempFile } from './tempfile';

/**
 * Writes that matter go to an exclusively created temp file in the same folder (tempfile.ts), then
 * rename (atomic on POSIX), so a crash or kill mid-write never leaves a half-written file where the
 * user's data was. Temp leftovers of killed writers in that folder are removed first.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  cleanStaleTemps(dir, path.basename(file));
  const { file: tmp, fd } = createTempFile(file);
  try {
    try {
      fs.writeFileSync(fd, data);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

export interface WriteDirOptions {
  /**
   * What to do with an existing `dir`: 'replace' (default) swaps it out once the new one is
   * complete and removes it; 'aside' renames it to `<dir>.replaced-<time>` and keeps it.
   */
  existing?: 'replace' | 'aside';
}

/**
 * Build a whole directory atomically: `fill(tmpDir)` writes into a sibling temp dir (tempfile.ts),
 * which is then renamed to `dir`. An existing `dir` is moved out only after the new one is complete.
 * Returns the path an existing folder was set aside to, if any.
 */
export async function writeDirAtomic(
  dir: string,
  fill: (tmpDir: string) => void | Promise<void>,
  opts: WriteDirOptions = {},
): Promise<string | undefined> {
  const parent = path.dirname(dir);
  fs.mkdirSync(parent, { recursive: true });
  cleanStaleTemps(parent, path.basename(dir));
  const tmp = createTempDir(dir);
  let aside: string | undefined;
  try {
    await fill(tmp);
    if (fs.existsSync(dir)) {
      if (opts.existing === 'aside') {
        aside = `${dir}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        fs.renameSync(dir, aside);
        fs.renameSync(tmp, dir);
      } else {
        // `<tmp>.old` keeps the temp naming, so a kill between the two renames is cleaned up later.
        const old = `${tmp}.old`;
        fs.renameSync(dir, old);
        fs.renameSync(tmp, dir);
        fs.rmSync(old, { recursive: true, force: true });
      }
    } else {
      fs.renameSync(tmp, dir);
    }
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return aside;
}
