/**
 * Per-member counter blocks: one block per member (an attached thread; see the thread registry in
 * src/locks/thread-registry.ts), each a whole number of 64-byte cache lines, so two threads bumping
 * their own counters never write the same line (no false sharing, no Atomics).
 *
 * Memory (an f64 section of `members * stride` doubles, stride = counters rounded up to 8):
 *
 *   member 0: [c0 c1 … c(n-1) pad… ]   8·k doubles = 64·k bytes
 *   member 1: [c0 c1 … c(n-1) pad… ]
 *   …
 *
 * Counters are 64-bit floats, not int32: a scan counter passes 2^31 within a minute on a large
 * device, and a double counts exactly to 2^53 (a century at a billion increments a second), so no
 * counter here ever wraps. Each block has exactly one writer (the member's thread, or the thread
 * recovering it after its death), which increments with plain typed-array writes: one writer means
 * no lost updates, and aligned element accesses of a typed array never tear (the memory model's
 * tear-free rule), so a reader on another thread sees a value that was written, never a mix. A
 * block keeps its counts when its member leaves and another thread joins in its place, so totals
 * stay exact across threads that come and go.
 */
import { checkInt, ConfigError } from './validate.js';

/** Doubles per 64-byte cache line. */
export const CACHE_LINE_DOUBLES = 8;

/** Doubles per block: the counters rounded up to whole cache lines. */
export function counterStride(counters: number): number {
  return Math.max(1, Math.ceil(counters / CACHE_LINE_DOUBLES)) * CACHE_LINE_DOUBLES;
}

/** Doubles needed for `members` blocks of `counters` counters each. */
export function counterWords(counters: number, members: number): number {
  return counterStride(counters) * members;
}

/** Named 64-bit counters, one padded block per member; see the header above. */
export class CounterBlocks<Name extends string> {
  readonly names: readonly Name[];
  readonly members: number;
  readonly stride: number;
  private readonly words: Float64Array;
  private readonly index: ReadonlyMap<string, number>;

  constructor(words: Float64Array, names: readonly Name[], members: number) {
    checkInt('members', members, 1, 1 << 20);
    if (!(words instanceof Float64Array)) throw new ConfigError('counter words', 'must be a Float64Array (64-bit counters never wrap)');
    this.names = names;
    this.members = members;
    this.stride = counterStride(names.length);
    if (words.length < this.stride * members) {
      throw new ConfigError('counter words', `need ${this.stride * members} doubles for ${members} members of ${names.length} counters, got ${words.length}`);
    }
    this.words = words;
    this.index = new Map(names.map((n, i) => [n, i]));
  }

  /** Position of a counter within a block, for hot paths that index `raw` directly. */
  offsetOf(name: Name): number {
    const i = this.index.get(name);
    if (i === undefined) throw new ConfigError('counter', `unknown counter ${JSON.stringify(name)}`);
    return i;
  }

  /** First double of a member's block. */
  base(member: number): number {
    checkInt('member', member, 0, this.members - 1);
    return member * this.stride;
  }

  /** The raw doubles; hot paths do `raw[base + offset]++` in their own block. */
  get raw(): Float64Array {
    return this.words;
  }

  /** Adds n to one of a member's counters (the member's own thread only). */
  add(member: number, name: Name, n = 1): void {
    this.words[this.base(member) + this.offsetOf(name)]! += n;
  }

  /** One member's counters. */
  read(member: number): Record<Name, number> {
    const b = this.base(member);
    const out = {} as Record<Name, number>;
    this.names.forEach((n, i) => { out[n] = this.words[b + i]!; });
    return out;
  }

  /** Sum over all members. */
  total(): Record<Name, number> {
    const out = {} as Record<Name, number>;
    for (const n of this.names) out[n] = 0;
    for (let m = 0; m < this.members; m++) {
      const b = m * this.stride;
      this.names.forEach((n, i) => { out[n] += this.words[b + i]!; });
    }
    return out;
  }

  /** Zeroes one member's counters. */
  reset(member: number): void {
    const b = this.base(member);
    for (let i = 0; i < this.names.length; i++) this.words[b + i] = 0;
  }
}
