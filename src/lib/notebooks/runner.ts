/**
 * Executes notebooks through the project venv's Jupyter (nbclient, tslab kernel), one process per
 * notebook, and writes the executed .ipynb and .html to out/notebooks/. Parameters reach the
 * notebook as environment variables (SIFD_QUICK=1, SIFD_DATA=...), which the kernel inherits.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { NotebookError } from '../errors';
import { writeFileAtomic } from '../util/atomic';
import { repoPath } from '../util/paths';

export interface NotebookFailure {
  kind: string;
  cellIndex: number;
  firstLine: string;
  stderr: string;
  stdoutTail: string;
}

export interface NotebookResult {
  name: string;
  ok: boolean;
  seconds: number;
  ipynb: string;
  html: string;
  failure?: NotebookFailure;
}

export interface RunOptions {
  /** Extra environment variables for the kernel (merged over process.env). */
  env?: Record<string, string>;
  /** Per-cell timeout in seconds (default 1800). */
  cellTimeout?: number;
  /** Output folder (default out/notebooks). */
  outDir?: string;
  /** Folder holding the notebooks (default notebooks/). */
  notebookDir?: string;
  kernel?: string;
  /** Called with each line the execution prints (progress). */
  onLine?: (line: string) => void;
}

export function notebooksDir(): string {
  return repoPath('notebooks');
}

/** All notebooks in execution order (file names sort: 00_, 01_, ...). */
export function listNotebooks(dir = notebooksDir()): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb') && !f.startsWith('.'))
    .map((f) => f.slice(0, -'.ipynb'.length))
    .sort();
}

/** Resolve user-given names ("00", "00_environment", "notebooks/00_environment.ipynb") to notebook files. */
export function resolveNotebooks(names: string[], dir = notebooksDir()): string[] {
  const all = listNotebooks(dir);
  if (names.length === 0) return all.map((n) => path.join(dir, `${n}.ipynb`));
  return names.map((raw) => {
    if (raw.endsWith('.ipynb') && fs.existsSync(raw)) return path.resolve(raw);
    const base = path.basename(raw).replace(/\.ipynb$/, '');
    const hit = all.find((n) => n === base) ?? all.filter((n) => n.startsWith(`${base}_`) || n.startsWith(base))[0];
    if (!hit) throw new NotebookError(`no notebook named '${raw}'; available: ${all.join(', ') || '(none)'}`, dir);
    return path.join(dir, `${hit}.ipynb`);
  });
}

/** Environment that keeps Jupyter inside the project: no user kernelspecs shadowing ours. */
export function jupyterEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const jupyterHome = repoPath('environment', '.venv', 'jupyter-home');
  return {
    ...process.env,
    JUPYTER_DATA_DIR: path.join(jupyterHome, 'data'),
    JUPYTER_RUNTIME_DIR: path.join(jupyterHome, 'runtime'),
    JUPYTER_CONFIG_DIR: path.join(jupyterHome, 'config'),
    JUPYTER_PLATFORM_DIRS: '1',
    PYDEVD_DISABLE_FILE_VALIDATION: '1',
    ...extra,
  };
}

export function venvPython(): string {
  const py = repoPath('environment', '.venv', 'bin', 'python');
  if (!fs.existsSync(py)) {
    throw new NotebookError('the project venv is missing; run `npm run setup` (environment/setup.sh) first', py);
  }
  return py;
}

/** Execute one notebook file; resolves with its result (ok or the failing cell), rejects only if Jupyter cannot run. */
export function runNotebook(file: string, opts: RunOptions = {}): Promise<NotebookResult> {
  const name = path.basename(file, '.ipynb');
  const outDir = opts.outDir ?? repoPath('out', 'notebooks');
  const args = [
    repoPath('src', 'lib', 'notebooks', 'execute_notebook.py'),
    file,
    outDir,
    String(opts.cellTimeout ?? 1800),
    opts.kernel ?? 'tslab',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(venvPython(), args, { env: jupyterEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      const s = d.toString();
      stderr += s;
      if (opts.onLine) for (const line of s.split('\n')) if (line.trim()) opts.onLine(line);
    });
    child.on('error', (err) => reject(new NotebookError(`cannot start Jupyter: ${err.message}`, file)));
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      let parsed: {
        ok: boolean;
        seconds: number;
        ipynb: string;
        html: string;
        failure: null | { kind: string; cell_index: number; first_line: string; stderr: string; stdout_tail: string };
      };
      try {
        parsed = JSON.parse(last);
      } catch {
        reject(new NotebookError(`Jupyter exited with code ${code} without a result:\n${stderr.slice(-4000)}`, file));
        return;
      }
      const f = parsed.failure;
      // A dead kernel leaves nothing in the cell; its last words went to the kernel process's own
      // stderr, which Jupyter passes through to ours.
      const processTail = stderr.split('\n').filter((l) => l.trim() && !/^WARNING: Location/.test(l)).slice(-30).join('\n');
      const cellStderr = f && f.kind === 'DeadKernelError' && processTail ? `${f.stderr}\nkernel process stderr:\n${processTail}` : f?.stderr ?? '';
      resolve({
        name,
        ok: parsed.ok,
        seconds: parsed.seconds,
        ipynb: parsed.ipynb,
        html: parsed.html,
        failure: f
          ? { kind: f.kind, cellIndex: f.cell_index, firstLine: f.first_line, stderr: cellStderr, stdoutTail: f.stdout_tail }
          : undefined,
      });
    });
  });
}

/** The message a failed notebook prints: notebook, cell index, the cell's first line, the kernel's stderr. */
export function describeFailure(r: NotebookResult): string {
  if (!r.failure) return `${r.name}: ok`;
  const f = r.failure;
  const hint = importHint(f.stderr);
  return (
    `notebook ${r.name} failed (${f.kind}) at cell ${f.cellIndex}: ${f.firstLine}\n` +
    `${f.stderr}${hint}\n(executed notebook: ${r.ipynb})`
  );
}

/**
 * Two slips tslab reports only as "Cannot find module": '../src/...' (the project kernel runs at the
 * repository root) and importing a folder (tslab does not resolve a folder to its index.ts).
 */
function importHint(stderr: string): string {
  const m = /Cannot find module '([^']+)'/.exec(stderr);
  if (!m) return '';
  const spec = m[1];
  if (spec.startsWith('../src/')) {
    return "\nhint: the sifd kernel runs at the repository root; import './src/...' instead of '../src/...'";
  }
  if (spec.startsWith('./') && fs.existsSync(repoPath(spec)) && fs.statSync(repoPath(spec)).isDirectory()) {
    return `\nhint: '${spec}' is a folder and tslab does not resolve folders; import '${spec}/index'`;
  }
  return '';
}

/** An index page linking every executed notebook's HTML. */
export function writeIndex(results: NotebookResult[], outDir = repoPath('out', 'notebooks')): string {
  const rows = results
    .map((r) => {
      const href = path.relative(outDir, r.html);
      const status = r.ok ? 'ok' : `failed at cell ${r.failure?.cellIndex}`;
      return `<li><a href="${href}">${r.name}</a> &mdash; ${status}, ${r.seconds.toFixed(1)} s</li>`;
    })
    .join('\n');
  const page = `<!doctype html><html><head><meta charset="utf-8"><title>sifd notebooks</title></head>` +
    `<body><h1>sifd notebooks</h1><p>Executed ${new Date().toISOString()}</p><ul>\n${rows}\n</ul></body></html>\n`;
  const file = path.join(outDir, 'index.html');
  writeFileAtomic(file, page);
  return file;
}
