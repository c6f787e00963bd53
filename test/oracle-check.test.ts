/**
 * The allocation oracle against an independent check, with 4 real workers: each worker uses only the
 * public API and a claim array of its own (src/torture/claim-check-worker.ts), and reports every
 * duplicate allocation it saw. Run by run: every duplicate the check saw is one the oracle counted
 * (it flagged one of the pair), the unfixed allocators show duplicates to both (the negative
 * control: the check can fail), and under each fix both see none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFilesystem } from '../src/alloc/filesystem.js';
import type { FilesystemOptions } from '../src/alloc/config.js';
import { RaceControl } from '../src/race/control.js';
import { StartBarrier } from '../src/shared/barrier.js';
import { WorkerPool } from '../src/shared/worker-pool.js';
import type { ClaimCheckApi, ClaimCheckResult } from '../src/torture/claim-check-worker.js';

const WORKERS = 4;
let pool: WorkerPool<ClaimCheckApi>;

beforeAll(async () => {
  pool = await WorkerPool.start<ClaimCheckApi>({
    url: new URL('../dist/src/torture/claim-check-worker.js', import.meta.url),
    count: WORKERS,
    workerData: () => null,
  });
});

afterAll(async () => {
  await pool?.terminate();
});

async function run(options: FilesystemOptions, iterations: number, seed: number): Promise<{ results: ClaimCheckResult[]; oracle: number; fsckOk: boolean }> {
  const buckets = 64;
  const fs = createFilesystem({ buckets, bucketSectors: 8, openBuckets: 64, maxThreads: WORKERS + 1, extents: 4096, ...options });
  const rc = RaceControl.create({ workers: WORKERS, traceCapacity: 0 });
  // Widen the window between the candidate read and the publish, as a preempted task would.
  rc.setDelay({ kind: 'spin', ns: 20_000, probability: 0.2 });
  const claims = new BigInt64Array(new SharedArrayBuffer(buckets * 8));
  const barrier = new Int32Array(new SharedArrayBuffer(StartBarrier.WORDS * 4));
  const calls = Array.from({ length: WORKERS }, (_, i) => pool.call(i, (r) => r.run({
    fs: fs.handle, race: rc.handle, claims, barrier, worker: i, seed, iterations,
  }), 120_000));
  await new StartBarrier(barrier, 0).releaseWhenArrived(WORKERS, 30_000, Promise.all(calls));
  const results = await Promise.all(calls);
  return { results, oracle: fs.stats().counters.duplicateAllocations, fsckOk: fs.fsck().ok };
}

function checkAgainstOracle(results: ClaimCheckResult[], oracle: number): number {
  const flagged = new Set(results.flatMap((r) => r.flagged));
  expect(flagged.size).toBe(oracle);
  const seen = results.flatMap((r) => r.seen);
  for (const pair of seen) {
    expect(flagged.has(pair.mine) || flagged.has(pair.other), `duplicate ${JSON.stringify(pair)} seen by the check, not by the oracle`).toBe(true);
  }
  return seen.length;
}

describe('the oracle against an independent claim-array check, 4 real workers', () => {
  for (const c of [
    { name: 'early/none', options: { allocator: 'early', fix: 'none' } },
    { name: 'freelist/unlocked', options: { allocator: 'freelist', freelistLookup: 'unlocked' } },
  ] as const) {
    it(`negative control, ${c.name}: the check sees duplicates, and the oracle counted every one`, async () => {
      const { results, oracle } = await run(c.options, 1500, 11);
      expect(Math.min(...results.map((r) => r.allocations))).toBeGreaterThan(0);
      const seen = checkAgainstOracle(results, oracle);
      expect(seen).toBeGreaterThan(0);
      expect(oracle).toBeGreaterThanOrEqual(seen / 2);
    });
  }

  for (const c of [
    { name: 'early/seqlock', options: { allocator: 'early', fix: 'seqlock' } },
    { name: 'early/keylock', options: { allocator: 'early', fix: 'keylock' } },
    { name: 'freelist/locked', options: { allocator: 'freelist', freelistLookup: 'locked' } },
  ] as const) {
    it(`${c.name}: neither the check nor the oracle sees a duplicate, and fsck is clean`, async () => {
      const { results, oracle, fsckOk } = await run(c.options, 1500, 12);
      expect(Math.min(...results.map((r) => r.allocations))).toBeGreaterThan(0);
      expect(checkAgainstOracle(results, oracle)).toBe(0);
      expect(oracle).toBe(0);
      expect(fsckOk).toBe(true);
    });
  }
});
