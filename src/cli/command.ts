import { parseArgs, type ParseArgsConfig } from 'util';
import { SifdError } from '../lib/errors';
import { checkOutputDir, checkOutputFile } from '../lib/util/checkpath';

/** One `sifd` sub-command. Each lives in src/cli/commands/<name>.ts and is listed in commands/index.ts. */
export interface Command {
  name: string;
  /** Full --help text (usage line, options with defaults). */
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Allow positional arguments (e.g. notebook names). */
  positionals?: boolean;
  /**
   * Every argument goes through untouched as a positional (a wrapper such as `sifd lab` hands
   * them to another program); only a first argument --help/-h is sifd's, and a leading -- is dropped.
   */
  passThrough?: boolean;
  run(args: ParsedArgs): Promise<number | void>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Thrown for bad command-line usage; main prints the message and the usage, exits 2. */
export class UsageError extends SifdError {}

/** `--param key=value` pairs for the classical detector: numbers and true/false are parsed, the rest stay strings. */
export function parseParams(pairs: readonly string[]): Record<string, number | boolean | string> {
  const out: Record<string, number | boolean | string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param expects KEY=VALUE, got '${pair}'`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    out[key] = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return out;
}

export function parseCommandArgs(cmd: Command, argv: string[]): ParsedArgs {
  if (cmd.passThrough) {
    if (argv[0] === '--help' || argv[0] === '-h') return { values: { help: true }, positionals: [] };
    return { values: {}, positionals: argv[0] === '--' ? argv.slice(1) : argv.slice() };
  }
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

export interface Range {
  /** Smallest allowed value (inclusive unless `minExclusive`). */
  min?: number;
  minExclusive?: boolean;
  /** Largest allowed value (inclusive unless `maxExclusive`). */
  max?: number;
  maxExclusive?: boolean;
  integer?: boolean;
}

function rangeText(r: Range): string {
  const parts: string[] = [];
  if (r.min !== undefined) parts.push(`${r.minExclusive ? '>' : '>='} ${r.min}`);
  if (r.max !== undefined) parts.push(`${r.maxExclusive ? '<' : '<='} ${r.max}`);
  return `${r.integer ? 'an integer' : 'a number'}${parts.length ? ` ${parts.join(' and ')}` : ''}`;
}

/** A number option checked against its range when the command starts (never after the work began). */
export function num(args: ParsedArgs, name: string, fallback?: number, range: Range = {}): number {
  const v = args.values[name];
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`missing required option --${name}`);
  }
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  const bad =
    !Number.isFinite(n) ||
    (range.integer && !Number.isInteger(n)) ||
    (range.min !== undefined && (range.minExclusive ? n <= range.min : n < range.min)) ||
    (range.max !== undefined && (range.maxExclusive ? n >= range.max : n > range.max));
  if (bad) throw new UsageError(`--${name} must be ${rangeText(range)}, got '${String(v)}'`);
  return n;
}

/** An optional number option: undefined when absent, else checked like `num`. */
export function optNum(args: ParsedArgs, name: string, range: Range = {}): number | undefined {
  return args.values[name] === undefined ? undefined : num(args, name, undefined, range);
}

/** An output file option, checked up front (not a folder, not under a file, folder writable). */
export function outFile(args: ParsedArgs, name: string): string {
  const file = str(args, name);
  checkOutputFile(file, `--${name}`);
  return file;
}

/** An output folder option, checked up front (not a file, not under a file, writable). */
export function outDir(args: ParsedArgs, name: string, fallback?: string): string {
  const dir = str(args, name, fallback);
  checkOutputDir(dir, `--${name}`);
  return dir;
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/** An optional option holding a JSON object (`--model-config '{"variant": "b2"}'`), checked when the command starts. */
export function optJsonObject(args: ParsedArgs, name: string): Record<string, unknown> | undefined {
  const raw = optStr(args, name);
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new UsageError(`--${name} is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError(`--${name} must be a JSON object`);
  return parsed as Record<string, unknown>;
}
