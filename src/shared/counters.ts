/**
 * Per-worker counter blocks: one block per slot, each a whole number of 64-byte cache lines, so two
 * workers bumping their own counters never write the same line (no false sharing, no Atomics).
 *
 * Memory (an i32 section of `slots * stride` words, stride = counters rounded up to 16):
 *
 *   slot 0: [c0 c1 … c(n-1) pad… ]   16·k words = 64·k bytes
 *   slot 1: [c0 c1 … c(n-1) pad… ]
 *   …
 *
 * The last word of every block is its claim flag (0 free, 1 claimed): `claimSlot` hands a thread
 * the first free block with one compareExchange per block tried, `releaseSlot` frees it again. A
 * released block keeps its counts, so totals stay exact across threads that come and go.
 *
 * Each block has exactly one writer (the thread that owns the slot), which increments with plain
 * typed-array writes: one writer means no lost updates, and aligned Int32 accesses cannot tear.
 * Readers on other threads use Atomics.load and see a recent value while workers run; once a worker
 * has finished (published by any Atomics store or message after its last increment) the totals are
 * exact.
 */
import { checkInt, ConfigError } from './validate.js';

export const CACHE_LINE_WORDS = 16;

/** Words per block: the counters plus the claim flag, rounded up to whole cache lines. */
export function counterStride(counters: number): number {
  return Math.ceil((counters + 1) / CACHE_LINE_WORDS) * CACHE_LINE_WORDS;
}

/** Words needed for `slots` blocks of `counters` counters each. */
export function counterWords(counters: number, slots: number): number {
  return counterStride(counters) * slots;
}

export class CounterBlocks<Name extends string> {
  readonly names: readonly Name[];
  readonly slots: number;
  readonly stride: number;
  private readonly words: Int32Array;
  private readonly index: Record<Name, number>;

  constructor(words: Int32Array, names: readonly Name[], slots: number) {
    checkInt('slots', slots, 1, 1 << 20);
    this.names = names;
    this.slots = slots;
    this.stride = counterStride(names.length);
    if (words.length < this.stride * slots) {
      throw new ConfigError('counter words', `need ${this.stride * slots} words for ${slots} slots of ${names.length} counters, got ${words.length}`);
    }
    this.words = words;
    this.index = Object.fromEntries(names.map((n, i) => [n, i])) as Record<Name, number>;
  }

  /** Position of a counter within a block, for hot paths that index `words` directly. */
  offsetOf(name: Name): number {
    return this.index[name];
  }

  /** First word of a slot's block. */
  base(slot: number): number {
    checkInt('slot', slot, 0, this.slots - 1);
    return slot * this.stride;
  }

  /** The raw words; hot paths do `words[base + offset]++` in their own block. */
  get raw(): Int32Array {
    return this.words;
  }

  add(slot: number, name: Name, n = 1): void {
    this.words[this.base(slot) + this.index[name]]! += n;
  }

  /** One slot's counters, read with Atomics.load (safe while the owner runs). */
  read(slot: number): Record<Name, number> {
    const b = this.base(slot);
    const out = {} as Record<Name, number>;
    for (const n of this.names) out[n] = Atomics.load(this.words, b + this.index[n]);
    return out;
  }

  /** Sum over all slots. */
  total(): Record<Name, number> {
    const out = {} as Record<Name, number>;
    for (const n of this.names) out[n] = 0;
    for (let s = 0; s < this.slots; s++) {
      const b = s * this.stride;
      for (const n of this.names) out[n] += Atomics.load(this.words, b + this.index[n]);
    }
    return out;
  }

  /** Claims the first free block for the calling thread; -1 when every block is taken. */
  claimSlot(): number {
    for (let s = 0; s < this.slots; s++) {
      if (Atomics.compareExchange(this.words, s * this.stride + this.stride - 1, 0, 1) === 0) return s;
    }
    return -1;
  }

  releaseSlot(slot: number): void {
    if (Atomics.compareExchange(this.words, this.base(slot) + this.stride - 1, 1, 0) !== 1) {
      throw new ConfigError('slot', `counter block ${slot} is not claimed`);
    }
  }

  reset(slot: number): void {
    const b = this.base(slot);
    for (let i = 0; i < this.names.length; i++) Atomics.store(this.words, b + i, 0);
  }
}
