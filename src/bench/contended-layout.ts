/**
 * What the contended lock benchmark (contended.ts) and its worker (locks-worker.ts) share: the run
 * region's layout and the shape of one worker's answer. Kept apart so the worker loads nothing else.
 *
 * Run region (kind "bench-locks", version 1; each section on its own 64-byte line):
 *
 *   control  i32 × 3    StartBarrier (arrived, go, stop)
 *   lock     i32 × 1    the lock under test
 *   data     i32 × 1    incremented under the lock: at the end it must equal the sum of all workers'
 *                       pairs, a free correctness check of the run being timed
 */
import type { RegionSpec } from '../shared/region.js';
import { StartBarrier } from '../shared/barrier.js';

/** The locks timed under contention (the RwLock on its write side). */
export type ContendedKind = 'spin' | 'mutex' | 'rwlock-write';
export const CONTENDED_KINDS: readonly ContendedKind[] = ['spin', 'mutex', 'rwlock-write'];

export const BENCH_RUN_SPEC: RegionSpec = {
  kind: 'bench-locks',
  version: 1,
  sections: [
    { name: 'control', type: 'i32', length: StartBarrier.WORDS },
    { name: 'lock', type: 'i32', length: 1 },
    { name: 'data', type: 'i32', length: 1 },
  ],
};

/** What one worker reports for one timed run. */
export interface ContendedRun {
  pairs: number;
  startedAt: number;
  endedAt: number;
  stats: Record<string, number>;
}

/** Milliseconds comparable across threads (each thread's performance.now has its own origin). */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
