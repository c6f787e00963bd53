/**
 * Contended lock throughput: 1, 2 and 4 workers sharing one lock, each repeating lock; plain
 * increment of a shared word; unlock, for SpinLock, Mutex and RwLock (write side). The uncontended
 * costs of the same locks are the micro section's `lock` and `read` groups (one harness times them).
 *
 * Workers are started once per lock kind (a worker that only ever runs one kind keeps its loop
 * monomorphic) and parked on a fresh StartBarrier before each timed run, so start-up is never
 * timed. Configurations are interleaved in rounds (A B C A B C …) and reported as the median with
 * min–max: on these shared machines two identical multi-worker runs can differ by 2×.
 * The run region's layout is in contended-layout.ts (shared with the worker).
 */
import { createRegion } from '../shared/region.js';
import { StartBarrier } from '../shared/barrier.js';
import { WorkerPool, compiledWorkerUrl, type WorkerSpawnOptions } from '../shared/worker-pool.js';
import { summarize, type Summary } from './stats.js';
import type { LocksBenchApi } from './locks-worker.js';
import { BENCH_RUN_SPEC, CONTENDED_KINDS, type ContendedKind } from './contended-layout.js';

export { CONTENDED_KINDS, type ContendedKind, type ContendedRun } from './contended-layout.js';

export interface ContendedOptions {
  kinds?: readonly ContendedKind[];
  workers: readonly number[];
  rounds: number;
  /** Length of one timed run. */
  runMs: number;
  workerOptions?: WorkerSpawnOptions;
  onRun?: (done: number, total: number, label: string) => void;
}

export interface ContendedCell {
  kind: ContendedKind;
  workers: number;
  /** lock+unlock pairs per second, all workers: median over rounds, spread, every round's value. */
  pairsPerSec: Summary;
  /** Parks (Atomics.wait) per pair, all rounds. */
  parksPerPair: number;
  /** Median over rounds of the busiest worker's share of the pairs: 1/workers is an even split. */
  topShare: number;
}

export interface ContendedResult {
  kinds: ContendedKind[];
  workers: number[];
  rounds: number;
  runMs: number;
  cells: ContendedCell[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function runContended(o: ContendedOptions): Promise<ContendedResult> {
  const kinds = [...(o.kinds ?? CONTENDED_KINDS)];
  const maxWorkers = Math.max(...o.workers);
  const url = compiledWorkerUrl(import.meta.url, './locks-worker.js');
  const pools = new Map<ContendedKind, WorkerPool<LocksBenchApi>>();
  const acc = new Map<string, { kind: ContendedKind; workers: number; rates: number[]; shares: number[]; parks: number; pairs: number }>();
  const total = o.rounds * kinds.length * o.workers.length;
  let done = 0;
  try {
    for (const kind of kinds) {
      pools.set(kind, await WorkerPool.start<LocksBenchApi>({ ...o.workerOptions, url, count: maxWorkers, workerData: () => null }));
    }
    for (let round = 0; round < o.rounds; round++) {
      for (const kind of kinds) {
        for (const workers of o.workers) {
          o.onRun?.(done, total, `${kind} × ${workers}`);
          const pool = pools.get(kind)!;
          const region = createRegion(BENCH_RUN_SPEC);
          const barrier = new StartBarrier(region.i32('control'), 0);
          const calls = Array.from({ length: workers }, (_, i) => pool.call(i, (r) => r.run(region.handle, kind, o.runMs * 20), o.runMs * 20 + 30_000));
          const all = Promise.all(calls);
          all.catch(() => {});
          // Start-up and the RPC round trip happen here, before the clock: workers park on the barrier.
          await barrier.releaseWhenArrived(workers, 20_000, all);
          await sleep(o.runMs);
          barrier.requestStop();
          const results = await all;
          const pairs = results.reduce((n, r) => n + r.pairs, 0);
          const counted = Atomics.load(region.i32('data'), 0);
          if (counted !== (pairs | 0)) {
            throw new Error(`${kind} × ${workers}: the lock lost updates during the benchmark (${counted} of ${pairs})`);
          }
          const elapsedMs = Math.max(...results.map((r) => r.endedAt)) - Math.min(...results.map((r) => r.startedAt));
          const key = `${kind}/${workers}`;
          const cell = acc.get(key) ?? { kind, workers, rates: [], shares: [], parks: 0, pairs: 0 };
          cell.rates.push((pairs / elapsedMs) * 1000);
          cell.shares.push(Math.max(...results.map((r) => r.pairs)) / pairs);
          cell.parks += results.reduce((n, r) => n + (r.stats.parks ?? 0), 0);
          cell.pairs += pairs;
          acc.set(key, cell);
          done++;
        }
      }
    }
  } finally {
    await Promise.all([...pools.values()].map((p) => p.terminate()));
  }
  return {
    kinds, workers: [...o.workers], rounds: o.rounds, runMs: o.runMs,
    cells: [...acc.values()].map((c) => ({
      kind: c.kind,
      workers: c.workers,
      pairsPerSec: summarize(c.rates),
      parksPerPair: c.pairs > 0 ? c.parks / c.pairs : 0,
      topShare: summarize(c.shares).median,
    })),
  };
}
