/**
 * The extent table: what has been written where — the model's extents btree. fsck checks it against
 * the records and backpointers; a torture worker frees its extents through it.
 *
 * `extents` section: capacity × EXTENT_WORDS (8 words, 32 bytes), extent id = slot index:
 *
 *   [0] state     0 free, 1 claimed (being written), 2 live
 *   [1] bucket
 *   [2] gen       gen of the open bucket it was written through (a pointer's gen)
 *   [3] offset    first sector within the bucket
 *   [4] sectors
 *   [5] dataType
 *   [6] owner
 *   [7] opId      allocation that opened the bucket it went into
 *
 * Slots are claimed lock-free (compareExchange 0 → 1) starting from a per-thread hint, so threads
 * writing at once rarely meet; the table is sized well above the live extent count, which keeps the
 * search short. So `state` is always accessed with Atomics. The other words are written inside the
 * commit and read by free and by later commits, all under the record lock of the extent's bucket
 * (or by fsck, with nothing running): plain typed-array access, no Atomics on the write path.
 */
import { ConfigError } from '../shared/validate.js';

export const EXTENT_WORDS = 8;
export const Ext = { state: 0, bucket: 1, gen: 2, offset: 3, sectors: 4, dataType: 5, owner: 6, opId: 7 } as const;
export const EXTENT_FREE = 0;
export const EXTENT_CLAIMED = 1;
export const EXTENT_LIVE = 2;

export class ExtentTable {
  readonly capacity: number;
  readonly words: Int32Array;
  private hint: number;

  constructor(words: Int32Array, capacity: number, hint: number) {
    this.words = words;
    this.capacity = capacity;
    this.hint = hint % capacity;
  }

  /** Claims a free slot; throws when the table is full (the `extents` option is too small). */
  claim(): number {
    const n = this.capacity;
    let id = this.hint;
    for (let i = 0; i < n; i++) {
      if (Atomics.load(this.words, id * EXTENT_WORDS) === EXTENT_FREE
        && Atomics.compareExchange(this.words, id * EXTENT_WORDS, EXTENT_FREE, EXTENT_CLAIMED) === EXTENT_FREE) {
        this.hint = id + 1 === n ? 0 : id + 1;
        return id;
      }
      id = id + 1 === n ? 0 : id + 1;
    }
    throw new ConfigError('extents', `extent table full: all ${n} slots hold live extents; create the filesystem with a larger \`extents\``);
  }

  release(id: number): void {
    Atomics.store(this.words, id * EXTENT_WORDS, EXTENT_FREE);
  }

  state(id: number): number {
    return Atomics.load(this.words, id * EXTENT_WORDS);
  }

  publish(id: number): void {
    Atomics.store(this.words, id * EXTENT_WORDS, EXTENT_LIVE);
  }

  /** A field other than state; the caller holds the extent's bucket's record lock. */
  get(id: number, word: number): number {
    return this.words[id * EXTENT_WORDS + word]!;
  }

  /** A field other than state; the caller holds the extent's bucket's record lock. */
  set(id: number, word: number, value: number): void {
    this.words[id * EXTENT_WORDS + word] = value;
  }
}
