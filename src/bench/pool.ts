/**
 * The bench workers and one timed round over them.
 *
 * `startBenchPool` starts every worker the session will need once, before anything is timed, and
 * attaches each to one shared RaceControl, whose hook a round installs only when it asks to (the
 * race sweep's delays); throughput rounds run without one.
 * `runRound` makes a fresh filesystem for one configuration, has the first `workers` workers attach
 * to it and wait at a fresh StartBarrier, releases them together, and collects what each did in its
 * fixed-duration loop. Every wait is bounded: the RPCs race worker death and a timeout
 * (WorkerPool.call), the barrier has its own timeout and is aborted if a worker fails before the
 * release (StartBarrier.releaseWhenArrived), so no worker is left parked; a worker failing after it
 * has the others asked to stop, so none runs on to its deadline. The caller terminates the pool in a finally.
 */
import { WorkerPool, compiledWorkerUrl, type WorkerSpawnOptions } from '../shared/worker-pool.js';
import { StartBarrier } from '../shared/barrier.js';
import { RaceControl } from '../race/control.js';
import type { ErrorKindName } from '../alloc/types.js';
import { createCycleFs, type AllocConfig } from './cycle.js';
import type { BenchRunResult, BenchWorkerApi } from './worker.js';

export interface BenchPool {
  pool: WorkerPool<BenchWorkerApi>;
  race: RaceControl;
  size: number;
  terminate(): Promise<void>;
}

export async function startBenchPool(size: number, seed: number, url?: URL, workerOptions: WorkerSpawnOptions = {}): Promise<BenchPool> {
  const race = RaceControl.create({ workers: size, traceCapacity: 0, maxDecisions: 0 });
  race.setPolicy('none');
  const pool = await WorkerPool.start<BenchWorkerApi>({
    ...workerOptions,
    url: url ?? compiledWorkerUrl(import.meta.url, './worker.js'),
    count: size,
    workerData: () => null,
  });
  try {
    await pool.all((r, i) => r.init({ race: race.handle, worker: i, seed }), 20_000);
  } catch (e) {
    await pool.terminate();
    throw e;
  }
  return { pool, race, size, terminate: () => pool.terminate() };
}

export interface RoundSpec {
  config: AllocConfig;
  workers: number;
  durationMs: number;
  buckets: number;
  bucketSectors: number;
  writeSectors: number;
  checkEvery: number;
  /** Install the workers' race hooks (the race sweep); throughput runs leave them out. */
  raceHook?: boolean;
  /** Run fsck on the filesystem after the round (quiescent by then). */
  fsck?: boolean;
}

export interface RoundOutcome {
  /** Cycles per second, all workers: the sum of each worker's cycles over its own running time. */
  throughput: number;
  cycles: number;
  allocations: number;
  racy: number;
  /** Duplicate allocations, as the allocation oracle counted them (fs.stats()). */
  duplicates: number;
  allocFailures: number;
  staleFrees: number;
  perWorker: BenchRunResult[];
  /** Commit errors by kind, from fs.stats().errors (counted in shared memory by the commits). */
  errors: Record<ErrorKindName, number> & { total: number };
  fsck: { ok: boolean; errorCount: number } | null;
}

export async function runRound(bp: BenchPool, s: RoundSpec): Promise<RoundOutcome> {
  if (s.workers > bp.size) throw new RangeError(`workers: must be in [1, ${bp.size}] (the pool's size), got ${s.workers}`);
  const fs = createCycleFs(s.config, { buckets: s.buckets, bucketSectors: s.bucketSectors, threads: s.workers, lockTimeoutMs: 10_000 });
  const words = new Int32Array(new SharedArrayBuffer(StartBarrier.WORDS * 4));
  const barrier = new StartBarrier(words, 0);
  const ids = Array.from({ length: s.workers }, (_, i) => i);
  const timeoutMs = s.durationMs + 30_000;
  const runs = ids.map((i) => bp.pool.call(i, (r) => r.run({
    fs: fs.handle, barrier: words, durationMs: s.durationMs, writeSectors: s.writeSectors, checkEvery: s.checkEvery,
    raceHook: s.raceHook ?? false, barrierTimeoutMs: 20_000,
  }), timeoutMs));
  let results: BenchRunResult[];
  try {
    // Fails at once if a worker's run settles before all have arrived, and aborts the barrier then.
    await barrier.releaseWhenArrived(s.workers, 20_000, Promise.race(runs));
    results = await Promise.all(runs);
  } catch (e) {
    // A worker that failed mid-run: the others' loops end at their next clock check, not at the deadline.
    barrier.requestStop();
    await Promise.allSettled(runs);
    throw e;
  }
  const sum = (k: 'cycles' | 'allocations' | 'racy' | 'allocFailures' | 'staleFrees'): number => results.reduce((a, r) => a + r[k], 0);
  const stats = fs.stats();
  let fsck: RoundOutcome['fsck'] = null;
  if (s.fsck) {
    const rep = fs.fsck({ maxErrors: 5 });
    fsck = { ok: rep.ok, errorCount: rep.errorCount };
  }
  return {
    throughput: results.reduce((a, r) => a + (r.elapsedMs > 0 ? r.cycles / (r.elapsedMs / 1000) : 0), 0),
    cycles: sum('cycles'),
    allocations: sum('allocations'),
    racy: sum('racy'),
    duplicates: stats.counters.duplicateAllocations,
    allocFailures: sum('allocFailures'),
    staleFrees: sum('staleFrees'),
    perWorker: results,
    errors: { ...stats.errors },
    fsck,
  };
}
