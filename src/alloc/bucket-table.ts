/**
 * The bucket table: one alloc record per bucket, RECORD_WORDS int32 words each (two records per
 * 64-byte line), record b at word b * RECORD_WORDS of the `records` section:
 *
 *   [0] lock    key lock (an RwLockArray word). Every commit takes it for write; the key-lock fix and
 *               the freelist allocator's locked lookup take it for read across check and publish.
 *   [1] seq     sequence count (SeqCount semantics): +1 before a commit changes the record, +1 after,
 *               so it is odd mid-commit and every committed change moves it by 2. The seqlock fix
 *               remembers it while scanning and re-checks it under the freelist lock.
 *   [2] state   packed, so that a scan learns "free?" and the gen from one Atomics.load:
 *                 bits  0..7   gen         bumped when an emptied bucket is reused
 *                 bits  8..15  oldest_gen  oldest gen a live pointer may still carry
 *                 bits 16..19  data_type   derived: dirty > 0 → writer's type; cached > 0 → cached;
 *                                          need_discard flag → need_discard; else free
 *                 bits 20..23  flags       need_discard, need_inc_gen
 *   [3] dirty_sectors
 *   [4] cached_sectors
 *   [5] lastOwner   owner of the last commit (names the other party in an error report)
 *   [6] lastOp      operation id of the allocation behind the last commit
 *   [7] (unused)
 *
 * Writers change words only under the record's write lock. `lock`, `seq` and `state` are read
 * without it — by the allocator's scan, the seqlock fix, the key lock itself — so they are always
 * accessed with Atomics. dirty, cached, lastOwner and lastOp are read only under the record lock
 * (commits, free, discard) or by fsck with nothing running, so plain access is enough: the lock's
 * compareExchanges order them, and the commit path saves eight Atomics operations.
 */
import { DataType, Flag } from './types.js';

export const RECORD_WORDS = 8;
export const Rec = { lock: 0, seq: 1, state: 2, dirty: 3, cached: 4, lastOwner: 5, lastOp: 6 } as const;

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
