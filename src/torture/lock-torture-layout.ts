/**
 * Shared memory of a lock torture run: what the runner creates and every torture worker attaches.
 *
 * Region kind "lock-torture", version 2; every section starts on its own 64-byte line:
 *
 *   control   i32 × 16
 *     [0..2]   StartBarrier (arrived, go, stop)
 *     [3]      readers done: seqlock readers that finished their reads (the writer stops at N)
 *     [4]      hammer: writeBegin race runs: 0 not started, 1 hammering, 2 done
 *     [5]      stop: time-boxed loops (the reader crash torture, the race's control) end when it is 1
 *     [6..15]  reserved, zero
 *   lock      i32 × LOCK_WORDS (2)  the lock under test: as many words as the largest lock kind needs
 *                            (see lock-kinds.ts); alone on its line so waiters polling it do not slow
 *                            down the data they are waiting for
 *   data      i32 × (1 + recordWords × SEQ_STRIDE)
 *     [0]      canary: 0 while nobody is inside the critical section, else the owner id of the thread
 *              inside; a thread that finds it non-zero on entry has caught a mutual-exclusion failure
 *     [1..]    exclusion runs: the record, words [1, 1 + recordWords), each incremented once per
 *              critical section with plain reads and writes
 *              seqlock runs: record word k at 1 + k × SEQ_STRIDE, one word per cache line, kept under
 *              the invariant of `seqRecordWord`. Spreading the words makes a reader's snapshot take
 *              several line transfers, as real protected data does; packed into one line, a reader
 *              usually copies all of it before the writer can steal the line, and torn snapshots (which
 *              the negative control must see) become rare
 *   progress  f64 × counterWords(PROGRESS_NAMES, workers)  one padded block per worker (counters.ts),
 *              written only by that worker, read by the watchdog to say where each worker was
 *   registry  i32 × ThreadRegistry.words(workers)  robust runs: every worker joins it and the locks
 *              are built with it; the runner reports killed workers dead in it (unused otherwise)
 */
import { counterWords } from '../shared/counters.js';
import { ThreadRegistry } from '../locks/thread-registry.js';
import type { RegionHandle, RegionSpec } from '../shared/region.js';
import { LOCK_KINDS, lockWords } from './lock-kinds.js';

export const LOCK_TORTURE_KIND = 'lock-torture';
export const LOCK_TORTURE_VERSION = 2;

export const CONTROL_WORDS = 16;
export const BARRIER_AT = 0;
export const READERS_DONE = 3;
export const HAMMER = 4;
export const STOP = 5;

/** Words of the lock section: room for the largest lock kind. */
export const LOCK_WORDS = Math.max(...LOCK_KINDS.map(lockWords));

export const CANARY = 0;
export const RECORD_AT = 1;
/** Distance in words between seqlock record words: one 64-byte line each. */
export const SEQ_STRIDE = 16;

/** Per-worker progress counters (one block each). */
export const PROGRESS_NAMES = ['phase', 'progress', 'canaryTrips', 'broken'] as const;
export type ProgressName = (typeof PROGRESS_NAMES)[number];

/** Where a worker is; written to its `phase` counter. */
export const Phase = {
  spawned: 0,
  attached: 1,
  atBarrier: 2,
  running: 3,
  done: 4,
  /** Dead-owner holder: has taken the lock and is about to die holding it. */
  holding: 5,
  failed: 6,
} as const;
export const PHASE_NAMES = ['spawned', 'attached', 'at barrier', 'running', 'done', 'holding the lock', 'failed'];

export function lockTortureSpec(workers: number, recordWords: number): RegionSpec {
  return {
    kind: LOCK_TORTURE_KIND,
    version: LOCK_TORTURE_VERSION,
    sections: [
      { name: 'control', type: 'i32', length: CONTROL_WORDS },
      { name: 'lock', type: 'i32', length: LOCK_WORDS },
      { name: 'data', type: 'i32', length: 1 + recordWords * SEQ_STRIDE },
      { name: 'progress', type: 'f64', length: counterWords(PROGRESS_NAMES.length, workers) },
      { name: 'registry', type: 'i32', length: ThreadRegistry.words(workers) },
    ],
  };
}

/** What every torture worker gets as workerData. */
export interface TortureWorkerData {
  handle: RegionHandle;
  workers: number;
  recordWords: number;
  /** This worker's index: its progress block is member `index` of the progress counters. */
  index: number;
  /** Join the registry and build every lock with it. */
  robust: boolean;
}

/**
 * Word k of seqlock record version v. Word 0 is v itself; every other word is a different mix of v,
 * so a snapshot that takes words from two versions breaks the invariant in almost every word.
 */
export function seqRecordWord(v: number, k: number): number {
  return k === 0 ? v | 0 : Math.imul((v + k) | 0, 0x9e3779b1) ^ k;
}

/** True when the snapshot holds one version: every word is what word 0 implies. */
export function seqSnapshotConsistent(snap: Int32Array): boolean {
  const v = snap[0]!;
  for (let k = 1; k < snap.length; k++) {
    if (snap[k] !== (Math.imul((v + k) | 0, 0x9e3779b1) ^ k)) return false;
  }
  return true;
}

/** Wall-clock milliseconds comparable across threads (each thread's performance.now has its own origin). */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
