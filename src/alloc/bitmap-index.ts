/**
 * A bucket index as a multi-level bitmap: bit b set ⇔ bucket b is in the index. Used for the
 * free-space index (bucket b free) and the need-discard index. bcachefs keeps these as btrees keyed
 * by bucket; in shared memory a bitmap with summary levels gives the same "next member at or after
 * b" in a few word reads, whatever the device size.
 *
 * Words (one i32 section of bitmapWords(n)), level 0 first:
 *
 *   level 0   leaf words: bit (b & 31) of word (b >>> 5) is bucket b         L0 = ceil(n / 32)
 *   level 1   bit (w & 31) of word (w >>> 5) set when level-0 word w may be non-zero   ceil(L0 / 32)
 *   level 2   the same over level 1 …   — levels are added until one has a single word (at least
 *             one summary level always exists): 1M buckets = 32768 + 1024 + 32 + 1 words
 *
 * Members change inside the commit that changes the bucket's record (under that record's lock), but
 * neighbouring buckets share words, so every update is an Atomics.or / Atomics.and. A summary bit is
 * a hint that may claim a word is non-zero when it is not (a scan then moves on), never the reverse:
 * `add` sets the bit at every level, bottom up; `remove` clears a summary bit only when the word
 * below became empty, then re-reads that word and sets the bit back (all the way up) if a concurrent
 * `add` refilled it — so no interleaving can hide a member.
 */
function levelSizes(n: number): number[] {
  const sizes = [Math.max(1, Math.ceil(n / 32))];
  do sizes.push(Math.ceil(sizes[sizes.length - 1]! / 32));
  while (sizes[sizes.length - 1]! > 1);
  return sizes;
}

export function bitmapWords(n: number): number {
  return levelSizes(n).reduce((a, b) => a + b, 0);
}

/**
 * A bucket index as a bitmap with summary levels: the free-space index (`fs.freeSpace`) and the
 * need-discard index (`fs.needDiscard`). Bit b set ⇔ bucket b is in the index.
 */
export class BitmapIndex {
  readonly size: number;
  private readonly words: Int32Array;
  /** Word offset of each level within `words`. */
  private readonly base: number[];
  private readonly sizes: number[];
  private readonly top: number;

  constructor(words: Int32Array, size: number) {
    this.words = words;
    this.size = size;
    this.sizes = levelSizes(size);
    this.base = [];
    let at = 0;
    for (const s of this.sizes) {
      this.base.push(at);
      at += s;
    }
    this.top = this.sizes.length - 1;
  }

  /** Whether bucket b is in the index. */
  has(b: number): boolean {
    return (Atomics.load(this.words, b >>> 5) & (1 << (b & 31))) !== 0;
  }

  /** Puts bucket b in the index (its bit, then the summary bits above it). */
  add(b: number): void {
    let i = b;
    for (let level = 0; level <= this.top; level++) {
      Atomics.or(this.words, this.base[level]! + (i >>> 5), 1 << (i & 31));
      i >>>= 5;
    }
  }

  /** Takes bucket b out of the index, clearing summary bits only over words left empty. */
  remove(b: number): void {
    let w = b >>> 5;
    const bit = 1 << (b & 31);
    if ((Atomics.and(this.words, w, ~bit) & ~bit) !== 0) return;
    // Word w of `level` (index j within the level) became empty: clear its bit one level up, then
    // re-check the word; a concurrent add may have refilled it, and its bit must not stay cleared.
    let j = b >>> 5;
    for (let level = 0; level < this.top; level++) {
      const up = this.base[level + 1]! + (j >>> 5);
      const upBit = 1 << (j & 31);
      const upBefore = Atomics.and(this.words, up, ~upBit);
      if (Atomics.load(this.words, w) !== 0) {
        this.setFrom(level + 1, j);
        return;
      }
      if ((upBefore & ~upBit) !== 0) return;
      w = up;
      j >>>= 5;
    }
  }

  /** Sets bit i of `level` and its summary bits above. */
  private setFrom(level: number, i: number): void {
    for (let l = level; l <= this.top; l++) {
      Atomics.or(this.words, this.base[l]! + (i >>> 5), 1 << (i & 31));
      i >>>= 5;
    }
  }

  /** Smallest member in [from, to), or -1. */
  next(from: number, to: number): number {
    if (from >= to) return -1;
    return this.find(0, from, to - 1);
  }

  /** Smallest set bit ≥ i and ≤ last at `level` (in that level's bit numbering), or -1. */
  private find(level: number, i: number, last: number): number {
    const base = this.base[level]!;
    while (i <= last) {
      const w = i >>> 5;
      const bits = Atomics.load(this.words, base + w) & (-1 << (i & 31));
      if (bits !== 0) {
        const r = (w << 5) + (31 - Math.clz32(bits & -bits));
        return r <= last ? r : -1;
      }
      if (level === this.top) return -1;
      // Skip empty words using the level above; a stale summary bit just brings us back here.
      const nw = this.find(level + 1, w + 1, last >>> 5);
      if (nw < 0) return -1;
      i = nw << 5;
    }
    return -1;
  }

  /** Members, counted word by word (fsck and tests; not a hot path). */
  count(): number {
    let n = 0;
    for (let w = 0; w < this.sizes[0]!; w++) {
      let v = Atomics.load(this.words, w);
      while (v !== 0) { v &= v - 1; n++; }
    }
    return n;
  }

  /** Whether every non-empty word has its bit set in the level above (fsck). */
  summaryConsistent(): boolean {
    for (let level = 0; level < this.top; level++) {
      for (let w = 0; w < this.sizes[level]!; w++) {
        if (Atomics.load(this.words, this.base[level]! + w) === 0) continue;
        if ((Atomics.load(this.words, this.base[level + 1]! + (w >>> 5)) & (1 << (w & 31))) === 0) return false;
      }
    }
    return true;
  }
}
