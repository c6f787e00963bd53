/**
 * Per-device words: the allocation cursor, the open-bucket freelist lock and its list, the rules the
 * device was created with, and the 64-bit counters that a long run would carry past 2^31.
 *
 * `device` — one i32 section of DEVICE_WORDS, grouped by cache line so that words written by
 * different paths do not false-share:
 *
 *   line 0  [0] cursor          next bucket a scan starts from (cursor fix); racy hint, Atomics
 *           [1] discardCursor   where the discard step resumes
 *           [4..10] behaviour   allocator, fix, cursorFix, freelistLookup, discard, lockTimeoutMs,
 *                               oracle as created: attach refuses a handle whose config would run
 *                               other rules over the same memory
 *   line 1  [16] freelist lock  Mutex word guarding every open-bucket slot change and the hash
 *           [17] slotFreeHead   first unused slot (0 = none); changed under the freelist lock
 *           [18] slotFreeCount  unused slots; under the lock, read lock-free for a reserve hint
 *
 * `device64` — one i64 section (BigInt64Array) of DEVICE64_WORDS, one cache line:
 *
 *   [0] opSeq        last operation id handed out (Atomics.add per allocation). 64-bit: at a few
 *                    hundred thousand allocations a second an int32 would turn negative within hours
 *   [1] errorTotal   errors recorded in the error log (the log keeps the first `errorLogSize`)
 *   [2 + k] errors of kind k (ErrorKind 1..ERROR_KIND_COUNT) — [3..8]
 *
 * Usage (buckets and sectors by data type) is not here: every member keeps its own share in its
 * counter block (see counters.ts), which a recovering thread can set to a known value; a shared
 * Atomics.add could not be known to have happened or not after its thread died.
 */
export const DEVICE_WORDS = 64;
export const DEVICE64_WORDS = 16;

export const Dev = {
  cursor: 0,
  discardCursor: 1,
  behaviour: 4,
  freelistLock: 16,
  slotFreeHead: 17,
  slotFreeCount: 18,
} as const;

export const Dev64 = {
  opSeq: 0,
  errorTotal: 1,
  errorsByKind: 2,
} as const;
