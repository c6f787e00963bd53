/**
 * Seeded pseudo-random streams. A run has one master seed; stream i (a worker, a write stream, the
 * scheduler) gets its own generator whose seed is a hash of (master, i), so streams are independent
 * and adding a worker never shifts another worker's sequence. `seed + i` would not do: nearby seeds
 * of simple generators give correlated sequences.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): 128 bits of state,
 * 32-bit integer arithmetic only (no BigInt on hot paths), passes PractRand to large sizes. State is
 * per thread and private; only seeds cross threads.
 */
import { checkInt } from './validate.js';

/** murmur3's 32-bit finaliser: a bijective avalanche mix. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Seed of stream `stream` under master seed `seed`: hashed, never added. */
export function deriveSeed(seed: number, stream: number): number {
  return mix32(mix32(seed ^ 0x9e3779b9) ^ mix32((stream + 0x632be5ab) >>> 0));
}

/**
 * A master seed from the clock and process, for runs that do not fix one; always printed. Where there
 * is no process id (a browser), crypto.getRandomValues stands in for it, so that two tabs started in
 * the same millisecond still differ.
 */
export function randomSeed(): number {
  return mix32((Date.now() ^ (processSalt() << 16) ^ Math.floor(performance.now() * 1000)) >>> 0);
}

/** Node's process.pid, looked up without naming `process` statically; elsewhere 32 random bits. */
function processSalt(): number {
  const pid = (globalThis as { process?: { pid?: unknown } }).process?.pid;
  if (typeof pid === 'number') return pid;
  const r = new Uint32Array(1);
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint32Array) => Uint32Array } }).crypto;
  if (typeof c?.getRandomValues === 'function') c.getRandomValues(r);
  else r[0] = Math.floor(Math.random() * 2 ** 32);
  return r[0]!;
}

/**
 * Seeded pseudo-random generator (sfc32: four 32-bit words of state, fast in JavaScript's int32
 * arithmetic). Deterministic for a seed, so every random choice of a run replays from its seed.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    checkInt('seed', seed, 0, 0xffffffff);
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    // sfc32's recommended warm-up: discard the first outputs so similar seeds diverge.
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Uniform in [0, 2^32). */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n); n ≤ 2^32. Multiply-shift: unbiased enough for n ≪ 2^32. */
  below(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** One of `items`, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  /** The generator's state, to checkpoint and restore (replay). */
  state(): [number, number, number, number] {
    return [this.a, this.b, this.c, this.d];
  }

  /** Puts back a state taken with {@link state}. */
  restore(s: readonly [number, number, number, number]): void {
    [this.a, this.b, this.c, this.d] = s;
  }
}

/** Generator for stream `stream` under master seed `seed`. */
export function streamRng(seed: number, stream: number): Rng {
  checkInt('seed', seed, 0, 0xffffffff);
  checkInt('stream', stream, 0, 0xffffffff);
  return new Rng(deriveSeed(seed, stream));
}
