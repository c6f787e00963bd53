/**
 * Intent records: what a member is about to change, written before the first shared write of every
 * multi-word update, so that a thread that dies half-way through leaves enough behind for another
 * thread to finish the update. This is redo logging, as a journaling filesystem does it: every value
 * an update stores is computed first (absolute values, never "+1"), written here, and the update is
 * then applied by the same function a recovering thread calls with this record (a record update is
 * applied from the RecordUpdate it was copied from, which holds the same values: record-update.ts;
 * publish and unpin from the record itself). Applying a record
 * twice stores the same values twice, so a redo after a partial apply, or after a complete one whose
 * thread died before clearing the record, leaves exactly the state the update meant.
 *
 * An update runs under one lock that protects everything it writes (a bucket's record lock, or the
 * open-bucket freelist lock), and the record is valid only while that lock is held:
 *
 *   1. take the lock              (a taker that finds the holder dead redoes the holder's record)
 *   2. read, check, compute       throws leave nothing behind: nothing shared is written yet
 *   3. fill the record, then
 *      publish it by its kind
 *   4. apply the record
 *   5. clear the kind, unlock
 *
 * `intents` section: members × INTENT_WORDS (64 words, four cache lines), member m's at m × 64.
 * Words 0..31 depend on the kind; 32..40 and the float64s 24..31 (words 48..63) are common:
 *
 *   [0]  kind        0 none; IntentKind.record / publish / unpin
 *   [1]  target      the bucket whose record lock is held (record), -1 (the freelist lock)
 *
 *   record update (commit, free, discard) — bucket b's record, its indexes, its extent; written
 *   from a RecordUpdate (record-update.ts), field for field:
 *   [2]  seq0        the record's sequence before: applied as seq0 + 1, …, seq0 + 2
 *   [3]  state  [4] dirty  [5] cached  [6] cycleWriter   the record after
 *   [7]  indexOps    IndexOp bits: free-space / need-discard add and remove
 *   f64 [4] (words 8..9)  cycleOp after
 *   [10] extent id (-1 none)   [11] extent op: 0 none, 1 make live, 2 release
 *   [12] extent offset  [13] sectors  [14] gen|dataType  [15] writer   (its bucket is the target)
 *   f64 [8] (words 16..17) extent opId
 *        the extent's sector-map entries, b × bucketSectors + offset onwards, are filled with id + 1
 *        when it is made live, and cleared (where they still hold id + 1) when it is released
 *   [23] open slot a commit wrote through (-1 none)  [25] its oracle word after (its sectorsFree
 *        after is bucketSectors − offset − sectors: the commit took the sectors after the offset)
 *
 *   publish — open slot s for bucket b:
 *   [2] slot [3] bucket [4] gen [5] dataType [6] sectors [7] writer [10] watermark [11] member
 *   [12] oracle word  [13] freelist head after  [14] free count after  [15] hash chain  [16] chain head before
 *   f64 [4] (words 8..9) opId
 *
 *   unpin — drop a pin of open slot s; the last one unhashes it and frees it:
 *   [2] slot [3] pin after [4] last (1: unhash and free) [5] link kind (0 chain head, 1 a slot's
 *   hashNext) [6] link index [7] link value [8] freelist head before [9] free count after
 *
 *   common — counters after (absolute values; see counters.ts), in the block starting at [41]:
 *   the member's own, or a dead member's whose open slots a recovering member puts:
 *   [32] how many (≤ 8)   [33..40] counter offsets   [41] block base   f64 [24..31] (words 48..63) values
 *
 * Only the member writes its own record, and only while holding the lock the record names; a
 * recovering thread reads it after the member died, under the same lock (taken over). Every word of
 * it, the kind included, is written with plain stores: nobody reads a live member's record, and a
 * dead member's is read only after its thread has stopped — a death is reported from the thread's
 * exit, and a robust lock lets a waiter take over only after that report — so every store the thread
 * made is in memory, in program order (the engine keeps stores to a typed array in program order;
 * JavaScript cannot stop a thread between two of them except at a call or a loop's back edge).
 * Seq-cst stores here would add two Atomics operations to every update for no reader.
 */

export const INTENT_WORDS = 64;
export const INTENT_F64 = INTENT_WORDS / 2;

export const IntentKind = { none: 0, record: 1, publish: 2, unpin: 3 } as const;

export const I = {
  kind: 0,
  target: 1,
  // record update
  seq0: 2, state: 3, dirty: 4, cached: 5, cycleWriter: 6, indexOps: 7,
  extId: 10, extOp: 11, extOffset: 12, extSectors: 13, extGenType: 14, extWriter: 15,
  obSlot: 23, obOracle: 25,
  // publish
  slot: 2, bucket: 3, gen: 4, dataType: 5, sectors: 6, writer: 7, watermark: 10, member: 11, oracle: 12,
  freeHead: 13, freeCount: 14, chain: 15, chainHead: 16,
  // unpin
  pin: 3, last: 4, linkKind: 5, linkIndex: 6, linkValue: 7, freeHeadBefore: 8, freeCountAfter: 9,
  // common
  counterCount: 32, counterOffsets: 33, counterBase: 41,
} as const;

/** Float64 indices within a member's record (×2 for the word index). */
export const IF = { cycleOp: 4, extOpId: 8, opId: 4, counterValues: 24 } as const;

export const ExtOp = { none: 0, live: 1, release: 2 } as const;
export const IndexOp = { freeSpaceAdd: 1, freeSpaceRemove: 2, needDiscardAdd: 4, needDiscardRemove: 8 } as const;

/** A member's intent record: the int32 and float64 views and where the member's record starts. */
export interface IntentView {
  i32: Int32Array;
  f64: Float64Array;
  /** Word index of the member's record in i32. */
  at: number;
  /** Float64 index of the member's record in f64. */
  atF: number;
}

/** Resets the counter targets, ready for an update to add its own to the block at `ctrBase`. */
export function clearCounterTargets(v: IntentView, ctrBase: number): void {
  v.i32[v.at + I.counterCount] = 0;
  v.i32[v.at + I.counterBase] = ctrBase;
}

/**
 * Adds a counter target: the member's counter at `offset` becomes `value` when the record is
 * applied. The live path passes "current + 1"; the value is absolute, so a redo cannot count twice.
 */
export function addCounterTarget(v: IntentView, offset: number, value: number): void {
  const n = v.i32[v.at + I.counterCount]!;
  v.i32[v.at + I.counterOffsets + n] = offset;
  v.f64[v.atF + IF.counterValues + n] = value;
  v.i32[v.at + I.counterCount] = n + 1;
}

/** Stores the counter targets into their counter block. */
export function applyCounterTargets(v: IntentView, ctr: Float64Array): void {
  const n = v.i32[v.at + I.counterCount]!;
  const base = v.i32[v.at + I.counterBase]!;
  for (let k = 0; k < n; k++) ctr[base + v.i32[v.at + I.counterOffsets + k]!] = v.f64[v.atF + IF.counterValues + k]!;
}

/** Makes the filled record valid: from here on a redo finishes the update. */
export function publishIntent(v: IntentView, kind: number): void {
  v.i32[v.at + I.kind] = kind;
}

/** The update is applied: nothing to redo. */
export function clearIntent(v: IntentView): void {
  v.i32[v.at + I.kind] = IntentKind.none;
}

export function intentKind(v: IntentView): number {
  return Atomics.load(v.i32, v.at + I.kind);
}
