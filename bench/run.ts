import * as path from 'path';
import * as fs from 'fs';

/**
 * `npm run bench -- <name> [args]` runs bench/<name>.ts's exported `run(args)` and prints its JSON result.
 * Benchmarks print numbers; they never assert (timed checks belong nowhere near `npm test`).
 */
async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const available = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
    .map((f) => f.replace(/\.ts$/, ''));
  if (!name || !available.includes(name)) {
    console.error(`usage: npm run bench -- <name> [args]\n${name ? `unknown bench '${name}'. ` : ''}benches: ${available.join(', ')}`);
    return 2;
  }
  const mod = require(path.join(__dirname, name)) as { run?: (args: string[]) => Promise<object> };
  if (typeof mod.run !== 'function') {
    console.error(`bench/${name}.ts exports no run(args) function`);
    return 2;
  }
  console.log(JSON.stringify(await mod.run(args), null, 2));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exitCode = 1;
  },
);
