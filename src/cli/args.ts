/**
 * Option parsers for the CLI. Each throws commander's InvalidArgumentError with the allowed range,
 * and commander names the flag, so every bad value reads "option '--workers <n>' argument '0' is
 * invalid. must be an integer in [1, 64]". The dispatcher turns those into exit code 2.
 */
import { InvalidArgumentError } from 'commander';
import { ConfigError } from '../shared/validate.js';
import type { DelayPolicy } from '../race/control.js';

/** Exit codes every command shares: 2 bad usage, 3 stall or harness error (1 is corruption found). */
export const USAGE_EXIT = 2;
export const HARNESS_EXIT = 3;

/**
 * What a command that failed prints and exits with: a ConfigError is bad usage, named by its flag;
 * anything else broke the harness (`label` says how: HARNESS_ERROR, STALL).
 */
export function exitForError(e: unknown, label = 'HARNESS_ERROR'): number {
  if (e instanceof ConfigError) {
    process.stderr.write(`error: ${flagOf(e.param)}: ${e.message.slice(e.param.length + 2)}\n`);
    return USAGE_EXIT;
  }
  process.stderr.write(`${label}: ${(e as Error)?.stack ?? String(e)}\n`);
  return HARNESS_EXIT;
}

function rangeArg(min: number, max: number, integer: boolean): (value: string) => number {
  const what = integer ? 'an integer' : 'a number';
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !(integer ? Number.isInteger(n) : Number.isFinite(n)) || n < min || n > max) {
      throw new InvalidArgumentError(`must be ${what} in [${min}, ${max}]`);
    }
    return n;
  };
}

export const intArg = (min: number, max: number): ((value: string) => number) => rangeArg(min, max, true);
export const numberArg = (min: number, max: number): ((value: string) => number) => rangeArg(min, max, false);

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9 };

/** "20us", "1ms", "500ns", "0" → nanoseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s)?$/.exec(text.trim());
  if (m === null) throw new InvalidArgumentError(`"${text}" is not a duration (e.g. 500ns, 20us, 1ms)`);
  const ns = Math.round(Number(m[1]) * UNITS[m[2] ?? 'ns']!);
  if (ns > 1e9) throw new InvalidArgumentError('a delay is at most 1s');
  return ns;
}

/** "KIND:LENGTH:PROBABILITY", e.g. "spin:20us:0.2" or "sleep:1ms:0.01"; "none" for no delay. */
export function delayArg(value: string): DelayPolicy | null {
  if (value === 'none') return null;
  const parts = value.split(':');
  if (parts.length !== 3) throw new InvalidArgumentError('must be KIND:LENGTH:PROBABILITY, e.g. spin:20us:0.2 (kind spin or sleep), or none');
  const [kind, length, prob] = parts as [string, string, string];
  if (kind !== 'spin' && kind !== 'sleep') throw new InvalidArgumentError(`kind must be spin or sleep, got "${kind}"`);
  const probability = Number(prob);
  if (prob.trim() === '' || !Number.isFinite(probability) || probability < 0 || probability > 1) {
    throw new InvalidArgumentError(`probability must be a number in [0, 1], got "${prob}"`);
  }
  return { kind, ns: parseDuration(length), probability };
}

export function listArg(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Option paths whose flag is not simply the first component's. */
const FLAG_OF_PATH: Record<string, string> = { 'delay.points': '--delay-points' };

/** camelCase option name (as in a ConfigError) → the CLI flag. */
export function flagOf(param: string): string {
  const exact = FLAG_OF_PATH[param];
  if (exact !== undefined) return exact;
  const base = param.split(/[.[]/)[0]!;
  return `--${base.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
