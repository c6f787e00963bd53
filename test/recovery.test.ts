/**
 * A worker can die anywhere, even inside an update holding its lock. For every update path
 * (allocate, write, put, free, discard) and every stage inside it (the lock taken, the intent record
 * published, half of the update applied, all of it applied, the intent cleared), a real worker is
 * stopped there by a stage hook and terminated; its death is reported to the thread registry; and:
 *
 *   - fsck names what it left: a dead member, and the lock it holds;
 *   - a survivor that needs that lock takes it over at once (robust locks) and finishes the dead
 *     thread's update first — or recover() does, and releases everything else the thread held;
 *   - afterwards fsck is clean, the member is free again, and the update either happened whole
 *     (its intent record was published) or not at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFilesystem, type Filesystem } from '../src/alloc/filesystem.js';
import type { FilesystemOptions } from '../src/alloc/config.js';
import type { UpdateStage } from '../src/alloc/fs-core.js';
import { WorkerPool } from '../src/shared/worker-pool.js';
import type { ParkPath, ParkWorkerApi } from '../src/torture/park-worker.js';
import { RECORD_WORDS, Rec, stateType } from '../src/alloc/bucket-table.js';
import { DataType } from '../src/alloc/types.js';
import { INTENT_WORDS } from '../src/alloc/intents.js';
import { RECORD_COUNTERS, RecordUpdate, readRecordIntent, writeRecordIntent } from '../src/alloc/record-update.js';

let pool: WorkerPool<ParkWorkerApi>;

beforeAll(async () => {
  pool = await WorkerPool.start<ParkWorkerApi>({ url: new URL('../dist/src/torture/park-worker.js', import.meta.url), count: 1, workerData: () => null });
});

afterAll(async () => {
  await pool?.terminate();
});

const STAGES: UpdateStage[] = ['locked', 'published', 'half-applied', 'applied', 'cleared'];
const PATHS: { path: ParkPath; kind: 'record' | 'publish' | 'unpin' }[] = [
  { path: 'allocate', kind: 'publish' },
  { path: 'write', kind: 'record' },
  { path: 'put', kind: 'unpin' },
  { path: 'free', kind: 'record' },
  { path: 'discard', kind: 'record' },
];

async function waitFor(signal: Int32Array, running: Promise<string>): Promise<void> {
  const parked = (async () => {
    const r = Atomics.waitAsync(signal, 0, 0, 20_000);
    if (r.async) await r.value;
    if (Atomics.load(signal, 0) !== 1) throw new Error('the worker never parked');
  })();
  await Promise.race([parked, running.then((why) => { throw new Error(why); })]);
}

/** Parks a worker in `path` at `stage`, kills it, reports its death; returns what is left to check. */
async function killInside(options: FilesystemOptions, path: ParkPath, kind: 'record' | 'publish' | 'unpin', stage: UpdateStage): Promise<{ fs: Filesystem; target: number }> {
  if (!pool.isAlive(0)) await pool.respawn(0);
  const fs = createFilesystem({ buckets: 8, bucketSectors: 8, openBuckets: 8, maxThreads: 4, lockTimeoutMs: 20_000, ...options });
  const signal = new Int32Array(new SharedArrayBuffer(12));
  const running = pool.call(0, (r) => r.run({ fs: fs.handle, path, kind, stage, signal }), 30_000);
  running.catch(() => {});
  await waitFor(signal, running);
  const threadId = pool.threadId(0);
  await pool.kill(0);
  expect(fs.registry.markThreadDead(threadId)).toHaveLength(1);
  return { fs, target: Atomics.load(signal, 1) };
}

/** What the dead thread's update left, once recovered: it happened whole, or not at all. */
function expectOutcome(fs: Filesystem, path: ParkPath, happened: boolean): void {
  const r = fs.fsck();
  expect(r.errors).toEqual([]);
  expect(r.counts.open).toBe(0);
  const extents = r.counts.extents;
  if (path === 'write') expect(extents).toBe(happened ? 2 : 1);
  if (path === 'free') expect(extents).toBe(happened ? 0 : 1);
  if (path === 'discard') {
    const st = fs.records[0 * RECORD_WORDS + Rec.state]!;
    expect(stateType(st)).toBe(happened ? DataType.free : DataType.need_discard);
  }
  expect(fs.stats().members).toMatchObject({ alive: 1, dead: 0, recovering: 0 });
}

describe('a worker killed inside an update is recovered, and the update happened whole or not at all', () => {
  for (const config of [
    { name: 'early/keylock, discard on', options: { allocator: 'early', fix: 'keylock', discard: true } },
    { name: 'early/none, discard off', options: { allocator: 'early', fix: 'none', discard: false } },
  ] as const) {
    for (const { path, kind } of PATHS) {
      if (path === 'discard' && !config.options.discard) continue;
      it(`${config.name}: ${path} (${kind}), killed at each stage; recover() finishes or never started it`, async () => {
        for (const stage of STAGES) {
          const { fs } = await killInside(config.options, path, kind, stage);
          const before = fs.fsck();
          expect(before.byKind.dead_member, `${stage}: fsck names the dead member`).toBe(1);
          expect(before.byKind.lock_held_by_dead, `${stage}: fsck names the lock it holds`).toBeGreaterThanOrEqual(1);
          const reports = fs.recover();
          expect(reports).toHaveLength(1);
          const happened = stage !== 'locked';
          expect(reports[0]!.finished !== null, `${stage}: an update to finish`).toBe(stage === 'published' || stage === 'half-applied' || stage === 'applied');
          expect(reports[0]!.locksReleased, `${stage}: its lock released`).toBeGreaterThanOrEqual(1);
          expectOutcome(fs, path, happened);
          // The filesystem goes on: a full cycle through every path.
          const ob = fs.allocBucket()!;
          fs.free(fs.write(ob, 1));
          fs.put(ob);
          fs.discard();
          expect(fs.fsck().errors).toEqual([]);
        }
      });
    }
  }

  it('a free killed after its apply: the extent entry it released and another thread reused stays that thread\'s', async () => {
    // One extent entry in the table: the dead thread's free released it (stage "applied": every
    // store done, the intent not yet cleared), then this thread claims it for a write into another
    // bucket. Finishing the dead free again must not release it a second time.
    const { fs, target } = await killInside({ allocator: 'early', fix: 'none', discard: true, extents: 1 }, 'free', 'record', 'applied');
    const ob = fs.allocBucket()!;
    expect(ob.bucket).not.toBe(target);
    const mine = fs.write(ob, 2);
    expect(mine.id).toBe(0);
    const reports = fs.recover();
    expect(reports[0]!.finished).toEqual({ kind: 'record', bucket: target });
    expect(fs.fsck().errors).toEqual([]);
    fs.put(ob);
    expect(() => fs.free(mine)).not.toThrow();
    expect(fs.fsck().errors).toEqual([]);
  });

  it('a survivor that needs the dead holder\'s lock takes it over at once and finishes the update first', async () => {
    for (const { path, kind } of PATHS) {
      const { fs, target } = await killInside({ allocator: 'early', fix: 'keylock', discard: true, lockTimeoutMs: 20_000 }, path, kind, 'half-applied');
      const t0 = performance.now();
      // The survivor's own call takes the lock the dead thread holds.
      if (kind === 'record') {
        const s = fs.allocBucket()!;
        fs.put(s);
        // A record lock: take it by discarding (every record lock path ends in an update of that bucket).
        fs.core.lockRecordWrite(target);
        fs.core.unlockRecordWrite(target);
      } else {
        fs.put(fs.allocBucket()!);
      }
      const waited = performance.now() - t0;
      // Robust locks take over at once (within a park slice), never at the 20 s timeout.
      expect(waited, `${path}: the survivor waited`).toBeLessThan(5_000);
      // The update is finished; what recover() still does is release the rest and free the member.
      const reports = fs.recover();
      expect(reports[0]!.finished, `${path}: the survivor had finished it`).toBeNull();
      expectOutcome(fs, path, true);
    }
  });

  it('a pool given the registry reports its worker\'s death itself: the survivor takes the lock over, nobody calls markThreadDead', async () => {
    const fs = createFilesystem({ buckets: 8, bucketSectors: 8, openBuckets: 8, maxThreads: 4, lockTimeoutMs: 20_000 });
    await expect(WorkerPool.start({ url: new URL('../dist/src/torture/park-worker.js', import.meta.url), count: 1, workerData: () => null, registry: {} as never }))
      .rejects.toThrow(/registry.*markThreadDead/);
    const watched = await WorkerPool.start<ParkWorkerApi>({ url: new URL('../dist/src/torture/park-worker.js', import.meta.url), count: 1, workerData: () => null, registry: fs.registry });
    try {
      const signal = new Int32Array(new SharedArrayBuffer(12));
      const running = watched.call(0, (r) => r.run({ fs: fs.handle, path: 'put', kind: 'unpin', stage: 'half-applied', signal }), 30_000);
      running.catch(() => {});
      await waitFor(signal, running);
      expect(fs.stats().members.dead).toBe(0);
      await watched.kill(0);
      expect(fs.stats().members.dead).toBe(1);
      const t0 = performance.now();
      fs.put(fs.allocBucket()!);
      expect(performance.now() - t0, 'the survivor took the freelist lock over').toBeLessThan(5_000);
      expect(fs.recover()).toHaveLength(1);
      expect(fs.fsck().errors).toEqual([]);
    } finally {
      await watched.terminate();
    }
  });

  it('negative control: while the death is not reported, a survivor that needs the lock times out', async () => {
    if (!pool.isAlive(0)) await pool.respawn(0);
    const fs = createFilesystem({ buckets: 8, bucketSectors: 8, openBuckets: 8, maxThreads: 4, lockTimeoutMs: 300 });
    const signal = new Int32Array(new SharedArrayBuffer(12));
    const running = pool.call(0, (r) => r.run({ fs: fs.handle, path: 'put', kind: 'unpin', stage: 'half-applied', signal }), 30_000);
    running.catch(() => {});
    await waitFor(signal, running);
    const threadId = pool.threadId(0);
    await pool.kill(0);
    // Not reported: the freelist lock's holder is gone but nobody knows, so the survivor waits it out.
    expect(() => fs.allocBucket()).toThrow(/not acquired within 300 ms/);
    fs.registry.markThreadDead(threadId);
    fs.put(fs.allocBucket()!);
    fs.recover();
    expect(fs.fsck().errors).toEqual([]);
  });

  it('under the key lock a scan skips a bucket whose record lock a dead thread holds, instead of waiting for it', async () => {
    // Killed after its discard made the bucket free, before it let the record lock go: the bucket
    // looks free to every scan, and its lock is held by a dead thread.
    const { fs, target } = await killInside({ allocator: 'early', fix: 'keylock', discard: true, lockTimeoutMs: 20_000 }, 'discard', 'record', 'cleared');
    // Report nothing, recover nothing: the record lock of `target` stays held by the dead thread.
    const t0 = performance.now();
    for (let i = 0; i < 6; i++) {
      const ob = fs.allocBucket();
      expect(ob).not.toBeNull();
      expect(ob!.bucket).not.toBe(target);
      fs.put(ob!);
    }
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(fs.stats().counters.skippedBusy).toBeGreaterThanOrEqual(6);
    fs.recover();
    expect(fs.fsck().errors).toEqual([]);
  });
});

describe('the intent record holds a whole record update', () => {
  // The live path applies the RecordUpdate it planned; a recovering thread applies what it reads back
  // from the dead member's intent record. Both must be the same update: every field survives the trip.
  it('every field of a RecordUpdate written to an intent record reads back the same', () => {
    const i32 = new Int32Array(new SharedArrayBuffer(INTENT_WORDS * 4 * 2));
    const v = { i32, f64: new Float64Array(i32.buffer), at: INTENT_WORDS, atF: INTENT_WORDS / 2 };
    const u = new RecordUpdate();
    const fields = Object.keys(u) as (keyof RecordUpdate)[];
    expect(fields.length).toBeGreaterThan(20);
    // A distinct value in every field (doubles where the field holds op ids or counter values).
    fields.forEach((k, n) => { (u as unknown as Record<string, number>)[k] = /^(cycleOp|extOpId|v\d)$/.test(k) ? 2 ** 40 + n : n + 1; });
    u.counters = RECORD_COUNTERS;
    writeRecordIntent(v, u);
    const back = readRecordIntent(v, new RecordUpdate());
    for (const k of fields) expect([k, back[k]]).toEqual([k, u[k]]);
  });

  it('a record update refuses a fourth counter target', () => {
    const u = new RecordUpdate();
    for (let k = 0; k < RECORD_COUNTERS; k++) u.count(k, k);
    expect(() => u.count(9, 9)).toThrow(/at most 3 counter targets/);
  });
});
