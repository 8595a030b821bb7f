import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { repoPath } from '../src/lib/util/paths';
import { describeFailure } from '../src/lib/notebooks/runner';

function notebook(cells: string[]): object {
  return {
    cells: cells.map((src, i) => ({ cell_type: 'code', id: `c${i}`, metadata: {}, execution_count: null, outputs: [], source: src })),
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

test('sifd notebooks run fails loudly on a cell error, naming notebook, cell and error text', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-nb-'));
  const file = path.join(dir, 'broken.ipynb');
  fs.writeFileSync(
    file,
    JSON.stringify(
      notebook([
        'const answer: number = 6 * 7;\nconsole.log(`answer ${answer}`);',
        "// second cell throws\nthrow new Error('sentinel-boom-' + answer);",
        "console.log('never reached');",
      ]),
    ),
  );
  const res = spawnSync(process.execPath, [repoPath('bin', 'sifd.js'), 'notebooks', 'run', file, '--out', path.join(dir, 'out')], {
    encoding: 'utf8',
    timeout: 180_000,
  });
  const output = `${res.stdout}\n${res.stderr}`;
  assert.notEqual(res.status, 0, `runner must exit non-zero; output:\n${output}`);
  assert.match(output, /notebook broken failed/);
  assert.match(output, /at cell 1: \/\/ second cell throws/);
  assert.match(output, /sentinel-boom-42/);
  // The executed notebook is still written, with the first cell's output, for inspection.
  const executed = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'broken.ipynb'), 'utf8'));
  assert.match(JSON.stringify(executed.cells[0].outputs), /answer 42/);
  assert.deepEqual(executed.cells[2].outputs, []);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('sifd notebooks run rejects an unknown notebook name with the available ones', () => {
  const res = spawnSync(process.execPath, [repoPath('bin', 'sifd.js'), 'notebooks', 'run', 'no_such_notebook'], { encoding: 'utf8' });
  assert.equal(res.status, 1);
  assert.match(res.stderr, /no notebook named 'no_such_notebook'; available: 00_environment/);
});

test('a failure caused by a folder import or ../src import carries a hint', () => {
  const failed = (stderr: string) =>
    describeFailure({
      name: 'nb',
      ok: false,
      seconds: 1,
      ipynb: 'x.ipynb',
      html: 'x.html',
      failure: { kind: 'CellExecutionError', cellIndex: 0, firstLine: 'import ...', stderr, stdoutTail: '' },
    });
  assert.match(failed("Error: Cannot find module './src/lib/backend'"), /'\.\/src\/lib\/backend' is a folder .* import '\.\/src\/lib\/backend\/index'/);
  assert.match(failed("Error: Cannot find module '../src/viz/display'"), /runs at the repository root/);
  assert.doesNotMatch(failed("Error: Cannot find module './src/lib/nope'"), /hint/);
});
