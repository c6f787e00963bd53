/**
 * A bucket index as a two-level bitmap: bit b set ⇔ bucket b is in the index. Used for the
 * free-space index (bucket b free) and the need-discard index. bcachefs keeps these as btrees keyed
 * by bucket; in shared memory a bitmap with summary words gives the same "next member at or after b"
 * in a few word reads.
 *
 * Words (one i32 section of bitmapWords(n)):
 *
 *   [0 .. L-1]        leaf words: bit (b & 31) of word (b >>> 5) is bucket b      L = ceil(n / 32)
 *   [L .. L+S-1]      summary: bit (w & 31) of summary word (w >>> 5) set when leaf word w may be
 *                     non-zero                                                     S = ceil(L / 32)
 *
 * Members change inside the commit that changes the bucket's record (under that record's lock), but
 * neighbouring buckets share words, so every update is an Atomics.or / Atomics.and. The summary is a
 * hint that may claim a word is non-zero when it is not (a scan then moves on), never the reverse:
 * a clear that empties a word clears the summary bit and then re-checks the word, so a concurrent
 * set of a neighbour cannot be hidden.
 */
export function bitmapWords(n: number): number {
  const leaves = Math.ceil(n / 32);
  return leaves + Math.ceil(leaves / 32);
}

export class BitmapIndex {
  readonly size: number;
  private readonly words: Int32Array;
  private readonly leaves: number;

  constructor(words: Int32Array, size: number) {
    this.words = words;
    this.size = size;
    this.leaves = Math.ceil(size / 32);
  }

  has(b: number): boolean {
    return (Atomics.load(this.words, b >>> 5) & (1 << (b & 31))) !== 0;
  }

  add(b: number): void {
    const w = b >>> 5;
    Atomics.or(this.words, w, 1 << (b & 31));
    Atomics.or(this.words, this.leaves + (w >>> 5), 1 << (w & 31));
  }

  remove(b: number): void {
    const w = b >>> 5;
    const bit = 1 << (b & 31);
    const before = Atomics.and(this.words, w, ~bit);
    if ((before & ~bit) !== 0) return;
    const s = this.leaves + (w >>> 5);
    const sbit = 1 << (w & 31);
    Atomics.and(this.words, s, ~sbit);
    if (Atomics.load(this.words, w) !== 0) Atomics.or(this.words, s, sbit);
  }

  /** Smallest member in [from, to), or -1. */
  next(from: number, to: number): number {
    if (from >= to) return -1;
    let w = from >>> 5;
    let bits = Atomics.load(this.words, w) & (-1 << (from & 31));
    const lastWord = (to - 1) >>> 5;
    for (;;) {
      if (bits !== 0) {
        const b = (w << 5) + (31 - Math.clz32(bits & -bits));
        return b < to ? b : -1;
      }
      w = this.nextWord(w + 1, lastWord);
      if (w < 0) return -1;
      bits = Atomics.load(this.words, w);
    }
  }

  /** First leaf word in [from, last] whose summary bit is set, or -1. */
  private nextWord(from: number, last: number): number {
    if (from > last) return -1;
    let s = from >>> 5;
    let bits = Atomics.load(this.words, this.leaves + s) & (-1 << (from & 31));
    const lastSummary = last >>> 5;
    for (;;) {
      if (bits !== 0) {
        const w = (s << 5) + (31 - Math.clz32(bits & -bits));
        return w <= last ? w : -1;
      }
      if (++s > lastSummary) return -1;
      bits = Atomics.load(this.words, this.leaves + s);
    }
  }

  /** Members, counted word by word (fsck and tests; not a hot path). */
  count(): number {
    let n = 0;
    for (let w = 0; w < this.leaves; w++) {
      let v = Atomics.load(this.words, w);
      while (v !== 0) { v &= v - 1; n++; }
    }
    return n;
  }

  /** Whether the summary covers every non-empty leaf word (fsck). */
  summaryConsistent(): boolean {
    for (let w = 0; w < this.leaves; w++) {
      if (Atomics.load(this.words, w) === 0) continue;
      if ((Atomics.load(this.words, this.leaves + (w >>> 5)) & (1 << (w & 31))) === 0) return false;
    }
    return true;
  }
}
