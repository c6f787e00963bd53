/**
 * Per-thread counter blocks: one block per *member* (a thread that claimed one), each a whole
 * number of 64-byte cache lines, so two threads bumping their own counters never write the same
 * line (no false sharing, no Atomics).
 *
 * Memory (an i32 section of `members * stride` words, stride = counters rounded up to 16):
 *
 *   member 0: [c0 c1 … c(n-1) pad… claim]   16·k words = 64·k bytes
 *   member 1: [c0 c1 … c(n-1) pad… claim]
 *   …
 *
 * The last word of every block is its claim flag (0 free, 1 claimed): `claimMember` hands a thread
 * the first free block with one compareExchange per block tried, `releaseMember` frees it again. A
 * released block keeps its counts, so totals stay exact across threads that come and go.
 *
 * Each block has exactly one writer (the member that claimed it), which increments with plain
 * typed-array writes: one writer means no lost updates, and aligned Int32 accesses cannot tear.
 * Readers on other threads use Atomics.load and see a recent value while members run; once a
 * member has finished (published by any Atomics store or message after its last increment) the
 * totals are exact.
 *
 * ("Member", not "slot": in this project a slot is an open-bucket slot.)
 */
import { checkInt, ConfigError } from './validate.js';

/** Int32 words in one 64-byte cache line. */
export const CACHE_LINE_WORDS = 16;

/** Words per block: the counters plus the claim flag, rounded up to whole cache lines. */
export function counterStride(counters: number): number {
  return Math.ceil((counters + 1) / CACHE_LINE_WORDS) * CACHE_LINE_WORDS;
}

/** Words needed for `members` blocks of `counters` counters each. */
export function counterWords(counters: number, members: number): number {
  return counterStride(counters) * members;
}

/** Named per-thread counters in shared memory, one padded block per member (layout above). */
export class CounterBlocks<Name extends string> {
  /** The counters of every block, in block order. */
  readonly names: readonly Name[];
  /** Blocks: the most members that can hold one at once. */
  readonly members: number;
  /** Words per block (whole cache lines). */
  readonly stride: number;
  private readonly words: Int32Array;
  private readonly index: Record<Name, number>;

  constructor(words: Int32Array, names: readonly Name[], members: number) {
    checkInt('members', members, 1, 1 << 20);
    this.names = names;
    this.members = members;
    this.stride = counterStride(names.length);
    if (words.length < this.stride * members) {
      throw new ConfigError('counter words', `need ${this.stride * members} words for ${members} members of ${names.length} counters, got ${words.length}`);
    }
    this.words = words;
    this.index = Object.fromEntries(names.map((n, i) => [n, i])) as Record<Name, number>;
  }

  /** Position of a counter within a block, for hot paths that index `words` directly. */
  offsetOf(name: Name): number {
    return this.index[name];
  }

  /** First word of a member's block. */
  base(member: number): number {
    checkInt('member', member, 0, this.members - 1);
    return member * this.stride;
  }

  /** The raw words; hot paths do `words[base + offset]++` in their own block. */
  get raw(): Int32Array {
    return this.words;
  }

  /** Adds `n` to one of `member`'s counters (only that member may call it). */
  add(member: number, name: Name, n = 1): void {
    this.words[this.base(member) + this.index[name]]! += n;
  }

  /** One member's counters, read with Atomics.load (safe while the member runs). */
  read(member: number): Record<Name, number> {
    const b = this.base(member);
    const out = {} as Record<Name, number>;
    for (const n of this.names) out[n] = Atomics.load(this.words, b + this.index[n]);
    return out;
  }

  /** Sum over all blocks, claimed or released. */
  total(): Record<Name, number> {
    const out = {} as Record<Name, number>;
    for (const n of this.names) out[n] = 0;
    for (let s = 0; s < this.members; s++) {
      const b = s * this.stride;
      for (const n of this.names) out[n] += Atomics.load(this.words, b + this.index[n]);
    }
    return out;
  }

  /** Claims the first free block for the calling thread; -1 when every block is taken. */
  claimMember(): number {
    for (let s = 0; s < this.members; s++) {
      if (Atomics.compareExchange(this.words, s * this.stride + this.stride - 1, 0, 1) === 0) return s;
    }
    return -1;
  }

  /** Gives a claimed block back (its counts stay in the totals). */
  releaseMember(member: number): void {
    if (Atomics.compareExchange(this.words, this.base(member) + this.stride - 1, 1, 0) !== 1) {
      throw new ConfigError('member', `counter block ${member} is not claimed`);
    }
  }

  /** @deprecated The former name of {@link claimMember}, kept while src/alloc still calls it. */
  claimSlot(): number {
    return this.claimMember();
  }

  /** @deprecated The former name of {@link releaseMember}, kept while src/alloc still calls it. */
  releaseSlot(member: number): void {
    this.releaseMember(member);
  }

  /** Zeroes a member's counters (not its claim). */
  reset(member: number): void {
    const b = this.base(member);
    for (let i = 0; i < this.names.length; i++) Atomics.store(this.words, b + i, 0);
  }
}
