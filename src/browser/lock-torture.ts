/**
 * The lock torture for any runtime with Web Workers (the browser suite runs it in Chromium): N
 * workers each do `iterations` critical sections around one lock; every section increments each
 * word of a record with plain reads and writes. A lock that excludes keeps every update (each word
 * ends at N × iterations); the busted lock (a no-op, the negative control) loses some, and a test
 * that runs both asserts both. The workers must have taken turns, or a clean result proves nothing:
 * on a loaded 2-core machine a worker can be woken so late that the others' loops are over (their
 * time windows then do not even overlap). So each section notes whose section came before it, and
 * the result counts hand-offs: workers run one after the other give workers − 1 of them.
 */
import { StartBarrier } from '../shared/barrier.js';
import { startPool, type WorkerAdapter } from '../shared/pool.js';
import { checkInt, checkOneOf } from '../shared/validate.js';
import { LOCK_KINDS, type LockKind } from '../torture/lock-kinds.js';
import { LT } from './lock-torture-layout.js';
import type { LockTortureWorkerApi } from './lock-torture-worker.js';

/** Options of runLockTorture (Web Workers): which lock, how many workers, how long. */
export interface LockTortureOptions {
  kind: LockKind;
  /** Workers (2 … 16). */
  workers?: number;
  /** Critical sections per worker. */
  iterations?: number;
  /** Words in the record. */
  recordWords?: number;
  /**
   * Work between sections, outside the lock, in steps of plain arithmetic (a few ns each; the default
   * 4 000 is some 10–20 µs). It must be comparable to a parked waiter's wake-up for the lock to change
   * hands often; measured, every real lock then hands over on 15–95% of its sections.
   */
  outside?: number;
  timeoutMs?: number;
}

/** What a browser lock torture found: lost updates, overlapping sections, and how often the lock changed hands. */
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
  /** Sections that followed another worker's: at most workers − 1 if they ran one after another. */
  handoffs: number;
  /** Many hand-offs (more than 8 per worker): the workers really took turns. */
  overlapped: boolean;
  elapsedMs: number;
}

/** Runs one lock kind; ends every worker it started. */
export async function runLockTorture(adapter: WorkerAdapter, options: LockTortureOptions): Promise<LockTortureResult> {
  const kind = checkOneOf('kind', options.kind, LOCK_KINDS);
  const workers = checkInt('workers', options.workers ?? 4, 2, 16);
  const iterations = checkInt('iterations', options.iterations ?? 20_000, 1, 1e8);
  const recordWords = checkInt('recordWords', options.recordWords ?? 16, 1, 1024);
  const outside = checkInt('outside', options.outside ?? 4_000, 0, 1e7);
  const timeoutMs = checkInt('timeoutMs', options.timeoutMs ?? 30_000, 100, 600_000);
  const control = new Int32Array(new SharedArrayBuffer(64));
  const lock = new Int32Array(new SharedArrayBuffer(64));
  const data = new Int32Array(new SharedArrayBuffer((LT.record + recordWords) * 4));
  const pool = await startPool<LockTortureWorkerApi>(adapter, { count: workers, workerData: () => null, startTimeoutMs: timeoutMs });
  try {
    const barrier = new StartBarrier(control, LT.barrier);
    const t0 = performance.now();
    const running = pool.all((r) => r.exclusion({ control, lock, data, kind, iterations, recordWords, outside, timeoutMs }), timeoutMs * 4);
    await barrier.releaseWhenArrived(workers, timeoutMs, running);
    const results = await running;
    const elapsedMs = performance.now() - t0;
    const expected = workers * iterations;
    let lostUpdates = 0;
    for (let k = 0; k < recordWords; k++) lostUpdates += expected - data[LT.record + k]!;
    const handoffs = results.reduce((a, r) => a + r.handoffs, 0);
    return {
      kind, workers, iterations, expected, lostUpdates,
      canaryTrips: results.reduce((a, r) => a + r.canaryTrips, 0),
      handoffs,
      overlapped: handoffs > 8 * workers,
      elapsedMs,
    };
  } finally {
    await pool.terminate();
  }
}
