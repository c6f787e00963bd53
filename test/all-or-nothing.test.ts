/**
 * Every public call completes or leaves shared memory as it found it, whatever fails inside it.
 *
 * The fault-injection walk: for every path (allocate, write, put, free, discard) under every
 * allocator, fix and discard setting, count the lock acquisitions and race points the path passes,
 * then run it again failing each one in turn — a blocking acquisition throws a LockTimeoutError, a
 * try-lock reports the lock busy, a race-point hook throws — and check that the filesystem is
 * exactly as before (every byte of every buffer, statistics aside), fsck is clean, nothing leaked
 * (extent entries, sectors, open slots, registry members), and that the same call then succeeds.
 *
 * Statistics are not state: the per-member activity counters (scans, refusals, …) and the operation
 * id sequence record that an attempt was made, and are masked out of the comparison. Usage, which
 * fsck checks, lives in the same blocks and is compared.
 *
 * Then the regressions of issue 8: each example that broke an invariant before.
 */
import { describe, expect, it } from 'vitest';
import {
  attachFilesystem, createFilesystem, DetachedError, type Extent, type Filesystem, type OpenBucket,
} from '../src/alloc/index.js';
import type { FilesystemOptions } from '../src/alloc/config.js';
import { ALLOC_COUNTERS } from '../src/alloc/counters.js';
import { Dev64 } from '../src/alloc/device.js';
import { StaleHandleError } from '../src/alloc/errors.js';
import { RegionError } from '../src/shared/region.js';
import { ConfigError } from '../src/shared/validate.js';
import { LockTimeoutError } from '../src/locks/common.js';
import { RacePoint, type RaceHook } from '../src/alloc/race-points.js';

interface World {
  fs: Filesystem;
  /** An open user bucket with 2 sectors written. */
  ob: OpenBucket;
  /** Its extent. */
  inOpen: Extent;
  /** A put bucket holding two extents. */
  two: [Extent, Extent];
  /** A put bucket holding one extent. */
  one: Extent;
}

/** A small filesystem in every interesting state, reached through the public API. */
function world(options: FilesystemOptions): World {
  const fs = createFilesystem({ buckets: 16, bucketSectors: 8, openBuckets: 16, extents: 64, ...options });
  const a = fs.allocBucket()!;
  const two: [Extent, Extent] = [fs.write(a, 3), fs.write(a, 2)];
  fs.put(a);
  const b = fs.allocBucket()!;
  const one = fs.write(b, 4);
  fs.put(b);
  const c = fs.allocBucket()!;
  fs.free(fs.write(c, 1));
  fs.put(c);
  const ob = fs.allocBucket()!;
  const inOpen = fs.write(ob, 2);
  return { fs, ob, inOpen, two, one };
}

interface PathCase {
  name: string;
  run: (w: World) => unknown;
}

const PATHS: PathCase[] = [
  { name: 'allocate', run: (w) => w.fs.allocBucket({ dataType: 'btree', watermark: 'btree' }) },
  { name: 'write', run: (w) => w.fs.write(w.ob, 3) },
  { name: 'put', run: (w) => w.fs.put(w.ob) },
  { name: 'free (the bucket keeps data)', run: (w) => w.fs.free(w.two[0]) },
  { name: 'free (the last extent of a put bucket)', run: (w) => w.fs.free(w.one) },
  { name: 'free (the last extent of a bucket still open)', run: (w) => w.fs.free(w.inOpen) },
  { name: 'discard', run: (w) => w.fs.discard() },
];

const CONFIGS: FilesystemOptions[] = [];
for (const discard of [true, false]) {
  for (const allocator of ['early', 'freelist'] as const) {
    for (const fix of ['none', 'seqlock', 'keylock'] as const) CONFIGS.push({ allocator, fix, discard });
  }
  CONFIGS.push({ allocator: 'freelist', freelistLookup: 'unlocked', discard });
}
const label = (c: FilesystemOptions): string => `${c.allocator}/${c.fix ?? 'none'}${c.freelistLookup === 'unlocked' ? '/unlocked' : ''}/discard ${String(c.discard)}`;

/** Every byte of every buffer, with the statistics (activity counters, op-id sequence) zeroed. */
function state(fs: Filesystem): Uint8Array[] {
  const bytes = fs.region.buffers.map((b) => new Uint8Array(b).slice());
  const counters = fs.region.layout.sections.find((s) => s.name === 'counters')!;
  const c = fs.counters;
  for (let m = 0; m < c.members; m++) {
    const from = counters.byteOffset + c.base(m) * 8;
    bytes[counters.buffer]!.fill(0, from, from + ALLOC_COUNTERS.length * 8);
  }
  const dev64 = fs.region.layout.sections.find((s) => s.name === 'device64')!;
  const op = dev64.byteOffset + Dev64.opSeq * 8;
  bytes[dev64.buffer]!.fill(0, op, op + 8);
  return bytes;
}

function expectSameState(before: Uint8Array[], after: Uint8Array[], what: string): void {
  for (let i = 0; i < before.length; i++) {
    const a = before[i]!;
    const b = after[i]!;
    let first = -1;
    for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) { first = k; break; }
    expect(first, `${what}: buffer ${i} changed at byte ${first}`).toBe(-1);
  }
}

/** A hook that counts race points, and throws at the `failAt`-th (1-based; 0 never), remembering which point that was. */
function throwingHook(failAt: number): RaceHook & { seen: number; thrownAt: number } {
  return {
    seen: 0,
    thrownAt: -1,
    at(point) {
      this.seen++;
      if (this.seen === failAt) {
        this.thrownAt = point;
        throw new Error(`injected failure at race point ${this.seen}`);
      }
    },
  };
}

/** Points after an operation's change: a throw there leaves the change standing (race-points.ts). */
const AFTER = new Set<number>([RacePoint.afterCommit, RacePoint.commitFailed, RacePoint.afterPut]);

type Fault = { kind: 'lock'; n: number } | { kind: 'point'; n: number };

/** Runs the path with one fault; returns whether the call threw. Checks everything the walk promises. */
function runWithFault(config: FilesystemOptions, path: PathCase, fault: Fault): boolean {
  const w = world(config);
  const before = state(w.fs);
  const members = w.fs.stats().members;
  const openBefore = w.fs.stats().openBuckets.inUse;
  const hook = throwingHook(fault.kind === 'point' ? fault.n : 0);
  if (fault.kind === 'lock') w.fs.setFaultPlan({ failLockAcquisition: fault.n });
  else w.fs.setRaceHook(hook);
  let threw: unknown = null;
  try {
    path.run(w);
  } catch (e) {
    threw = e;
  }
  w.fs.setFaultPlan(null);
  w.fs.setRaceHook(null);
  const what = `${label(config)} ${path.name}, failing ${fault.kind} ${fault.n}`;
  const report = w.fs.fsck();
  expect(report.errors, what).toEqual([]);
  expect(report.counts.inFlightExtents, `${what}: no extent entry left claimed`).toBe(0);
  expect(w.fs.stats().members, `${what}: registry members`).toEqual(members);
  if (threw !== null && AFTER.has(hook.thrownAt)) {
    // The change stands and nothing is lost: a commit's extent rides on the error; a put is done.
    if (hook.thrownAt === RacePoint.afterPut) expect(w.fs.stats().openBuckets.inUse, what).toBe(openBefore - 1);
    else w.fs.free((threw as { extent: Extent }).extent);
    expect(w.fs.fsck().errors, what).toEqual([]);
    return true;
  }
  if (threw !== null) {
    if (fault.kind === 'lock') expect(threw, what).toBeInstanceOf(LockTimeoutError);
    if (hook.thrownAt === RacePoint.afterPublish) {
      // The bucket was put back: the same as before but for the freed slot's stale words and the cursor hint.
      expect(w.fs.stats().openBuckets.inUse, what).toBe(openBefore);
    } else {
      expectSameState(before, state(w.fs), what);
    }
    // And the same call, with nothing failing, succeeds.
    const again = path.run(w);
    if (path.name === 'allocate') expect(again, `${what}: retry`).not.toBeNull();
    expect(w.fs.fsck().errors, `${what}: after the retry`).toEqual([]);
  }
  return threw !== null;
}

describe('fault-injection walk: every acquisition and race point of every path fails in turn', () => {
  for (const config of CONFIGS) {
    it(label(config), () => {
      let failed = 0;
      let faults = 0;
      for (const path of PATHS) {
        // Count what the path passes, with nothing failing.
        const w = world(config);
        const hook = throwingHook(0);
        w.fs.setFaultPlan({ failLockAcquisition: 2 ** 31 - 1 });
        w.fs.setRaceHook(hook);
        path.run(w);
        const locks = w.fs.core.lockAcquisitions;
        expect(locks, `${label(config)} ${path.name} takes a lock`).toBeGreaterThan(0);
        for (let n = 1; n <= locks; n++) { faults++; if (runWithFault(config, path, { kind: 'lock', n })) failed++; }
        for (let n = 1; n <= hook.seen; n++) { faults++; if (runWithFault(config, path, { kind: 'point', n })) failed++; }
      }
      // The walk is not vacuous: most injected faults made the call fail (a busy try-lock is skipped instead).
      expect(faults).toBeGreaterThanOrEqual(15);
      expect(failed).toBeGreaterThan(faults / 2);
    });
  }
});

describe('issue 8 regressions', () => {
  it('free() whose freelist check fails leaves the bucket as it was, and a retry frees it (discard off)', () => {
    const fs = createFilesystem({ discard: false });
    const ob = fs.allocBucket()!;
    const e = fs.write(ob, 4);
    fs.put(ob);
    const before = state(fs);
    // The caller already holds the freelist lock: free() needs it to ask "is the bucket open?".
    fs.open.lock.lock();
    expect(() => fs.free(e)).toThrow();
    fs.open.lock.unlock();
    expectSameState(before, state(fs), 'free with the freelist lock unavailable');
    expect(fs.fsck().errors).toEqual([]);
    fs.free(e);
    expect(fs.fsck().errors).toEqual([]);
    expect(fs.stats().buckets.free).toBe(fs.config.buckets);
  });

  it('discard() that fails part-way keeps the buckets it did discard, counts them, says how many, and a retry does the rest', () => {
    const fs = createFilesystem({ buckets: 8, discard: true });
    for (let i = 0; i < 2; i++) {
      const ob = fs.allocBucket()!;
      const e = fs.write(ob, 4);
      fs.put(ob);
      fs.free(e);
    }
    expect(fs.stats().buckets.need_discard).toBe(2);
    // Each bucket's discard takes its record lock, then the freelist lock (is it open?): the third
    // acquisition is the second bucket's record lock.
    fs.setFaultPlan({ failLockAcquisition: 3 });
    let caught: unknown = null;
    try {
      fs.discard();
    } catch (e) {
      caught = e;
    }
    fs.setFaultPlan(null);
    expect(caught).toBeInstanceOf(LockTimeoutError);
    expect((caught as { discarded?: number }).discarded).toBe(1);
    expect(fs.stats().counters.discards).toBe(1);
    expect(fs.stats().buckets.need_discard).toBe(1);
    expect(fs.fsck().errors).toEqual([]);
    expect(fs.discard()).toBe(1);
    expect(fs.stats().counters.discards).toBe(2);
    expect(fs.stats().buckets.need_discard).toBe(0);
    expect(fs.fsck().errors).toEqual([]);
  });

  it('write() whose record lock wait fails keeps its extent entry and sectors', () => {
    const fs = createFilesystem({ extents: 8 });
    const ob = fs.allocBucket()!;
    for (let i = 0; i < 20; i++) {
      fs.setFaultPlan({ failLockAcquisition: 1 });
      expect(() => fs.write(ob, 1)).toThrow(LockTimeoutError);
    }
    fs.setFaultPlan(null);
    expect(ob.sectorsFree).toBe(fs.config.bucketSectors);
    expect(fs.fsck().counts.inFlightExtents).toBe(0);
    // All 8 entries are still there to be used, and the write lands at offset 0: no hole.
    expect(fs.write(ob, 1).offset).toBe(0);
    for (let i = 1; i < 8; i++) fs.write(ob, 1);
    expect(fs.fsck().errors).toEqual([]);
  });

  it('names of Object.prototype members are not data types, watermarks or options', () => {
    const fs = createFilesystem({ buckets: 8, bucketSectors: 8, openBuckets: 8 });
    for (const name of ['toString', 'constructor', '__proto__', 'valueOf', 'hasOwnProperty']) {
      expect(() => fs.allocBucket({ dataType: name as never }), name).toThrow(ConfigError);
      expect(() => fs.allocBucket({ watermark: name as never }), name).toThrow(ConfigError);
      expect(() => createFilesystem({ allocator: name as never }), name).toThrow(ConfigError);
      expect(() => createFilesystem({ fix: name as never }), name).toThrow(ConfigError);
    }
    expect(fs.fsck().errors).toEqual([]);
    expect(fs.stats().openBuckets.inUse).toBe(0);
  });

  it('arrays, class instances and objects with inherited keys are refused as options; undefined means the default', () => {
    expect(() => createFilesystem([] as never)).toThrow(/options: must be a plain object/);
    expect(() => createFilesystem(new Map() as never)).toThrow(/options: must be a plain object/);
    expect(() => createFilesystem(Object.create({ buckets: 8 }) as never)).toThrow(/options: must be a plain object/);
    const fs = createFilesystem({ buckets: undefined, fix: undefined, bucketSectors: 8 });
    expect(fs.config.buckets).toBe(1024);
    expect(fs.config.fix).toBe('none');
    expect(() => fs.allocBucket([] as never)).toThrow(/request: must be a plain object/);
    expect(() => fs.allocBucket(Object.create({ dataType: 'btree' }) as never)).toThrow(/request: must be a plain object/);
    expect(fs.allocBucket({ dataType: undefined, writer: undefined })!.dataType).toBe('user');
    expect(() => attachFilesystem(fs.handle, [] as never)).toThrow(/options: must be a plain object/);
    expect(attachFilesystem(fs.handle, { placement: undefined }).member).toBe(1);
  });

  it('an OpenBucket or Extent of one filesystem is refused by another of the same layout', () => {
    const a = createFilesystem({ buckets: 8, bucketSectors: 8, openBuckets: 8 });
    const b = createFilesystem({ buckets: 8, bucketSectors: 8, openBuckets: 8 });
    const obA = a.allocBucket()!;
    const eA = a.write(obA, 2);
    b.allocBucket();
    const before = state(b);
    expect(() => b.write(obA, 1)).toThrow(/openBucket: belongs to another filesystem/);
    expect(() => b.put(obA)).toThrow(StaleHandleError);
    expect(() => b.free(eA)).toThrow(/extent: belongs to another filesystem/);
    expect(() => b.free({ ...eA, fs: undefined } as never)).toThrow(/extent: belongs to another filesystem/);
    expectSameState(before, state(b), 'foreign handles');
    expect(b.fsck().errors).toEqual([]);
    // A handle is good in every view of its own filesystem.
    const a2 = attachFilesystem(a.handle);
    a2.free(eA);
    a2.put(obA);
    expect(a.fsck().errors).toEqual([]);
  });

  it('attach refuses a handle mixing two filesystems\' buffers, or a larger copy of one', () => {
    const a = createFilesystem({ buckets: 8, bucketSectors: 8, openBuckets: 8 });
    const b = createFilesystem({ buckets: 8, bucketSectors: 8, openBuckets: 8 });
    const mixed = { ...a.handle, region: { ...a.handle.region, buffers: [a.region.buffers[0]!, b.region.buffers[1]!, a.region.buffers[2]!] } };
    expect(() => attachFilesystem(mixed)).toThrow(RegionError);
    expect(() => attachFilesystem(mixed)).toThrow(/buffers of two regions mixed/);
    const big = new SharedArrayBuffer(a.region.buffers[1]!.byteLength + 64);
    new Uint8Array(big).set(new Uint8Array(a.region.buffers[1]!));
    const copied = { ...a.handle, region: { ...a.handle.region, buffers: [a.region.buffers[0]!, big, a.region.buffers[2]!] } };
    expect(() => attachFilesystem(copied)).toThrow(/a resized copy is not the shared memory/);
    // Neither refused attach took a registry member.
    expect(a.stats().members.alive).toBe(1);
  });

  it('a detached view refuses every call, and a second detach changes nothing', () => {
    const fs = createFilesystem({ buckets: 8, bucketSectors: 8, openBuckets: 8, maxThreads: 3 });
    const t1 = attachFilesystem(fs.handle);
    const ob = t1.allocBucket()!;
    t1.write(ob, 2);
    t1.detach();
    // detach() put t1's open bucket; its handle is stale now.
    expect(fs.stats().openBuckets.inUse).toBe(0);
    expect(() => fs.put(ob)).toThrow(StaleHandleError);
    for (const call of [() => t1.allocBucket(), () => t1.write(ob, 1), () => t1.put(ob), () => t1.discard(), () => t1.stats(), () => t1.fsck(), () => t1.recover(), () => t1.errors()]) {
      expect(call).toThrow(DetachedError);
    }
    const t2 = attachFilesystem(fs.handle);
    expect(t2.member).toBe(t1.member);
    t1.detach();
    // The second detach did not free t2's member.
    expect(fs.registry.state(t2.member)).toBe('alive');
    expect(fs.stats().members.alive).toBe(2);
    expect(fs.fsck().errors).toEqual([]);
  });

  it('the operation id counter crosses 2^31 and 2^32 without wrapping; handles keep working', () => {
    for (const edge of [2 ** 31, 2 ** 32]) {
      const fs = createFilesystem({ buckets: 8, bucketSectors: 8, openBuckets: 8 });
      Atomics.store(fs.region.i64('device64'), Dev64.opSeq, BigInt(edge - 2));
      const ids: number[] = [];
      for (let i = 0; i < 4; i++) {
        const ob = fs.allocBucket()!;
        ids.push(ob.opId);
        const e = fs.write(ob, 1);
        expect(e.opId).toBe(ob.opId);
        fs.put(ob);
        fs.free(e);
      }
      expect(ids).toEqual([edge - 1, edge, edge + 1, edge + 2]);
      expect(fs.stats().opIds).toBe(edge + 2);
      expect(fs.fsck().errors).toEqual([]);
    }
  });

  it('per-member scan counters count exactly across 2^31 and 2^32', () => {
    const fs = createFilesystem({ buckets: 64, bucketSectors: 8, openBuckets: 8 });
    const at = fs.counters.base(fs.member) + fs.counters.offsetOf('bucketsSeen');
    for (const edge of [2 ** 31, 2 ** 32]) {
      fs.counters.raw[at] = edge - 1;
      const ob = fs.allocBucket()!;
      expect(fs.stats().counters.bucketsSeen).toBeGreaterThanOrEqual(edge);
      fs.put(ob);
    }
  });

  it('the error log keeps counting past 2^31 errors without a RangeError', () => {
    const fs = createFilesystem({ buckets: 8, bucketSectors: 8, openBuckets: 8, errorLogSize: 4 });
    const dev64 = fs.region.i64('device64');
    for (const edge of [2 ** 31, 2 ** 32]) {
      Atomics.store(dev64, Dev64.errorTotal, BigInt(edge - 1));
      fs.errorLog.append(1, { bucket: 0, writer: 0, otherWriter: 1, member: 0, opId: edge, otherOpId: edge - 1, detail: 0 });
      fs.errorLog.append(1, { bucket: 0, writer: 0, otherWriter: 1, member: 0, opId: edge, otherOpId: edge - 1, detail: 0 });
      expect(fs.stats().errors.total).toBe(edge + 1);
      expect(fs.errors()).toEqual([]);
    }
  });
});
