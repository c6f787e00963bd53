/**
 * What every `sab-alloc` command shares: option parsers, the exit codes, how an error becomes one
 * line on stderr, and the output-file checks.
 *
 * Parsers throw commander's InvalidArgumentError with the allowed range, and commander names the
 * flag, so every bad value reads "option '--workers <n>' argument '0x2' is invalid. must be a
 * decimal integer in [1, 64]"; the dispatcher turns those into exit code 2. Numbers are decimal
 * only: `Number()` would also take 0x2, 1e3, 0b10 or " 2", none of which anybody means on a
 * command line about worker counts and seeds.
 */
import { accessSync, constants, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { ConfigError } from '../shared/validate.js';
import type { DelayPolicy } from '../race/control.js';

/** Exit codes every command shares: 1 corruption found, 2 bad usage, 3 stall or harness error. */
export const USAGE_EXIT = 2;
export const HARNESS_EXIT = 3;

/** Bad usage found by a command itself (a combination of flags), named by its flag: exit 2. */
export class UsageError extends Error {
  readonly flag: string;
  constructor(flag: string, message: string) {
    super(`${flag}: ${message}`);
    this.name = 'UsageError';
    this.flag = flag;
  }
}

/** A result could not be written where the user asked: exit 3, one line, no stack. */
export class OutputError extends Error {
  constructor(flag: string, path: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException)?.code;
    super(`${flag}: cannot write ${path}${code ? ` (${code})` : ''}: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'OutputError';
  }
}

/**
 * How a command names its flags: library option (as a ConfigError names it) → the flag that sets
 * it. Options a command does not set from a flag of the same name must be listed here, or the
 * message would name a flag that does not exist.
 */
export type FlagNames = Readonly<Record<string, string>>;

/** The flag for a ConfigError's parameter ("delay.points", "dataTypes[1]", "maxExtentSectors"), or null. */
export function flagOf(param: string, flags: FlagNames): string | null {
  const exact = flags[param];
  if (exact !== undefined) return exact;
  const base = param.split(/[.[]/)[0]!;
  return flags[base] ?? null;
}

/**
 * What a command that failed prints and exits with. Bad usage (a ConfigError from the library, a
 * UsageError from the command) is named by its flag and exits 2; a result that could not be
 * written exits 3 with one line; anything else broke the harness (`label` says how: HARNESS_ERROR,
 * STALL) and exits 3 with its stack, because that is a bug to report.
 */
export function exitForError(e: unknown, flags: FlagNames, label = 'HARNESS_ERROR'): number {
  if (e instanceof UsageError) {
    process.stderr.write(`error: ${e.message}\n`);
    return USAGE_EXIT;
  }
  if (e instanceof ConfigError) {
    const flag = flagOf(e.param, flags);
    const message = e.message.slice(e.param.length + 2);
    // A parameter no flag sets was derived from the flags given (e.g. the extent table's size).
    process.stderr.write(flag !== null ? `error: ${flag}: ${message}\n` : `error: ${e.message} (derived from the flags given)\n`);
    return USAGE_EXIT;
  }
  if (e instanceof OutputError) {
    process.stderr.write(`error: ${e.message}\n`);
    return HARNESS_EXIT;
  }
  process.stderr.write(`${label}: ${(e as Error)?.stack ?? String(e)}\n`);
  return HARNESS_EXIT;
}

function rangeArg(min: number, max: number, integer: boolean): (value: string) => number {
  const what = integer ? 'a decimal integer' : 'a decimal number';
  const form = integer ? /^\d+$/ : /^\d+(\.\d+)?$/;
  return (value) => {
    const n = Number(value);
    if (!form.test(value) || n < min || n > max) throw new InvalidArgumentError(`must be ${what} in [${min}, ${max}]`);
    return n;
  };
}

export const intArg = (min: number, max: number): ((value: string) => number) => rangeArg(min, max, true);
export const numberArg = (min: number, max: number): ((value: string) => number) => rangeArg(min, max, false);

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9 };

/** "20us", "1ms", "500ns", "0" → nanoseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s)?$/.exec(text);
  if (m === null) throw new InvalidArgumentError(`"${text}" is not a duration (e.g. 500ns, 20us, 1ms)`);
  const ns = Math.round(Number(m[1]) * UNITS[m[2] ?? 'ns']!);
  if (ns > 1e9) throw new InvalidArgumentError('a delay is at most 1s');
  return ns;
}

/**
 * "KIND:LENGTH:PROBABILITY", e.g. "spin:20us:0.2" or "sleep:1ms:0.01"; "none" for no delay. "none"
 * comes back as the string, not null: commander stores a parser's null as an empty string, and
 * that reached the library as a delay with no kind (`--delay none` failed with a message about
 * spin and sleep). `delayOf` turns it into the library's null.
 */
export function delayArg(value: string): DelayPolicy | 'none' {
  if (value === 'none') return 'none';
  const parts = value.split(':');
  if (parts.length !== 3) throw new InvalidArgumentError('must be KIND:LENGTH:PROBABILITY, e.g. spin:20us:0.2 (kind spin or sleep), or none');
  const [kind, length, prob] = parts as [string, string, string];
  if (kind !== 'spin' && kind !== 'sleep') throw new InvalidArgumentError(`kind must be spin or sleep, got "${kind}"`);
  const probability = Number(prob);
  if (!/^\d+(\.\d+)?$/.test(prob) || probability > 1) {
    throw new InvalidArgumentError(`probability must be a decimal number in [0, 1], got "${prob}"`);
  }
  return { kind, ns: parseDuration(length), probability };
}

/** The library's delay for a parsed --delay: null for "none", undefined when not given. */
export function delayOf(value: DelayPolicy | 'none' | undefined): DelayPolicy | null | undefined {
  return value === 'none' ? null : value;
}

/**
 * A comma-separated list of names from `allowed`: no empty list, no empty entry ("a,,b", "a,"),
 * no unknown name; duplicates collapse. `what` names an entry in the message, which lists `shown`
 * (default: every allowed name) as the known ones.
 */
export function listArg<T extends string>(what: string, allowed: readonly T[], shown: readonly string[] = allowed): (value: string) => T[] {
  return (value) => {
    const parts = value.split(',').map((s) => s.trim());
    if (parts.some((p) => p.length === 0)) {
      throw new InvalidArgumentError(`must be a comma-separated list of ${what}s with no empty entries (known: ${shown.join(', ')})`);
    }
    const bad = parts.filter((p) => !(allowed as readonly string[]).includes(p));
    if (bad.length > 0) throw new InvalidArgumentError(`unknown ${what} ${bad.map((b) => `"${b}"`).join(', ')}; known: ${shown.join(', ')}`);
    return [...new Set(parts)] as T[];
  };
}

/** A non-empty path. */
export function pathArg(what: string): (value: string) => string {
  return (value) => {
    if (value.trim() === '') throw new InvalidArgumentError(`must be a ${what}, got an empty string`);
    return value;
  };
}

/** Whether the user typed `--name` (as opposed to its default). */
export function given(cmd: Command, attribute: string): boolean {
  const source = cmd.getOptionValueSource(attribute);
  return source !== undefined && source !== 'default' && source !== 'implied';
}

/** The nearest existing ancestor of `path` (itself if it exists). */
function nearestExisting(path: string): string {
  let p = path;
  for (;;) {
    try {
      statSync(p);
      return p;
    } catch {
      const up = dirname(p);
      if (up === p) return p;
      p = up;
    }
  }
}

function writableDir(flag: string, dir: string, shown: string): void {
  const at = nearestExisting(dir);
  if (!statSync(at).isDirectory()) throw new UsageError(flag, `cannot write ${shown}: ${at} is not a directory`);
  try {
    accessSync(at, constants.W_OK);
  } catch {
    throw new UsageError(flag, `cannot write ${shown}: ${at} is not writable`);
  }
}

/**
 * Before a run: can `path` be written (as a file, creating missing directories)? Throws a
 * UsageError naming `flag` when it cannot, so a long run does not end in a lost result.
 */
export function checkOutputFile(flag: string, path: string): void {
  const full = resolve(path);
  let st;
  try {
    st = statSync(full);
  } catch {
    writableDir(flag, dirname(full), full);
    return;
  }
  if (st.isDirectory()) throw new UsageError(flag, `${full} is a directory; give a file path`);
  try {
    accessSync(full, constants.W_OK);
  } catch {
    throw new UsageError(flag, `cannot write ${full}: not writable`);
  }
}

/** Before a run: can `dir` hold output files (existing and writable, or creatable)? */
export function checkOutputDir(flag: string, dir: string): void {
  const full = resolve(dir);
  let st;
  try {
    st = statSync(full);
  } catch {
    writableDir(flag, full, full);
    return;
  }
  if (!st.isDirectory()) throw new UsageError(flag, `${full} exists and is not a directory`);
  try {
    accessSync(full, constants.W_OK);
  } catch {
    throw new UsageError(flag, `cannot write into ${full}: not writable`);
  }
}

/** Writes one output file (creating its directory); a failure is an OutputError naming the flag. */
export function writeOutputFile(flag: string, path: string, text: string): string {
  const full = resolve(path);
  try {
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
  } catch (e) {
    throw new OutputError(flag, full, e);
  }
  return full;
}

/**
 * The exit code of a run whose result could not be written: 3 when the run itself succeeded (the
 * result is lost), otherwise the run's own code, which says more (1: corruption found).
 */
export function exitAfterOutputFailure(e: unknown, runExit: number, flags: FlagNames): number {
  const code = exitForError(e, flags);
  return runExit === 0 ? code : runExit;
}
