/**
 * The lock torture for any runtime with Web Workers (the browser suite runs it in Chromium): N
 * workers each do `iterations` critical sections around one lock; every section increments each
 * word of a record with plain reads and writes. A lock that excludes keeps every update (each word
 * ends at N × iterations); the busted lock (a no-op, the negative control) loses some, and a test
 * that runs both asserts both. The workers' loops must overlap in time, or a clean result proves
 * nothing: the result says whether they did.
 */
import { StartBarrier } from '../shared/barrier.js';
import { startPool, type WorkerAdapter } from '../shared/pool.js';
import { checkInt, checkOneOf } from '../shared/validate.js';
import { LOCK_KINDS, type LockKind } from '../torture/lock-kinds.js';
import { LT } from './lock-torture-layout.js';
import type { LockTortureWorkerApi } from './lock-torture-worker.js';

export interface LockTortureOptions {
  kind: LockKind;
  /** Workers (2 … 16). */
  workers?: number;
  /** Critical sections per worker. */
  iterations?: number;
  /** Words in the record. */
  recordWords?: number;
  timeoutMs?: number;
}

export interface LockTortureResult {
  kind: LockKind;
  workers: number;
  iterations: number;
  /** Updates expected on each record word: workers × iterations. */
  expected: number;
  /** Updates lost, summed over the record's words. */
  lostUpdates: number;
  /** Critical sections that found someone else inside. */
  canaryTrips: number;
  /** Whether every worker's loop overlapped every other's in time. */
  overlapped: boolean;
  elapsedMs: number;
}

/** Runs one lock kind; ends every worker it started. */
export async function runLockTorture(adapter: WorkerAdapter, options: LockTortureOptions): Promise<LockTortureResult> {
  const kind = checkOneOf('kind', options.kind, LOCK_KINDS);
  const workers = checkInt('workers', options.workers ?? 4, 2, 16);
  const iterations = checkInt('iterations', options.iterations ?? 20_000, 1, 1e8);
  const recordWords = checkInt('recordWords', options.recordWords ?? 16, 1, 1024);
  const timeoutMs = checkInt('timeoutMs', options.timeoutMs ?? 30_000, 100, 600_000);
  const control = new Int32Array(new SharedArrayBuffer(64));
  const lock = new Int32Array(new SharedArrayBuffer(64));
  const data = new Int32Array(new SharedArrayBuffer((1 + recordWords) * 4));
  const pool = await startPool<LockTortureWorkerApi>(adapter, { count: workers, workerData: () => null, startTimeoutMs: timeoutMs });
  try {
    const barrier = new StartBarrier(control, LT.barrier);
    const t0 = performance.now();
    const running = pool.all((r) => r.exclusion({ control, lock, data, kind, iterations, recordWords, timeoutMs }), timeoutMs * 4);
    await barrier.releaseWhenArrived(workers, timeoutMs, running);
    const results = await running;
    const elapsedMs = performance.now() - t0;
    const expected = workers * iterations;
    let lostUpdates = 0;
    for (let k = 0; k < recordWords; k++) lostUpdates += expected - data[LT.record + k]!;
    const lastStart = Math.max(...results.map((r) => r.startedAt));
    const firstEnd = Math.min(...results.map((r) => r.endedAt));
    return {
      kind, workers, iterations, expected, lostUpdates,
      canaryTrips: results.reduce((a, r) => a + r.canaryTrips, 0),
      overlapped: lastStart < firstEnd,
      elapsedMs,
    };
  } finally {
    await pool.terminate();
  }
}
