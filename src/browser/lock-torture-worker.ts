/**
 * Web Worker entry of the browser lock torture (lock-torture.ts): the mutual-exclusion loop around
 * one lock of the kind asked for, the busted (no-op) lock included.
 */
import { exposeToHost } from '../shared/pool-web.js';
import { StartBarrier } from '../shared/barrier.js';
import { currentOwnerId } from '../locks/common.js';
import { type LockKind, makeTortureLock } from '../torture/lock-kinds.js';
import { LT, type LockTortureRequest, type LockTortureWorkerResult } from './lock-torture-layout.js';

let sink = 0;

/**
 * `n` steps of plain arithmetic (a few nanoseconds each), with a result the optimiser must keep. Not
 * cpuRelax: where Atomics.pause exists (Chromium) each of its steps is a PAUSE instruction, tens of
 * times longer, and the amount of work would depend on the runtime.
 */
function outsideWork(n: number): void {
  let x = sink;
  for (let i = 0; i < n; i++) x = (x * 31 + i) | 0;
  sink = x;
}

const api = {
  /**
   * `iterations` critical sections. Each reads the whole record into a private copy with plain
   * reads and writes it back incremented, so that without exclusion the window between read and
   * write is as wide as the record: a busted lock loses updates quickly. The canary word holds the
   * owner id of whoever is inside; finding it non-zero on entry is a caught exclusion failure.
   */
  exclusion(req: LockTortureRequest): LockTortureWorkerResult {
    const { control, lock: lockWords, data, kind, iterations, recordWords, timeoutMs, outside } = req;
    const lock = makeTortureLock(kind as LockKind, lockWords, 0);
    const me = currentOwnerId();
    const scratch = new Int32Array(recordWords);
    let canaryTrips = 0;
    let handoffs = 0;
    new StartBarrier(control, LT.barrier).arriveAndWait(timeoutMs);
    const startedAt = performance.now() + performance.timeOrigin;
    for (let i = 0; i < iterations; i++) {
      lock.lock(timeoutMs);
      if (data[LT.canary] !== 0) canaryTrips++;
      data[LT.canary] = me;
      if (data[LT.last] !== me) {
        handoffs++;
        data[LT.last] = me;
      }
      for (let k = 0; k < recordWords; k++) scratch[k] = data[LT.record + k]!;
      for (let k = 0; k < recordWords; k++) data[LT.record + k] = scratch[k]! + 1;
      data[LT.canary] = 0;
      lock.unlock();
      // Work outside the lock, as real code has: without it the holder re-takes the lock at once
      // (none of these locks queues its waiters) and the workers would mostly run one after another.
      outsideWork(outside);
    }
    const endedAt = performance.now() + performance.timeOrigin;
    return { canaryTrips, handoffs, startedAt, endedAt, ownerId: me };
  },
};

export type LockTortureWorkerApi = typeof api;
void exposeToHost(api);
