/**
 * Per-device words: the allocation cursor, id counters, the open-bucket freelist lock and its list,
 * usage counters and error counts. One i32 section of DEVICE_WORDS, grouped by cache line so that
 * words written by different paths do not false-share:
 *
 *   line 0  [0] cursor          next bucket a scan starts from (cursor fix); racy hint, Atomics
 *           [1] discardCursor   where the discard step resumes
 *           [2] opSeq           last operation id handed out (Atomics.add per allocation)
 *           [4..9] behaviour    allocator, fix, cursorFix, freelistLookup, discard, lockTimeoutMs as
 *                               created: attach refuses a handle whose config would run other rules
 *                               over the same memory
 *   line 1  [16] freelist lock  Mutex word guarding every open-bucket slot change and the hash
 *           [17] slotFreeHead   first unused slot (0 = none); changed under the freelist lock
 *           [18] slotFreeCount  unused slots; under the lock, read lock-free for a reserve hint
 *   line 2  [32 + t] buckets of data type t (DataType 0..4), Atomics.add inside commits
 *           [40 + t] sectors of data type t
 *   line 3  [48 + k] errors of kind k (ErrorKind 1..3) recorded in the error log
 *           [52] errorTotal     errors recorded (the log keeps the first `errorLogSize`)
 */
export const DEVICE_WORDS = 64;

export const Dev = {
  cursor: 0,
  discardCursor: 1,
  opSeq: 2,
  behaviour: 4,
  freelistLock: 16,
  slotFreeHead: 17,
  slotFreeCount: 18,
  bucketsByType: 32,
  sectorsByType: 40,
  errorsByKind: 48,
  errorTotal: 52,
} as const;
