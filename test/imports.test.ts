/**
 * tslab (the notebook kernel) compiles and loads local .ts files itself and, unlike tsc and tsx,
 * does not resolve a relative import of a folder to its index.ts. Library code that notebooks
 * import must therefore name files, never folders: './backend/index', not './backend'.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { repoPath } from '../src/lib/util/paths';

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

const IMPORT = /(?:from\s+|import\s+|import\s*\(\s*|require\s*\(\s*)['"](\.{1,2}\/[^'"]*)['"]/g;

test('no relative import under src/ names a folder (tslab cannot load those)', () => {
  const bad: string[] = [];
  for (const file of tsFiles(repoPath('src'))) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const target = path.resolve(path.dirname(file), m[1]);
      if (fs.existsSync(target) && fs.statSync(target).isDirectory()) {
        bad.push(`${path.relative(repoPath(), file)}: '${m[1]}' is a folder; import '${m[1]}/index'`);
      }
    }
  }
  assert.deepEqual(bad, []);
});

test('notebooks import library files, not folders', () => {
  const bad: string[] = [];
  const dir = repoPath('notebooks');
  for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb'))) {
    const nb = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as { cells: Array<{ cell_type: string; source: string | string[] }> };
    for (const cell of nb.cells.filter((c) => c.cell_type === 'code')) {
      const src = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
      for (const m of src.matchAll(IMPORT)) {
        const target = repoPath(m[1]); // the kernel runs at the repository root
        if (fs.existsSync(target) && fs.statSync(target).isDirectory()) bad.push(`${name}: '${m[1]}' is a folder`);
        if (m[1].startsWith('../')) bad.push(`${name}: '${m[1]}' (the kernel runs at the repository root: use './src/...')`);
      }
    }
  }
  assert.deepEqual(bad, []);
});
