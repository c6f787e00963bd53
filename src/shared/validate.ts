/**
 * Argument checks shared by every layer. Each error names the parameter, the allowed range and the
 * value it got, so a bad call is fixed from the message alone — and each check runs before anything
 * in shared memory is touched, so a rejected call never leaves state half-changed.
 */

/** A caller passed a value outside what the parameter allows. */
export class ConfigError extends RangeError {
  /** The parameter (option name, or path such as `delay.points`) the message is about. */
  readonly param: string;
  constructor(param: string, message: string) {
    super(`${param}: ${message}`);
    this.name = 'ConfigError';
    this.param = param;
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  return Object.prototype.toString.call(value);
}

/** Integer in [min, max]; returns it so checks read as assignments. */
export function checkInt(param: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(param, `must be an integer in [${min}, ${max}], got ${show(value)}`);
  }
  return value;
}

/** Finite number in [min, max]. */
export function checkNumber(param: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(param, `must be a number in [${min}, ${max}], got ${show(value)}`);
  }
  return value;
}

/** One of a fixed set of strings. */
export function checkOneOf<T extends string>(param: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(param, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${show(value)}`);
  }
  return value as T;
}

/** A boolean (not a truthy value). */
export function checkBool(param: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(param, `must be true or false, got ${show(value)}`);
  return value;
}

/** Rejects keys the caller misspelled instead of silently ignoring them. */
export function checkKnownKeys(param: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new ConfigError(`${param}.${key}`, `unknown option; known options are ${known.join(', ')}`);
    }
  }
}

/** A plain object: made by a literal, `Object.create(null)` or JSON — not an array, a class instance or a proxy of another shape. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Reads an options argument: `undefined` is "no options"; anything else must be a plain object
 * whose own keys are all known (an array, a class instance, or an object that inherits its keys
 * from a prototype is refused, since its keys would be read or ignored by accident). Keys whose
 * value is `undefined` are dropped, so `{ buckets: undefined }` means "the default", as
 * TypeScript's optional properties promise. Returns a fresh null-prototype object holding only own,
 * defined keys: a lookup in it can never reach Object.prototype.
 */
export function readOptions<T extends object>(param: string, value: unknown, known: readonly string[]): Partial<T> {
  if (value === undefined) return Object.create(null) as Partial<T>;
  if (!isPlainObject(value)) {
    throw new ConfigError(param, `must be a plain object of options { ${known.join(', ')} }, got ${Array.isArray(value) ? 'an array' : show(value)}`);
  }
  checkKnownKeys(param, value, known);
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    if (value[key] !== undefined) out[key] = value[key];
  }
  return out as Partial<T>;
}

/**
 * An Int32Array over a SharedArrayBuffer with room for `words` words at `index`. Locks and other
 * shared structures call this once in their constructor, never on the hot path.
 */
export function checkSharedWords(param: string, i32: unknown, index: unknown, words: number): void {
  if (!(i32 instanceof Int32Array)) {
    throw new ConfigError(param, `must be an Int32Array over a SharedArrayBuffer, got ${show(i32)}`);
  }
  if (!(i32.buffer instanceof SharedArrayBuffer)) {
    throw new ConfigError(param, 'is backed by a non-shared ArrayBuffer; Atomics.wait and cross-thread visibility need a SharedArrayBuffer');
  }
  if (typeof index !== 'number' || !Number.isInteger(index)) {
    throw new ConfigError(`${param} index`, `is misaligned: must be a whole word index in [0, ${i32.length - words}], got ${show(index)}`);
  }
  if (index < 0 || index + words > i32.length) {
    throw new ConfigError(`${param} index`, `must be in [0, ${i32.length - words}] (the structure needs ${words} word${words === 1 ? '' : 's'} of ${i32.length}), got ${index}`);
  }
}
