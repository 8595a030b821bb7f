import { parseArgs, type ParseArgsConfig } from 'util';
import { SifdError } from '../lib/errors';

/** One `sifd` sub-command. Each lives in src/cli/commands/<name>.ts and is listed in commands/index.ts. */
export interface Command {
  name: string;
  /** Full --help text (usage line, options with defaults). */
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Allow positional arguments (e.g. notebook names). */
  positionals?: boolean;
  run(args: ParsedArgs): Promise<number | void>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Thrown for bad command-line usage; main prints the message and the usage, exits 2. */
export class UsageError extends SifdError {}

export function parseCommandArgs(cmd: Command, argv: string[]): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: cmd.positionals ?? false,
      strict: true,
    });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Typed accessors with clear errors, for command implementations. */
export function str(args: ParsedArgs, name: string, fallback?: string): string {
  const v = args.values[name];
  if (typeof v === 'string') return v;
  if (fallback !== undefined) return fallback;
  throw new UsageError(`missing required option --${name}`);
}

export function optStr(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function num(args: ParsedArgs, name: string, fallback?: number): number {
  const v = args.values[name];
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`missing required option --${name}`);
  }
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${String(v)}'`);
  return n;
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}
