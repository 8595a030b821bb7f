import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Command } from '../command';
import { jupyterEnv, notebooksDir, venvPython } from '../../lib/notebooks/runner';
import { repoPath, repoRoot } from '../../lib/util/paths';

export interface LabCommandLine {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/**
 * How `sifd lab` starts JupyterLab, without starting it (tests read this):
 * - `python -P -m jupyterlab` from the repository root, with PYTHONSAFEPATH=1: the folder the user
 *   started in is never on Python's import path (a json.py in a downloaded dataset does not run);
 * - `--allow-root` added when running as root (containers), unless given already;
 * - Jupyter's config, data and runtime folders (and JupyterLab's settings and workspaces, which
 *   live under the config folder) inside the project's git-ignored environment/.venv/jupyter-home,
 *   npm's cache and logs (jupyter-lsp runs npm) in environment/.cache/npm, as setup.sh does;
 * - environment/jupyter/ on JUPYTER_CONFIG_PATH: notebooks are saved without outputs.
 */
export function labCommandLine(extra: readonly string[], opts: { uid?: number } = {}): LabCommandLine {
  const uid = opts.uid ?? (typeof process.getuid === 'function' ? process.getuid() : -1);
  const env = jupyterEnv({
    JUPYTER_CONFIG_PATH: repoPath('environment', 'jupyter'),
    PYTHONSAFEPATH: '1',
  });
  const home = path.dirname(env.JUPYTER_CONFIG_DIR as string);
  env.IPYTHONDIR = path.join(home, 'ipython');
  // jupyter-lsp asks `npm prefix --global` for language servers; npm would log to ~/.npm/_logs
  env.NPM_CONFIG_CACHE = repoPath('environment', '.cache', 'npm');
  for (const dir of [env.JUPYTER_CONFIG_DIR, env.JUPYTER_DATA_DIR, env.JUPYTER_RUNTIME_DIR] as string[]) fs.mkdirSync(dir, { recursive: true });
  const args = [
    '-P',
    '-m',
    'jupyterlab',
    `--notebook-dir=${notebooksDir()}`,
    '--MappingKernelManager.default_kernel_name=tslab',
    ...(uid === 0 && !extra.includes('--allow-root') ? ['--allow-root'] : []),
    ...extra,
  ];
  return { command: venvPython(), args, env, cwd: repoRoot() };
}

export const lab: Command = {
  name: 'lab',
  usage: `usage: sifd lab [jupyter lab arguments]

Starts JupyterLab from environment/.venv with notebooks/ as its root and the project's tslab kernel
as the default kernel (npm run lab runs the setup first). Every argument goes to jupyter lab, e.g.
sifd lab --no-browser --port 8899 (npm run lab -- --no-browser --port 8899). As root, --allow-root
is added. Jupyter's settings, data and runtime files stay in environment/.venv/jupyter-home;
notebooks are saved without outputs (SIFD_LAB_KEEP_OUTPUTS=1 keeps them). Python never imports
from the folder the lab is started in.`,
  passThrough: true,
  options: {},
  run(args) {
    const line = labCommandLine(args.positionals);
    const child = spawn(line.command, line.args, { stdio: 'inherit', env: line.env, cwd: line.cwd });
    // Ctrl-C reaches Jupyter itself (same process group; it asks before shutting down): sifd waits
    // for it. SIGTERM/SIGHUP sent to sifd's own PID stop Jupyter (and its kernels) too.
    const onInt = () => undefined;
    const onTerm = () => child.kill('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    process.on('SIGHUP', onTerm);
    return new Promise<number>((resolve) =>
      child.on('close', (code, signal) => {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
        process.off('SIGHUP', onTerm);
        resolve(code ?? (signal === 'SIGTERM' ? 0 : 1));
      }),
    );
  },
};
