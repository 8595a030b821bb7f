import { commands } from './commands/index';
import { parseCommandArgs, UsageError } from './command';
import type { CommandEntry } from './commands/index';
import { SifdError, didYouMean } from '../lib/errors';
import { explainFsError, isFsError } from '../lib/util/checkpath';

function topUsage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `usage: sifd <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'sifd <command> --help' for the options of one command.`;
}

/** Entry point; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(topUsage());
    return name ? 0 : 2;
  }
  // "sifd notebooks run" style: a command may be two words.
  const entry: CommandEntry | undefined =
    commands.find((c) => c.name === `${name} ${rest[0]}`) ?? commands.find((c) => c.name === name);
  if (!entry) {
    console.error(`sifd: unknown command '${name}'; ${didYouMean(name, commands.map((c) => c.name))}`);
    return 2;
  }
  const cmd = entry.load();
  const args = cmd.name.includes(' ') ? rest.slice(1) : rest;
  try {
    const parsed = parseCommandArgs(cmd, args);
    if (parsed.values.help) {
      console.log(cmd.usage);
      return 0;
    }
    const code = await cmd.run(parsed);
    return typeof code === 'number' ? code : 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`sifd ${cmd.name}: ${err.message}\n\n${cmd.usage}`);
      return 2;
    }
    if (err instanceof SifdError) {
      console.error(`sifd ${cmd.name}: ${err.name}: ${err.message}`);
      return 1;
    }
    // A file-system error that no check caught: one line naming the path, not a stack trace.
    if (isFsError(err)) {
      console.error(`sifd ${cmd.name}: ${explainFsError(err)}`);
      return 1;
    }
    throw err;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      process.exitCode = 1;
    },
  );
}
