/**
 * The bucket table: one alloc record per bucket, RECORD_WORDS int32 words each (two records per
 * 64-byte line), record b at word b * RECORD_WORDS of the `records` section:
 *
 *   [0] lock    key lock (an RwLockArray word). Every update takes it for write; the key-lock fix and
 *               the freelist allocator's locked lookup take it for read across check and publish.
 *   [1] seq     sequence count (SeqCount semantics): odd while an update is being applied, and every
 *               applied update moves it by 2. The seqlock fix remembers it while scanning and
 *               re-checks it under the freelist lock. An update stores seq0 + 1 and then seq0 + 2
 *               (absolute values from its intent record, so a recovering thread can redo it).
 *   [2] state   packed, so that a scan learns "free?" and the gen from one Atomics.load, and so that
 *               an update changes what a lock-free reader trusts in exactly one store:
 *                 bits  0..7   gen         bumped when an emptied bucket is reused
 *                 bits  8..15  oldest_gen  oldest gen a live pointer may still carry
 *                 bits 16..19  data_type   derived: dirty > 0 → writer's type; cached > 0 → cached;
 *                                          need_discard flag → need_discard; else free
 *                 bits 20..23  flags       need_discard, need_inc_gen, emptied
 *   [3] dirty_sectors
 *   [4] cached_sectors
 *   [5] cycleWriter  writer of the allocation that holds this gen's data (meaningful when cycleOp ≠ 0)
 *   [6..7] cycleOp   (one float64) operation id of that allocation, 0 when the bucket has held no
 *                    data at this gen. Only one allocation may ever write into a bucket per gen: a
 *                    commit from another is a duplicate allocation's write, and fsck checks that
 *                    every live extent at the current gen carries this id.
 *
 * Writers change words only under the record's write lock. `lock`, `seq` and `state` are read
 * without it — by the allocator's scan, the seqlock fix, the key lock itself — so they are always
 * accessed with Atomics. dirty, cached and the cycle words are read only under the record lock
 * (updates) or by fsck with nothing running, so plain access is enough: the lock's compareExchanges
 * order them. cycleOp is a float64 (a 64-bit operation id held exactly); an aligned float64 element
 * never tears.
 */
import { DataType, Flag } from './types.js';

export const RECORD_WORDS = 8;
export const Rec = { lock: 0, seq: 1, state: 2, dirty: 3, cached: 4, cycleWriter: 5 } as const;
/** Index of cycleOp in a Float64Array over the records section: record b's at b * RECORD_F64 + 3. */
export const RECORD_F64 = RECORD_WORDS / 2;
export const REC_CYCLE_OP_F64 = 3;

export function packState(gen: number, oldestGen: number, dataType: number, flags: number): number {
  return (gen & 0xff) | ((oldestGen & 0xff) << 8) | ((dataType & 0xf) << 16) | ((flags & 0xf) << 20);
}

export const stateGen = (s: number): number => s & 0xff;
export const stateOldestGen = (s: number): number => (s >>> 8) & 0xff;
export const stateType = (s: number): number => (s >>> 16) & 0xf;
export const stateFlags = (s: number): number => (s >>> 20) & 0xf;

/**
 * The one rule for a record's data type. `dirtyType` is the type of the dirty data (user or btree),
 * which a record with dirty sectors keeps as its type.
 */
export function deriveType(dirty: number, cached: number, flags: number, dirtyType: number): number {
  if (dirty > 0) return dirtyType;
  if (cached > 0) return DataType.cached;
  if ((flags & Flag.need_discard) !== 0) return DataType.need_discard;
  return DataType.free;
}
