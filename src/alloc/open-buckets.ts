/**
 * Open buckets: buckets handed to a writer and not yet released, published in a hash so that no
 * other allocation takes them. Slot 0 is the null index (a chain or freelist link of 0 means "none"),
 * as in bcachefs.
 *
 * `slots` section: openBuckets slots of SLOT_WORDS (16 words = one 64-byte line, so writers filling
 * their own open buckets do not false-share):
 *
 *   [0] valid        1 while the slot holds an open bucket
 *   [1] bucket
 *   [2] gen          the record's gen captured at open; every extent written through it carries it
 *   [3] dataType     what the writer will put there (DataType)
 *   [4] sectorsFree  sectors left; only the slot's writer changes it
 *   [5] pin          references; the open sets 1, the last put releases the slot
 *   [6] freeNext     next unused slot (slot freelist)
 *   [7] hashNext     next slot in the same hash chain
 *   [8] owner        who opened it (error reports)
 *   [9] opId         the allocation's operation id
 *   [10] watermark   0 normal, 1 btree, 2 reclaim
 *
 * `hash` section: hashSize(openBuckets) chain heads (a power of two ≥ the slot count), chain for
 * bucket b at b & (size − 1).
 *
 * The slot freelist head and count, and the freelist lock (a Mutex, one word) live in the device
 * words. Every change to slots, chains and the freelist happens under that lock. `isOpen` walks a
 * chain without it — a hint, as bch2_bucket_is_open is — so chain links and the fields it reads are
 * stored with Atomics, and the walk is bounded by the slot count because a slot can be recycled into
 * another chain under a walking reader. `isOpenSafe` repeats the walk under the lock.
 */
import { Mutex } from '../locks/mutex.js';
import { Dev } from './device.js';
import type { Watermark } from './types.js';

export const SLOT_WORDS = 16;
export const Slot = {
  valid: 0, bucket: 1, gen: 2, dataType: 3, sectorsFree: 4, pin: 5, freeNext: 6, hashNext: 7, owner: 8, opId: 9, watermark: 10,
} as const;

export const WATERMARK_CODES: Record<Watermark, number> = { normal: 0, btree: 1, reclaim: 2 };

export function hashSize(openBuckets: number): number {
  let n = 1;
  while (n < openBuckets) n <<= 1;
  return n;
}

export interface OpenSlotFields {
  bucket: number;
  gen: number;
  dataType: number;
  sectors: number;
  owner: number;
  opId: number;
  watermark: number;
}

export class OpenBuckets {
  readonly count: number;
  readonly usable: number;
  readonly lock: Mutex;
  private readonly slots: Int32Array;
  private readonly heads: Int32Array;
  private readonly dev: Int32Array;
  private readonly mask: number;

  constructor(slots: Int32Array, heads: Int32Array, dev: Int32Array, count: number) {
    this.slots = slots;
    this.heads = heads;
    this.dev = dev;
    this.count = count;
    this.usable = count - 1;
    this.mask = heads.length - 1;
    this.lock = new Mutex(dev, Dev.freelistLock, { name: 'open-bucket freelist lock' });
  }

  /** Puts every slot but 0 on the freelist. Creation only. */
  init(): void {
    for (let s = 1; s < this.count; s++) {
      Atomics.store(this.slots, s * SLOT_WORDS + Slot.freeNext, s + 1 < this.count ? s + 1 : 0);
    }
    Atomics.store(this.dev, Dev.slotFreeHead, this.count > 1 ? 1 : 0);
    Atomics.store(this.dev, Dev.slotFreeCount, this.usable);
  }

  /** Lock-free hint: is bucket b in the open-bucket hash right now? */
  isOpen(b: number): boolean {
    let s = Atomics.load(this.heads, b & this.mask);
    for (let steps = 0; s !== 0 && steps < this.count; steps++) {
      if (Atomics.load(this.slots, s * SLOT_WORDS + Slot.bucket) === b) return true;
      s = Atomics.load(this.slots, s * SLOT_WORDS + Slot.hashNext);
    }
    return false;
  }

  /** Authoritative: the same walk under the freelist lock. */
  isOpenSafe(b: number, timeoutMs: number): boolean {
    this.lock.lock(timeoutMs);
    try {
      return this.isOpen(b);
    } finally {
      this.lock.unlock();
    }
  }

  /** Unused slots (a lock-free snapshot outside the lock, exact under it). */
  freeSlots(): number {
    return Atomics.load(this.dev, Dev.slotFreeCount);
  }

  /**
   * Whether an allocation at `watermark` may take a slot when `free` slots are unused. The reserve
   * is a fraction of the whole table, slot 0 included, as bcachefs's OPEN_BUCKETS_COUNT / 2 and / 4.
   */
  reserveAllows(watermark: number, free: number): boolean {
    if (watermark === 0) return free > this.count >>> 1;
    if (watermark === 1) return free > this.count >>> 2;
    return free > 0;
  }

  /** Takes a slot and publishes it in the hash. Caller holds the lock and checked the reserve. */
  publish(f: OpenSlotFields): number {
    const slot = Atomics.load(this.dev, Dev.slotFreeHead);
    const at = slot * SLOT_WORDS;
    Atomics.store(this.dev, Dev.slotFreeHead, Atomics.load(this.slots, at + Slot.freeNext));
    Atomics.sub(this.dev, Dev.slotFreeCount, 1);
    Atomics.store(this.slots, at + Slot.bucket, f.bucket);
    Atomics.store(this.slots, at + Slot.gen, f.gen);
    Atomics.store(this.slots, at + Slot.dataType, f.dataType);
    Atomics.store(this.slots, at + Slot.sectorsFree, f.sectors);
    Atomics.store(this.slots, at + Slot.pin, 1);
    Atomics.store(this.slots, at + Slot.owner, f.owner);
    Atomics.store(this.slots, at + Slot.opId, f.opId);
    Atomics.store(this.slots, at + Slot.watermark, f.watermark);
    Atomics.store(this.slots, at + Slot.freeNext, 0);
    Atomics.store(this.slots, at + Slot.valid, 1);
    const h = f.bucket & this.mask;
    Atomics.store(this.slots, at + Slot.hashNext, Atomics.load(this.heads, h));
    Atomics.store(this.heads, h, slot);
    return slot;
  }

  /** Drops one pin; the last one unhashes the slot and frees it. Caller holds the lock. */
  unpin(slot: number): boolean {
    const at = slot * SLOT_WORDS;
    const pin = Atomics.sub(this.slots, at + Slot.pin, 1) - 1;
    if (pin > 0) return false;
    this.unhash(slot);
    Atomics.store(this.slots, at + Slot.valid, 0);
    Atomics.store(this.slots, at + Slot.freeNext, Atomics.load(this.dev, Dev.slotFreeHead));
    Atomics.store(this.dev, Dev.slotFreeHead, slot);
    Atomics.add(this.dev, Dev.slotFreeCount, 1);
    return true;
  }

  private unhash(slot: number): void {
    const h = Atomics.load(this.slots, slot * SLOT_WORDS + Slot.bucket) & this.mask;
    const next = Atomics.load(this.slots, slot * SLOT_WORDS + Slot.hashNext);
    let s = Atomics.load(this.heads, h);
    if (s === slot) {
      Atomics.store(this.heads, h, next);
      return;
    }
    for (let steps = 0; s !== 0 && steps < this.count; steps++) {
      const link = s * SLOT_WORDS + Slot.hashNext;
      const n = Atomics.load(this.slots, link);
      if (n === slot) {
        Atomics.store(this.slots, link, next);
        return;
      }
      s = n;
    }
    throw new Error(`open-bucket hash corrupt: slot ${slot} is not in chain ${h}`);
  }

  field(slot: number, word: number): number {
    return Atomics.load(this.slots, slot * SLOT_WORDS + word);
  }

  setField(slot: number, word: number, value: number): void {
    Atomics.store(this.slots, slot * SLOT_WORDS + word, value);
  }

  /** Chain head for bucket b's hash bucket (fsck). */
  head(b: number): number {
    return Atomics.load(this.heads, b & this.mask);
  }

  get hashSize(): number {
    return this.heads.length;
  }
}
