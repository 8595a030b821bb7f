/** The one way tests run the `sifd` CLI: in this process (main(), output captured) or as a child process (bin/sifd.js). */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { main } from '../../src/cli/main';

const root = path.resolve(__dirname, '..', '..');

/** `sifd ...` in this process; what it prints to stdout (`out`, lines joined) and stderr (`err`, as written). */
export async function sifdInProcess(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error, warn } = console;
  const write = process.stderr.write.bind(process.stderr);
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' ') + '\n');
  console.warn = console.error;
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    return { code: await main(argv), out: out.join('\n'), err: err.join('') };
  } finally {
    console.log = log;
    console.error = error;
    console.warn = warn;
    process.stderr.write = write;
  }
}

/** `sifd ...` as its own process (bin/sifd.js), from the repository root. */
export function sifdProcess(...argv: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'sifd.js'), ...argv], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
