/**
 * Option parsers for the CLI. Each throws commander's InvalidArgumentError with the allowed range,
 * and commander names the flag, so every bad value reads "option '--workers <n>' argument '0' is
 * invalid. must be an integer in [1, 64]". The dispatcher turns those into exit code 2.
 */
import { InvalidArgumentError } from 'commander';
import type { DelayPolicy } from '../race/control.js';

export function intArg(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`must be an integer in [${min}, ${max}]`);
    }
    return n;
  };
}

export function numberArg(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`must be a number in [${min}, ${max}]`);
    }
    return n;
  };
}

export function choiceArg<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${choices.join(', ')}`);
    return value as T;
  };
}

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
