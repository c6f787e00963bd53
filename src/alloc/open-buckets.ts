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
 *   [4] sectorsFree  sectors left; changed only by commits through this slot, under the bucket's
 *                    record lock (and each commit's intent record holds the value after)
 *   [5] pin          references; the open sets 1, the last put releases the slot
 *   [6] freeNext     next unused slot (slot freelist)
 *   [7] hashNext     next slot in the same hash chain
 *   [8] writer       who opened it (error reports)
 *   [9] watermark    0 normal, 1 btree, 2 reclaim
 *   [10..11] opId    (one float64) the allocation's operation id
 *   [12] member      the thread-registry member that opened it: recovery puts a dead member's slots
 *   [13] oracle      OracleBit: the allocation oracle's verdict at publish (duplicate or not) and
 *                    what the duplicate's writes have broken since (see oracle.ts)
 *
 * `hash` section: hashSize(openBuckets) chain heads (a power of two ≥ the slot count), chain for
 * bucket b at b & (size − 1).
 *
 * The slot freelist head and count, and the freelist lock (a Mutex, one word) live in the device
 * words. Every change to slots, chains and the freelist happens under that lock, through an intent
 * record (intents.ts): plan* reads the structure and fills the record, apply* stores it; under the
 * lock, plain reads and writes are ordered by the lock's compareExchanges (so a reader holding the
 * lock reads plainly: isOpenLocked, freeSlotsLocked). `isOpen` walks a chain without the lock — a
 * hint, as bch2_bucket_is_open is — so every store that links or unlinks a slot (a chain head, a
 * hashNext) and the words other lock-free hints read (a slot's valid, the free count) are stored
 * with Atomics; a new slot's own bucket and hashNext are stored plainly before the Atomics store of
 * the head that publishes them (see applyPublish). The walk is bounded by the slot count because a
 * slot can be recycled into another chain under a walking reader.
 */
import { Mutex } from '../locks/mutex.js';
import type { ThreadRegistry } from '../locks/thread-registry.js';
import { Dev } from './device.js';
import { I, IF, type IntentView } from './intents.js';

export const SLOT_WORDS = 16;
export const SLOT_F64 = SLOT_WORDS / 2;
export const SLOT_OP_F64 = 5;
export const Slot = {
  valid: 0, bucket: 1, gen: 2, dataType: 3, sectorsFree: 4, pin: 5, freeNext: 6, hashNext: 7, writer: 8, watermark: 9,
  member: 12, oracle: 13,
} as const;

export function hashSize(openBuckets: number): number {
  let n = 1;
  while (n < openBuckets) n <<= 1;
  return n;
}

/** What a publish records in its slot (alloc-publish.ts's AllocAttempt has these). */
export interface OpenSlotFields {
  gen: number;
  dataType: number;
  writer: number;
  opId: number;
  watermark: number;
}

/**
 * The open-bucket table: slots for buckets handed to writers and not yet put, hashed by bucket, with
 * the slot freelist and the freelist lock (`fs.open`). Changed only under that lock.
 */
export class OpenBuckets {
  readonly count: number;
  readonly usable: number;
  readonly lock: Mutex;
  readonly slots: Int32Array;
  private readonly slotsF64: Float64Array;
  private readonly heads: Int32Array;
  private readonly dev: Int32Array;
  private readonly mask: number;

  constructor(slots: Int32Array, heads: Int32Array, dev: Int32Array, count: number, registry?: ThreadRegistry) {
    this.slots = slots;
    this.slotsF64 = new Float64Array(slots.buffer, slots.byteOffset, slots.length >>> 1);
    this.heads = heads;
    this.dev = dev;
    this.count = count;
    this.usable = count - 1;
    this.mask = heads.length - 1;
    this.lock = new Mutex(dev, Dev.freelistLock, { name: 'open-bucket freelist lock', ...(registry ? { registry } : {}) });
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

  /**
   * isOpen for a caller holding the freelist lock: every chain word is stored under that lock, whose
   * compareExchanges order them, so plain reads are exact here — and an Atomics call costs as much
   * as the rest of a short walk.
   */
  isOpenLocked(b: number): boolean {
    let s = this.heads[b & this.mask]!;
    for (let steps = 0; s !== 0 && steps < this.count; steps++) {
      if (this.slots[s * SLOT_WORDS + Slot.bucket] === b) return true;
      s = this.slots[s * SLOT_WORDS + Slot.hashNext]!;
    }
    return false;
  }

  /** Unused slots (a lock-free snapshot outside the lock, exact under it). */
  freeSlots(): number {
    return Atomics.load(this.dev, Dev.slotFreeCount);
  }

  /** freeSlots for a caller holding the freelist lock (a plain read is exact there, as in isOpenLocked). */
  freeSlotsLocked(): number {
    return this.dev[Dev.slotFreeCount]!;
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

  /**
   * @internal Fills a publish intent for `bucket`: take the freelist head, link it at its chain's head, fill
   * it from `f` (and the bucket's size, the opening member, the oracle's verdict). Caller holds the lock.
   */
  planPublish(v: IntentView, bucket: number, f: OpenSlotFields, sectors: number, member: number, oracle: number): number {
    const slot = this.dev[Dev.slotFreeHead]!;
    const w = v.i32;
    const at = v.at;
    w[at + I.target] = -1;
    w[at + I.slot] = slot;
    w[at + I.bucket] = bucket;
    w[at + I.gen] = f.gen;
    w[at + I.dataType] = f.dataType;
    w[at + I.sectors] = sectors;
    w[at + I.writer] = f.writer;
    w[at + I.watermark] = f.watermark;
    w[at + I.member] = member;
    w[at + I.oracle] = oracle;
    v.f64[v.atF + IF.opId] = f.opId;
    w[at + I.freeHead] = this.slots[slot * SLOT_WORDS + Slot.freeNext]!;
    w[at + I.freeCount] = this.dev[Dev.slotFreeCount]! - 1;
    const chain = bucket & this.mask;
    w[at + I.chain] = chain;
    w[at + I.chainHead] = this.heads[chain]!;
    return slot;
  }

  /**
   * @internal Stores a publish intent. The slot's fields go first and the chain head last, with
   * Atomics: a lock-free walker (isOpen) that loads the new head synchronizes with that store, so it
   * finds the slot's bucket and hashNext filled in although they were stored plainly before it. The
   * other words a lock-free reader looks at — the slot's valid (a handle's own look at its slot) and
   * the free count (the reserve hint) — are stored with Atomics; the rest are read under the freelist
   * lock or by the slot's own writer, and the lock's release orders them.
   */
  applyPublish(v: IntentView, midway: (() => void) | null = null): void {
    const w = v.i32;
    const at = v.at;
    const slot = w[at + I.slot]!;
    const s = slot * SLOT_WORDS;
    const sl = this.slots;
    this.dev[Dev.slotFreeHead] = w[at + I.freeHead]!;
    Atomics.store(this.dev, Dev.slotFreeCount, w[at + I.freeCount]!);
    sl[s + Slot.bucket] = w[at + I.bucket]!;
    sl[s + Slot.gen] = w[at + I.gen]!;
    sl[s + Slot.dataType] = w[at + I.dataType]!;
    sl[s + Slot.sectorsFree] = w[at + I.sectors]!;
    sl[s + Slot.pin] = 1;
    sl[s + Slot.writer] = w[at + I.writer]!;
    sl[s + Slot.watermark] = w[at + I.watermark]!;
    this.slotsF64[slot * SLOT_F64 + SLOT_OP_F64] = v.f64[v.atF + IF.opId]!;
    sl[s + Slot.member] = w[at + I.member]!;
    sl[s + Slot.oracle] = w[at + I.oracle]!;
    sl[s + Slot.freeNext] = 0;
    if (midway !== null) midway();
    sl[s + Slot.hashNext] = w[at + I.chainHead]!;
    Atomics.store(sl, s + Slot.valid, 1);
    Atomics.store(this.heads, w[at + I.chain]!, slot);
  }

  /** @internal Fills an unpin intent: drop one pin; the last unhashes the slot and frees it. Caller holds the lock. */
  planUnpin(v: IntentView, slot: number): boolean {
    const w = v.i32;
    const at = v.at;
    const s = slot * SLOT_WORDS;
    const pin = this.slots[s + Slot.pin]! - 1;
    w[at + I.target] = -1;
    w[at + I.slot] = slot;
    w[at + I.pin] = pin;
    w[at + I.last] = pin > 0 ? 0 : 1;
    if (pin > 0) return false;
    const chain = this.slots[s + Slot.bucket]! & this.mask;
    const next = this.slots[s + Slot.hashNext]!;
    let c = this.heads[chain]!;
    if (c === slot) {
      w[at + I.linkKind] = 0;
      w[at + I.linkIndex] = chain;
    } else {
      let found = false;
      for (let steps = 0; c !== 0 && steps < this.count; steps++) {
        const n = this.slots[c * SLOT_WORDS + Slot.hashNext]!;
        if (n === slot) { found = true; break; }
        c = n;
      }
      if (!found) throw new Error(`open-bucket hash corrupt: slot ${slot} is not in chain ${chain}`);
      w[at + I.linkKind] = 1;
      w[at + I.linkIndex] = c;
    }
    w[at + I.linkValue] = next;
    w[at + I.freeHeadBefore] = this.dev[Dev.slotFreeHead]!;
    w[at + I.freeCountAfter] = this.dev[Dev.slotFreeCount]! + 1;
    return true;
  }

  /** @internal Stores an unpin intent. The slot leaves its chain before it is marked invalid and reused. */
  applyUnpin(v: IntentView, midway: (() => void) | null = null): void {
    const w = v.i32;
    const at = v.at;
    const slot = w[at + I.slot]!;
    const s = slot * SLOT_WORDS;
    this.slots[s + Slot.pin] = w[at + I.pin]!;
    if (w[at + I.last] !== 1) return;
    if (w[at + I.linkKind] === 0) Atomics.store(this.heads, w[at + I.linkIndex]!, w[at + I.linkValue]!);
    else Atomics.store(this.slots, w[at + I.linkIndex]! * SLOT_WORDS + Slot.hashNext, w[at + I.linkValue]!);
    if (midway !== null) midway();
    Atomics.store(this.slots, s + Slot.valid, 0);
    this.slots[s + Slot.freeNext] = w[at + I.freeHeadBefore]!;
    this.dev[Dev.slotFreeHead] = slot;
    Atomics.store(this.dev, Dev.slotFreeCount, w[at + I.freeCountAfter]!);
  }

  /** Word `word` of slot `slot` (the slot layout is in src/alloc/open-buckets.ts), read with Atomics. */
  field(slot: number, word: number): number {
    return Atomics.load(this.slots, slot * SLOT_WORDS + word);
  }

  /** The slot's operation id (a float64: ids never wrap). Exact under the lock, a hint outside it. */
  opId(slot: number): number {
    return this.slotsF64[slot * SLOT_F64 + SLOT_OP_F64]!;
  }

  /** Chain head for bucket b's hash bucket (fsck). */
  head(b: number): number {
    return Atomics.load(this.heads, b & this.mask);
  }

  get hashSize(): number {
    return this.heads.length;
  }
}
