import { spawn } from 'child_process';
import type { Command } from '../command';
import { jupyterEnv, notebooksDir, venvPython } from '../../lib/notebooks/runner';

export const lab: Command = {
  name: 'lab',
  usage: `usage: sifd lab [-- extra jupyter lab arguments]

Starts JupyterLab from environment/.venv with notebooks/ as its root and the project's tslab kernel
as the default kernel (npm run lab runs the setup first). Extra arguments after -- go to jupyter lab,
e.g. sifd lab -- --no-browser --port 8899.`,
  positionals: true,
  options: {},
  run(args) {
    const python = venvPython();
    const jupyterArgs = [
      '-m', 'jupyterlab',
      `--notebook-dir=${notebooksDir()}`,
      '--MappingKernelManager.default_kernel_name=tslab',
      ...args.positionals,
    ];
    // Keep the user's own Jupyter settings, but never let a user-level kernelspec shadow ours.
    const env = jupyterEnv();
    delete env.JUPYTER_CONFIG_DIR;
    delete env.JUPYTER_RUNTIME_DIR;
    const child = spawn(python, jupyterArgs, { stdio: 'inherit', env });
    return new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  },
};
