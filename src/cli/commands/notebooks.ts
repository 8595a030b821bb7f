import type { Command } from '../command';
import { flag, num, optStr, UsageError } from '../command';
import { checkOutputDir } from '../../lib/util/checkpath';
import { describeFailure, resolveNotebooks, runNotebook, writeIndex, type NotebookResult } from '../../lib/notebooks/runner';

/** Parse repeated `--env KEY=VALUE` options. */
export function parseEnvPairs(values: string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of values ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env expects KEY=VALUE, got '${pair}'`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/** Run notebooks in order, print one line each; returns the results (stops at the first failure unless keepGoing). */
export async function runNotebooks(
  names: string[],
  opts: { env?: Record<string, string>; cellTimeout?: number; keepGoing?: boolean; outDir?: string } = {},
): Promise<NotebookResult[]> {
  const results: NotebookResult[] = [];
  for (const file of resolveNotebooks(names)) {
    const result = await runNotebook(file, { env: opts.env, cellTimeout: opts.cellTimeout, outDir: opts.outDir });
    results.push(result);
    if (result.ok) console.log(`notebook ${result.name}: ok in ${result.seconds.toFixed(1)} s -> ${result.html}`);
    else {
      console.error(describeFailure(result));
      if (!opts.keepGoing) break;
    }
  }
  return results;
}

export const notebooksRun: Command = {
  name: 'notebooks run',
  usage: `usage: sifd notebooks run [name...] [--quick] [--env KEY=VALUE]... [--cell-timeout S] [--keep-going] [--out DIR]

Executes notebooks/<name>.ipynb (all of them, in order, when no name is given) with the tslab
kernel of the project venv, and writes the executed .ipynb and .html to out/notebooks/ plus an
index.html. Names may be given as '00', '00_environment' or a path to an .ipynb file.

options:
  --quick            set SIFD_QUICK=1 (notebooks shrink to about a minute each)
  --env KEY=VALUE    an environment variable for the kernel (repeatable), e.g. --env SIFD_DATA=/data/kaggle
  --cell-timeout S   per-cell timeout in seconds (default 1800)
  --keep-going       run the remaining notebooks after a failure
  --out DIR          where executed notebooks go (default out/notebooks)
Exits non-zero when any cell fails, naming the notebook, the cell index, the cell's first line and
the kernel's error text.`,
  positionals: true,
  options: {
    quick: { type: 'boolean' },
    env: { type: 'string', multiple: true },
    'cell-timeout': { type: 'string' },
    'keep-going': { type: 'boolean' },
    out: { type: 'string' },
  },
  async run(args) {
    const env = parseEnvPairs(args.values.env as string[] | undefined);
    if (flag(args, 'quick')) env.SIFD_QUICK = '1';
    const cellTimeout = num(args, 'cell-timeout', 1800, { min: 0, minExclusive: true });
    const out = optStr(args, 'out');
    if (out !== undefined) checkOutputDir(out, '--out');
    const results = await runNotebooks(args.positionals, {
      env,
      cellTimeout,
      keepGoing: flag(args, 'keep-going'),
      outDir: optStr(args, 'out'),
    });
    console.log(`index: ${writeIndex(results, optStr(args, 'out'))}`);
    return results.every((r) => r.ok) ? 0 : 1;
  },
};
