/**
 * The extent table: what has been written where — the model's extents btree. fsck checks it against
 * the records and the sector map; a torture worker frees its extents through it.
 *
 * `extents` section: capacity × EXTENT_WORDS (8 words, 32 bytes), extent id = entry index:
 *
 *   [0] state     0 free; 2 live; EXTENT_CLAIMED_BASE + m claimed by member m, being written
 *   [1] bucket
 *   [2] offset    first sector within the bucket
 *   [3] sectors
 *   [4] gen | dataType << 8    gen of the open bucket it was written through (a pointer's gen),
 *                              and its data type
 *   [5] writer    who wrote it (a writer id, see AllocRequest.writer)
 *   [6..7] opId   (one float64) the allocation that opened the bucket it went into
 *
 * Entries are claimed lock-free (compareExchange free → claimed-by-me) from a per-thread hint, so
 * threads writing at once rarely meet; the table is sized well above the live extent count, which
 * keeps the search short. A claim names its member so that recovery can give back the claims of a
 * thread that died between claiming and committing. `state` is therefore always stored with Atomics
 * (a recovering thread's look at a reused entry relies on the live store too: record-update.ts); it
 * is read plainly only where a compareExchange decides after (a claim's first look) or the bucket's
 * record lock makes the answer exact (free's check of its own extent). The other words are written
 * by the commit and read by free and by later commits, all under the record lock of the extent's
 * bucket (or by fsck, with nothing running): plain access.
 */
import { ConfigError } from '../shared/validate.js';

export const EXTENT_WORDS = 8;
export const Ext = { state: 0, bucket: 1, offset: 2, sectors: 3, genType: 4, writer: 5 } as const;
/** Index of opId in a Float64Array over the section: extent id's at id * EXTENT_F64 + 3. */
export const EXTENT_F64 = EXTENT_WORDS / 2;
export const EXT_OP_F64 = 3;
export const EXTENT_FREE = 0;
export const EXTENT_LIVE = 2;
export const EXTENT_CLAIMED_BASE = 16;

export const packGenType = (gen: number, dataType: number): number => (gen & 0xff) | ((dataType & 0xf) << 8);
export const extentGen = (genType: number): number => genType & 0xff;
export const extentType = (genType: number): number => (genType >>> 8) & 0xf;

/**
 * The extent table (`fs.extents`): what was written where, with the gen and allocation it was
 * written through. Entries are claimed lock-free and filled under the bucket's record lock.
 */
export class ExtentTable {
  readonly capacity: number;
  readonly words: Int32Array;
  readonly f64: Float64Array;
  private hint: number;

  constructor(words: Int32Array, capacity: number, hint: number) {
    this.words = words;
    this.f64 = new Float64Array(words.buffer, words.byteOffset, words.length >>> 1);
    this.capacity = capacity;
    this.hint = hint % capacity;
  }

  /** Claims a free entry for `member`; throws when the table is full (the `extents` option is too small). */
  claim(member: number): number {
    const n = this.capacity;
    const mine = EXTENT_CLAIMED_BASE + member;
    let id = this.hint;
    for (let i = 0; i < n; i++) {
      // A plain look first (the compareExchange decides; an Atomics load would cost as much as it).
      if (this.words[id * EXTENT_WORDS] === EXTENT_FREE
        && Atomics.compareExchange(this.words, id * EXTENT_WORDS, EXTENT_FREE, mine) === EXTENT_FREE) {
        this.hint = id + 1 === n ? 0 : id + 1;
        return id;
      }
      id = id + 1 === n ? 0 : id + 1;
    }
    throw new ConfigError('extents', `extent table full: all ${n} entries hold live extents; create the filesystem with a larger \`extents\``);
  }

  /** Gives back a claim that was never committed (the claimer's own, or a dead member's). */
  unclaim(id: number, member: number): boolean {
    return Atomics.compareExchange(this.words, id * EXTENT_WORDS, EXTENT_CLAIMED_BASE + member, EXTENT_FREE) === EXTENT_CLAIMED_BASE + member;
  }

  /** Entry `id`'s state word: free, live, or claimed by a member (layout in src/alloc/extents.ts). */
  state(id: number): number {
    return Atomics.load(this.words, id * EXTENT_WORDS);
  }

  /** Stores entry `id`'s state word (with Atomics: claims are made lock-free). */
  setState(id: number, state: number): void {
    Atomics.store(this.words, id * EXTENT_WORDS, state);
  }

  /** A field other than state; the caller holds the extent's bucket's record lock. */
  get(id: number, word: number): number {
    return this.words[id * EXTENT_WORDS + word]!;
  }

  /** A field other than state; the caller holds the extent's bucket's record lock. */
  set(id: number, word: number, value: number): void {
    this.words[id * EXTENT_WORDS + word] = value;
  }

  /** The allocation (operation id) whose open bucket extent `id` was written through. */
  opId(id: number): number {
    return this.f64[id * EXTENT_F64 + EXT_OP_F64]!;
  }

  /** Sets extent `id`'s operation id; the caller holds the extent's bucket's record lock. */
  setOpId(id: number, opId: number): void {
    this.f64[id * EXTENT_F64 + EXT_OP_F64] = opId;
  }

  /** Which member holds a claim on this entry, or -1 (free or live). */
  claimedBy(id: number): number {
    const s = this.state(id);
    return s >= EXTENT_CLAIMED_BASE ? s - EXTENT_CLAIMED_BASE : -1;
  }
}
