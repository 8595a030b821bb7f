import * as fs from 'fs';
import * as path from 'path';

let cachedRoot: string | undefined;

/** The repository root: the nearest folder above this file whose package.json is named "sifd". */
export function repoRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'sifd') return (cachedRoot = dir);
      } catch {
        // not ours; keep going up
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the sifd repository root above ${__dirname}`);
    dir = parent;
  }
}

/** A path inside the repository. */
export function repoPath(...parts: string[]): string {
  return path.join(repoRoot(), ...parts);
}
