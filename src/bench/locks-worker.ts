/**
 * Worker for the contended lock benchmark (contended.ts). Started once per lock kind; each run
 * posts a fresh region (layout in contended-layout.ts) over Comlink, and this worker parks on the run's
 * StartBarrier before the clock starts, then does lock; plain increment of a shared word; unlock
 * until told to stop.
 */
import { parentPort } from 'node:worker_threads';
import { attachRegion, type RegionHandle } from '../shared/region.js';
import { StartBarrier } from '../shared/barrier.js';
import { exposeToParent } from '../shared/worker-pool.js';
import { LockStats } from '../locks/index.js';
import { type LockKind, makeTortureLock } from '../torture/lock-kinds.js';
import { BENCH_RUN_SPEC, type ContendedKind, type ContendedRun, epochMs } from './contended-layout.js';

/** The lock torture's kind for each benchmarked one (the rwlock is benchmarked on its write side). */
const LOCK_KIND: Record<ContendedKind, LockKind> = { spin: 'spin', mutex: 'mutex', 'rwlock-write': 'rwlock' };

const api = {
  /** One timed run: wait at the barrier, then lock/increment/unlock until stop (or maxMs). */
  run(handle: RegionHandle, kind: ContendedKind, maxMs: number): ContendedRun {
    const region = attachRegion(handle, { kind: BENCH_RUN_SPEC.kind, version: BENCH_RUN_SPEC.version, spec: BENCH_RUN_SPEC });
    const barrier = new StartBarrier(region.i32('control'), 0);
    const data = region.i32('data');
    const stats = new LockStats();
    const lock = makeTortureLock(LOCK_KIND[kind], region.i32('lock'), 0, stats);
    barrier.arriveAndWait(20_000);
    const startedAt = epochMs();
    const deadline = performance.now() + maxMs;
    let pairs = 0;
    for (;;) {
      for (let i = 0; i < 256; i++) {
        lock.lock();
        data[0]!++;
        lock.unlock();
      }
      pairs += 256;
      if (barrier.stopRequested() || performance.now() > deadline) break;
    }
    return { pairs, startedAt, endedAt: epochMs(), stats: stats.toJSON() };
  },
};

export type LocksBenchApi = typeof api;

exposeToParent(api, parentPort);
