/**
 * Issue 20, items 1 and 9-12: `sifd lab` is safe to start anywhere, works as root, keeps Jupyter's
 * files in the project, saves notebooks without outputs; the kernel's patches say what to do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { commands } from '../src/cli/commands/index';
import { parseCommandArgs } from '../src/cli/command';
import { labCommandLine } from '../src/cli/commands/lab';
import { repoPath, repoRoot } from '../src/lib/util/paths';
import { describeFailure, runNotebook } from '../src/lib/notebooks/runner';

const venvPython = repoPath('environment', '.venv', 'bin', 'python');
const noVenv = fs.existsSync(venvPython) ? false : 'the project venv is missing (npm test runs environment/setup.sh first)';
const lab = commands.find((c) => c.name === 'lab')!.load();

test('item 1: sifd lab started from a folder holding a json.py never runs it', { skip: noVenv }, () => {
  const evil = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-evil-'));
  try {
    for (const name of ['json.py', 'jupyterlab.py', 'os.py']) {
      fs.writeFileSync(path.join(evil, name), 'open("PWNED", "w").write("x")\nraise SystemExit(4)\n');
    }
    // --version makes Jupyter load (json included) and exit at once
    const r = spawnSync(process.execPath, [repoPath('bin', 'sifd.js'), 'lab', '--version'], { cwd: evil, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\d+\.\d+/m, 'jupyter lab printed its version');
    assert.ok(!fs.existsSync(path.join(evil, 'PWNED')), 'the json.py in the launch folder did not run');
  } finally {
    fs.rmSync(evil, { recursive: true, force: true });
  }
});

test('item 1/9: the lab command line: python -P from the repo root, PYTHONSAFEPATH, --allow-root for uid 0 only, Jupyter dirs in the project', { skip: noVenv }, () => {
  const asRoot = labCommandLine(['--no-browser'], { uid: 0 });
  assert.deepEqual(asRoot.args.slice(0, 3), ['-P', '-m', 'jupyterlab']);
  assert.equal(asRoot.env.PYTHONSAFEPATH, '1');
  assert.equal(asRoot.cwd, repoRoot());
  assert.ok(asRoot.args.includes('--allow-root'));
  assert.equal(asRoot.args[asRoot.args.length - 1], '--no-browser');
  assert.ok(!labCommandLine([], { uid: 1000 }).args.includes('--allow-root'), 'a normal user gets no --allow-root');
  assert.equal(labCommandLine(['--allow-root'], { uid: 0 }).args.filter((a) => a === '--allow-root').length, 1, 'not twice');
  for (const key of ['JUPYTER_CONFIG_DIR', 'JUPYTER_DATA_DIR', 'JUPYTER_RUNTIME_DIR', 'IPYTHONDIR']) {
    const dir = asRoot.env[key] as string;
    assert.ok(dir.startsWith(repoPath('environment', '.venv') + path.sep), `${key}=${dir} is inside the project's ignored venv`);
  }
  assert.equal(asRoot.env.JUPYTER_CONFIG_PATH, repoPath('environment', 'jupyter'));
  assert.equal(asRoot.env.NPM_CONFIG_CACHE, repoPath('environment', '.cache', 'npm'), 'npm (run by jupyter-lsp) logs inside the project');
  const ignored = spawnSync('git', ['check-ignore', '-q', path.join(asRoot.env.JUPYTER_CONFIG_DIR as string, 'lab', 'user-settings', 'x.json')], { cwd: repoRoot() });
  assert.equal(ignored.status, 0, 'JupyterLab settings land in a git-ignored folder');
});

test('item 9: `npm run lab -- --allow-root` reaches Jupyter: lab passes every argument through', () => {
  assert.deepEqual(parseCommandArgs(lab, ['--allow-root']).positionals, ['--allow-root']);
  assert.deepEqual(parseCommandArgs(lab, ['--', '--allow-root', '--port', '1']).positionals, ['--allow-root', '--port', '1']);
  assert.equal(parseCommandArgs(lab, ['--help']).values.help, true);
  const pkg = JSON.parse(fs.readFileSync(repoPath('package.json'), 'utf8'));
  assert.match(pkg.scripts.lab, /node bin\/sifd\.js lab$/, 'npm appends `-- args` right after `sifd lab`');
});

test('item 10: the lab saves notebooks without outputs (pre_save_hook in environment/jupyter)', { skip: noVenv }, () => {
  const nb = {
    cells: [
      { cell_type: 'code', execution_count: 3, id: 'a', metadata: { execution: { x: 1 }, scrolled: true, tags: ['keep'] }, outputs: [{ output_type: 'stream', name: 'stdout', text: 'hi' }], source: ['1'] },
      { cell_type: 'markdown', id: 'b', metadata: {}, source: ['# t'] },
    ],
    metadata: { kernelspec: { name: 'tslab' } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  const script = [
    'import json, sys',
    'from traitlets.config import Config',
    'c = Config()',
    'ns = {"get_config": lambda: c}',
    `exec(open(${JSON.stringify(repoPath('environment', 'jupyter', 'jupyter_server_config.py'))}).read(), ns)`,
    'model = {"type": "notebook", "content": json.loads(sys.stdin.read())}',
    'c.FileContentsManager.pre_save_hook(model=model, path="x.ipynb", contents_manager=None)',
    'print(json.dumps(model["content"]))',
  ].join('\n');
  const r = spawnSync(venvPython, ['-c', script], { input: JSON.stringify(nb), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const saved = JSON.parse(r.stdout);
  assert.deepEqual(saved.cells[0].outputs, []);
  assert.equal(saved.cells[0].execution_count, null);
  assert.deepEqual(saved.cells[0].metadata, { tags: ['keep'] });
  assert.deepEqual(saved.cells[1], nb.cells[1]);
  const keep = spawnSync(venvPython, ['-c', script], { input: JSON.stringify(nb), encoding: 'utf8', env: { ...process.env, SIFD_LAB_KEEP_OUTPUTS: '1' } });
  assert.equal(JSON.parse(keep.stdout).cells[0].outputs.length, 1, 'SIFD_LAB_KEEP_OUTPUTS=1 keeps them');
});

test('item 10: a save that changes nothing keeps the file byte for byte (key order, kernel language_info)', { skip: noVenv }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-save-'));
  const file = path.join(dir, 'n.ipynb');
  const tracked = fs.readFileSync(repoPath('notebooks', '00_environment.ipynb'));
  fs.writeFileSync(file, tracked);
  const script = [
    'import json, os, sys',
    'from traitlets.config import Config',
    'c = Config()',
    'ns = {"get_config": lambda: c}',
    `exec(open(${JSON.stringify(repoPath('environment', 'jupyter', 'jupyter_server_config.py'))}).read(), ns)`,
    'class CM:',
    '    def _get_os_path(self, p): return p',
    'path = sys.argv[1]',
    'nb = json.load(open(path))',
    'nb["metadata"]["language_info"]["version"] = "3.7.2"',
    'nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x"}]',
    'nb["cells"][1]["execution_count"] = 1',
    'model = {"type": "notebook", "content": nb}',
    'c.FileContentsManager.pre_save_hook(model=model, path=path, contents_manager=CM())',
    // what nbformat writes: sorted keys, indent 1
    'open(path, "w").write(json.dumps(model["content"], indent=1, sort_keys=True, ensure_ascii=False) + "\\n")',
    'os.utime(path, ns=(1, 2_000_000_000_000_000_000))',
    'c.FileContentsManager.post_save_hook(model=model, os_path=path, contents_manager=CM())',
    'print(os.stat(path).st_mtime_ns)',
  ].join('\n');
  try {
    const r = spawnSync(venvPython, ['-c', script, file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(fs.readFileSync(file), tracked, 'the tracked bytes are kept');
    assert.equal(r.stdout.trim(), '2000000000000000000', 'with the modification time JupyterLab was told');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('item 12: the kernel names the /index file for a folder import, and says when tslab skipped a cell', async () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const patches = require('../src/lib/notebooks/tslab-kernel.cjs') as {
    patchFolderImports(mod?: unknown): boolean;
    patchAbortMessage(jupyter: unknown): boolean;
    SKIPPED: string;
  };
  const script = `require(${JSON.stringify(repoPath('src', 'lib', 'notebooks', 'tslab-kernel.cjs'))}).patchFolderImports();
    const req = require('module').createRequire(${JSON.stringify(path.join(repoRoot(), 'src.js'))});
    try { req('./src/lib/data/synth'); } catch (e) { console.log(e.code + ': ' + e.message); }
    try { req('./src/lib/data/nothing-here'); } catch (e) { console.log(e.code + ': ' + e.message.split('\\n')[0]); }`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: repoRoot(), encoding: 'utf8' });
  const [folder, missing] = r.stdout.trim().split('\n');
  assert.equal(folder, "MODULE_NOT_FOUND: Cannot import './src/lib/data/synth': it is a folder, and notebooks (tslab) import files, not folders. Import './src/lib/data/synth/index' instead (the folder's index.ts).");
  assert.match(missing, /^MODULE_NOT_FOUND: Cannot find module '\.\/src\/lib\/data\/nothing-here'/, 'other errors unchanged');

  const written: Array<[string, string]> = [];
  class JupyterHandlerImpl {
    async handleExecute(req: { code: string }): Promise<{ status: string }> {
      return { status: req.code === 'fail' ? 'error' : req.code === 'late' ? 'abort' : 'ok' };
    }
  }
  const fake = { JupyterHandlerImpl };
  assert.ok(patches.patchAbortMessage(fake));
  assert.ok(!patches.patchAbortMessage(fake), 'patched once');
  const h = new JupyterHandlerImpl() as unknown as { handleExecute(req: unknown, w: (n: string, t: string) => void, d: unknown): Promise<{ status: string }> };
  const write = (name: string, text: string) => void written.push([name, text]);
  assert.equal((await h.handleExecute({ code: 'ok' }, write, null)).status, 'ok');
  assert.equal((await h.handleExecute({ code: 'late' }, write, null)).status, 'abort');
  assert.deepEqual(written, [['stderr', patches.SKIPPED]]);
  assert.match(patches.SKIPPED, /NOT run.*200 ms/);
  // the kernelspec starts tslab through this file
  assert.match(fs.readFileSync(repoPath('environment', 'tslab-kernel'), 'utf8'), /exec node "\$root\/src\/lib\/notebooks\/tslab-kernel\.cjs" "\$@"/);
});

test('items 12/13: the prelude src/sifd.ts gives the public API under short names, and README\'s first cell imports only what it exports', () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const sifd = require('../src/sifd') as Record<string, unknown>;
  for (const name of ['display', 'synth', 'scan', 'eda', 'overlay', 'grid', 'detectors', 'detectCopyMove', 'readImage', 'readMasks', 'initBackend', 'train', 'predict', 'loadRun', 'Rng']) {
    assert.ok(sifd[name] !== undefined, `sifd.${name}`);
  }
  assert.equal(typeof (sifd.detectors as Record<string, unknown>).classical, 'function');
  assert.equal(typeof (sifd.display as Record<string, unknown>).png, 'function');
  const readme = fs.readFileSync(repoPath('README.md'), 'utf8');
  const first = /### First cell[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(first, 'README has a "First cell" section with a ts block');
  const imported = /import \{([^}]+)\} from '\.\/src\/sifd';/.exec(first[1]);
  assert.ok(imported, 'the first cell imports from ./src/sifd');
  for (const name of imported[1].split(',').map((n) => n.trim()).filter(Boolean)) assert.ok(name in sifd, `README imports ${name}, which src/sifd.ts exports`);
});

test('item 13: README\'s first cell runs as written in the tslab kernel', { skip: noVenv, timeout: 600_000 }, async () => {
  const readme = fs.readFileSync(repoPath('README.md'), 'utf8');
  const code = /### First cell[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)![1];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-first-cell-'));
  const file = path.join(dir, 'first.ipynb');
  const nb = {
    cells: [{ cell_type: 'code', execution_count: null, id: 'first', metadata: {}, outputs: [], source: code }],
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  fs.writeFileSync(file, JSON.stringify(nb));
  try {
    const result = await runNotebook(file, { outDir: dir, cellTimeout: 300 });
    assert.ok(result.ok, describeFailure(result));
    const executed = JSON.parse(fs.readFileSync(path.join(dir, 'first.ipynb'), 'utf8'));
    const outputs = executed.cells[0].outputs as Array<{ data?: Record<string, unknown> }>;
    assert.ok(outputs.some((o) => o.data?.['text/html'] && String(o.data['text/html']).includes('<figcaption')), 'the captioned grid');
    assert.ok(outputs.some((o) => /region\(s\)/.test(String(o.data?.['text/markdown'] ?? ''))), 'the detection line');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(repoPath('out', 'demo'), { recursive: true, force: true });
  }
});
