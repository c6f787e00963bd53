/**
 * The allocator's public surface, single thread: every bad configuration and every bad call is
 * refused with an error that names the parameter and what it allows; stale handles are refused; a
 * refused call leaves shared memory exactly as it was (compared byte for byte); and the data paths
 * (write, put, free, discard) move records, usage and open slots the way docs/design.md says
 * ("Paths and their locks").
 */
import { describe, expect, it } from 'vitest';
import {
  attachFilesystem, createFilesystem, type Extent, type Filesystem, type FilesystemHandle, type OpenBucket,
} from '../src/alloc/filesystem.js';
import {
  MAX_BUCKETS, MAX_BUCKET_SECTORS, MAX_OPEN_BUCKETS, normalizeConfig, type FilesystemOptions,
} from '../src/alloc/config.js';
import { StaleHandleError } from '../src/alloc/errors.js';
import { RECORD_WORDS, Rec, stateFlags, stateGen, stateType } from '../src/alloc/bucket-table.js';
import { Dev } from '../src/alloc/device.js';
import { DataType, Flag } from '../src/alloc/types.js';
import { ConfigError } from '../src/shared/validate.js';
import { RegionError } from '../src/shared/region.js';

/** Runs fn, expects it to throw an instance of `type`, returns the error. */
function thrown<E extends Error>(fn: () => unknown, type: new (...a: never[]) => E): E {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a throw').toBeInstanceOf(type);
  return err as E;
}

function configError(fn: () => unknown, param: string, ...fragments: (string | RegExp)[]): ConfigError {
  const e = thrown(fn, ConfigError);
  expect(e.param).toBe(param);
  expect(e.message.startsWith(`${param}: `)).toBe(true);
  for (const f of fragments) expect(e.message).toMatch(f);
  return e;
}

const rec = (fs: Filesystem, b: number): { type: number; gen: number; flags: number; dirty: number; cached: number } => {
  const st = fs.records[b * RECORD_WORDS + Rec.state]!;
  return {
    type: stateType(st), gen: stateGen(st), flags: stateFlags(st),
    dirty: fs.records[b * RECORD_WORDS + Rec.dirty]!, cached: fs.records[b * RECORD_WORDS + Rec.cached]!,
  };
};

const SMALL: FilesystemOptions = { buckets: 8, bucketSectors: 8, openBuckets: 8 };

// ------------------------------------------------------------------ configuration

describe('createFilesystem rejects every bad option, naming it and its range', () => {
  const intRange = (param: string, lo: number, hi: number): string => `must be an integer in [${lo}, ${hi}]`;
  const bad: [string, FilesystemOptions | unknown, string, string][] = [
    ['buckets 0', { buckets: 0 }, 'buckets', intRange('buckets', 1, MAX_BUCKETS)],
    ['buckets negative', { buckets: -8 }, 'buckets', intRange('buckets', 1, MAX_BUCKETS)],
    ['buckets fractional', { buckets: 8.5 }, 'buckets', intRange('buckets', 1, MAX_BUCKETS)],
    ['buckets NaN', { buckets: NaN }, 'buckets', intRange('buckets', 1, MAX_BUCKETS)],
    ['buckets as a string', { buckets: '8' }, 'buckets', intRange('buckets', 1, MAX_BUCKETS)],
    ['buckets above the maximum', { buckets: MAX_BUCKETS + 1, bucketSectors: 1 }, 'buckets', intRange('buckets', 1, MAX_BUCKETS)],
    ['bucketSectors 0', { bucketSectors: 0 }, 'bucketSectors', intRange('bucketSectors', 1, MAX_BUCKET_SECTORS)],
    ['bucketSectors negative', { bucketSectors: -1 }, 'bucketSectors', intRange('bucketSectors', 1, MAX_BUCKET_SECTORS)],
    ['bucketSectors fractional', { bucketSectors: 0.5 }, 'bucketSectors', intRange('bucketSectors', 1, MAX_BUCKET_SECTORS)],
    ['bucketSectors above the maximum', { buckets: 1, bucketSectors: MAX_BUCKET_SECTORS + 1 }, 'bucketSectors', intRange('bucketSectors', 1, MAX_BUCKET_SECTORS)],
    ['openBuckets 3 (below 4)', { openBuckets: 3 }, 'openBuckets', intRange('openBuckets', 4, MAX_OPEN_BUCKETS)],
    ['openBuckets 0', { openBuckets: 0 }, 'openBuckets', intRange('openBuckets', 4, MAX_OPEN_BUCKETS)],
    ['openBuckets above MAX_OPEN_BUCKETS', { openBuckets: MAX_OPEN_BUCKETS + 1 }, 'openBuckets', intRange('openBuckets', 4, MAX_OPEN_BUCKETS)],
    ['openBuckets fractional', { openBuckets: 16.25 }, 'openBuckets', intRange('openBuckets', 4, MAX_OPEN_BUCKETS)],
    ['extents 0 is "default", -1 is not', { extents: -1 }, 'extents', intRange('extents', 1, 1 << 24)],
    ['maxThreads 0', { maxThreads: 0 }, 'maxThreads', intRange('maxThreads', 1, 1024)],
    ['errorLogSize 0', { errorLogSize: 0 }, 'errorLogSize', intRange('errorLogSize', 1, 1 << 16)],
    ['lockTimeoutMs fractional', { lockTimeoutMs: 1.5 }, 'lockTimeoutMs', intRange('lockTimeoutMs', 1, 3_600_000)],
    ['unknown allocator', { allocator: 'buddy' }, 'allocator', 'must be one of "early", "freelist", got "buddy"'],
    ['unknown fix', { fix: 'mutex' }, 'fix', 'must be one of "none", "seqlock", "keylock", got "mutex"'],
    ['fix of the wrong case', { fix: 'Seqlock' }, 'fix', 'must be one of "none", "seqlock", "keylock"'],
    ['unknown freelistLookup', { freelistLookup: 'sometimes' }, 'freelistLookup', 'must be one of "locked", "unlocked", got "sometimes"'],
    ['cursorFix as 1', { cursorFix: 1 }, 'cursorFix', 'must be true or false, got 1'],
    ['cursorFix as "true"', { cursorFix: 'true' }, 'cursorFix', 'must be true or false, got "true"'],
    ['discard as 0', { discard: 0 }, 'discard', 'must be true or false, got 0'],
    ['discard as null', { discard: null }, 'discard', 'must be true or false, got null'],
    ['options not an object', 42, 'options', 'must be a plain object'],
    ['options null', null, 'options', 'must be a plain object'],
  ];
  for (const [name, options, param, fragment] of bad) {
    it(name, () => {
      configError(() => createFilesystem(options as FilesystemOptions), param, fragment);
    });
  }

  it('unknown option keys are refused, not ignored, and the known ones are listed', () => {
    const e = configError(() => createFilesystem({ bucket: 8 } as FilesystemOptions), 'options.bucket', 'unknown option');
    for (const k of ['buckets', 'bucketSectors', 'openBuckets', 'allocator', 'fix', 'cursorFix', 'freelistLookup', 'discard']) {
      expect(e.message).toContain(k);
    }
    configError(() => createFilesystem({ ...SMALL, cursorfix: true } as FilesystemOptions), 'options.cursorfix', 'unknown option');
  });

  it('buckets × bucketSectors above 2^30 is refused before any memory is allocated', () => {
    configError(() => createFilesystem({ buckets: 1 << 16, bucketSectors: 1 << 15 }), 'buckets × bucketSectors',
      'at most 2^30 sectors', `got ${1 << 16} × ${1 << 15}`);
    configError(() => createFilesystem({ buckets: MAX_BUCKETS, bucketSectors: MAX_BUCKET_SECTORS }), 'buckets × bucketSectors', '2^30');
  });

  it('accepts the boundaries: 1 bucket, 1 sector, 4 open slots; exactly 2^30 sectors passes validation', () => {
    expect(normalizeConfig({ buckets: 1 << 14, bucketSectors: 1 << 16 })).toMatchObject({ buckets: 1 << 14, bucketSectors: 1 << 16 });
    expect(normalizeConfig({ openBuckets: MAX_OPEN_BUCKETS }).openBuckets).toBe(MAX_OPEN_BUCKETS);
    const fs = createFilesystem({ buckets: 1, bucketSectors: 1, openBuckets: 4 });
    expect(fs.config).toMatchObject({ buckets: 1, bucketSectors: 1, openBuckets: 4 });
    expect(fs.fsck().ok).toBe(true);
    const ob = fs.allocBucket({ watermark: 'reclaim' })!;
    expect(fs.write(ob, 1).offset).toBe(0);
  });

  it('fills unspecified options with the documented defaults', () => {
    const fs = createFilesystem({ buckets: 16, bucketSectors: 8 });
    expect(fs.config).toMatchObject({
      openBuckets: 1024, allocator: 'early', fix: 'none', cursorFix: false, freelistLookup: 'locked', discard: true,
    });
    expect(fs.config.extents).toBe(4096);
  });
});

// ------------------------------------------------------------------ bad calls on a live filesystem

/** A filesystem with some state: a full user bucket, an open half-written btree bucket, a need_discard bucket. */
function populated(options: FilesystemOptions = {}): { fs: Filesystem; open: OpenBucket; putHandle: OpenBucket; freed: Extent; live: Extent } {
  const fs = createFilesystem({ ...SMALL, ...options });
  const a = fs.allocBucket()!;
  const live = fs.write(a, 8);
  fs.put(a);
  const d = fs.allocBucket()!;
  const freed = fs.write(d, 2);
  fs.put(d);
  fs.free(freed);
  const open = fs.allocBucket({ dataType: 'btree', watermark: 'btree' })!;
  fs.write(open, 3);
  return { fs, open, putHandle: a, freed, live };
}

/** Every byte of every buffer of the region. */
function snapshot(fs: Filesystem): Uint8Array[] {
  return fs.region.buffers.map((b) => new Uint8Array(b).slice());
}

function expectUnchanged(fs: Filesystem, before: Uint8Array[], what: string): void {
  const after = snapshot(fs);
  for (let i = 0; i < before.length; i++) {
    const a = before[i]!;
    const b = after[i]!;
    let first = -1;
    for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) { first = k; break; }
    expect(first, `${what}: buffer ${i} changed at byte ${first}`).toBe(-1);
  }
  expect(fs.fsck().errors).toEqual([]);
}

describe('bad calls are refused, naming the parameter', () => {
  it('write: sectors 0, negative, fractional, non-number, more than the open bucket has left, more than a bucket', () => {
    const { fs, open } = populated();
    expect(open.sectorsFree).toBe(5);
    for (const sectors of [0, -1, 2.5, NaN, Infinity, '2' as unknown as number, 6, 9, 1000]) {
      configError(() => fs.write(open, sectors), 'sectors', 'must be an integer in [1, 5]', `bucket ${open.bucket}`, 'buckets hold 8');
    }
    expect(open.sectorsFree).toBe(5);
    expect(fs.write(open, 5).offset).toBe(3);
    configError(() => fs.write(open, 1), 'sectors', 'must be an integer in [1, 0]');
  });

  it('write: a bad writer', () => {
    const { fs, open } = populated();
    for (const writer of [-1, 1.5, 2 ** 30]) configError(() => fs.write(open, 1, writer), 'writer', 'must be an integer in [0, 1073741823]');
  });

  it('write and put on an OpenBucket that was already put: StaleHandleError naming openBucket', () => {
    const { fs, putHandle } = populated();
    const w = thrown(() => fs.write(putHandle, 1), StaleHandleError);
    expect(w.param).toBe('openBucket');
    expect(w.message).toMatch(/^openBucket: bucket \d+ \(op \d+\) is no longer open: it was already put$/);
    const p = thrown(() => fs.put(putHandle), StaleHandleError);
    expect(p.param).toBe('openBucket');
    expect(p.message).toContain('already put');
  });

  it('a put handle stays stale after its slot is reused by another allocation', () => {
    const fs = createFilesystem(SMALL);
    const a = fs.allocBucket()!;
    fs.put(a);
    const b = fs.allocBucket()!;
    expect(b.slot).toBe(a.slot);
    expect(b.bucket).toBe(a.bucket);
    expect(() => fs.write(a, 1)).toThrow(StaleHandleError);
    expect(() => fs.put(a)).toThrow(StaleHandleError);
    expect(fs.write(b, 1).opId).toBe(b.opId);
    expect(fs.fsck().ok).toBe(true);
  });

  it('write / put with something that is not an OpenBucket', () => {
    const { fs, open } = populated();
    const fake = { ...open } as OpenBucket;
    expect(thrown(() => fs.write(fake, 1), StaleHandleError).param).toBe('openBucket');
    expect(thrown(() => fs.put(null as unknown as OpenBucket), StaleHandleError).param).toBe('openBucket');
  });

  it('free of an already-freed extent, or of garbage: StaleHandleError naming extent', () => {
    const { fs, freed } = populated();
    const e = thrown(() => fs.free(freed), StaleHandleError);
    expect(e.param).toBe('extent');
    expect(e.message).toContain(`extent ${freed.id}`);
    expect(e.message).toContain('not live');
    for (const g of [null, undefined, 7, {}, { id: -1 }, { id: 1.5 }, { id: 1 << 30 }]) {
      expect(thrown(() => fs.free(g as unknown as Extent), StaleHandleError).param).toBe('extent');
    }
  });

  it('free of a live extent handle whose fields were altered', () => {
    const { fs, live } = populated();
    const before = snapshot(fs);
    const patches: Partial<Extent>[] = [
      { offset: 1 }, { sectors: 7 }, { bucket: live.bucket + 1 }, { opId: live.opId + 1 },
      // free() subtracts the handle's sectors from dirty or cached by its dataType: a handle that
      // says cached for a user extent must be refused, not subtract from the wrong counter.
      { dataType: 'cached' }, { dataType: 'btree' },
    ];
    for (const patch of patches) {
      expect(() => fs.free({ ...live, ...patch }), JSON.stringify(patch)).toThrow(StaleHandleError);
      expectUnchanged(fs, before, `free with ${JSON.stringify(patch)}`);
    }
    fs.free(live);
    expect(fs.fsck().ok).toBe(true);
  });

  it('allocBucket with a bad dataType, watermark or writer', () => {
    const { fs } = populated();
    for (const dataType of ['free', 'need_discard', 'metadata', '', 3]) {
      configError(() => fs.allocBucket({ dataType: dataType as never }), 'dataType', 'must be one of user, btree, cached', `got ${typeof dataType === 'string' ? JSON.stringify(dataType) : String(dataType)}`);
    }
    for (const watermark of ['urgent', 'Normal', 0]) {
      configError(() => fs.allocBucket({ watermark: watermark as never }), 'watermark', 'must be one of normal, btree, reclaim');
    }
    for (const writer of [-1, 0.5, 2 ** 30, '1']) {
      configError(() => fs.allocBucket({ writer: writer as never }), 'writer', 'must be an integer in [0, 1073741823]');
    }
  });

  it('discard with a bad max', () => {
    const { fs } = populated();
    for (const max of [-1, 1.5, NaN]) configError(() => fs.discard(max), 'max', 'must be an integer in [0, ');
  });

  it('no rejected call changes a byte of shared memory, and fsck stays clean', () => {
    const { fs, open, putHandle, freed, live } = populated();
    const before = snapshot(fs);
    const rejected: [string, () => unknown][] = [
      ['write sectors 0', () => fs.write(open, 0)],
      ['write too many', () => fs.write(open, 6)],
      ['write bad writer', () => fs.write(open, 1, -5)],
      ['write put handle', () => fs.write(putHandle, 1)],
      ['put put handle', () => fs.put(putHandle)],
      ['free freed', () => fs.free(freed)],
      ['free altered', () => fs.free({ ...live, offset: 3 })],
      ['free with the wrong dataType', () => fs.free({ ...live, dataType: 'cached' })],
      ['alloc bad type', () => fs.allocBucket({ dataType: 'free' as never })],
      ['alloc bad watermark', () => fs.allocBucket({ watermark: 'x' as never })],
      ['alloc bad writer', () => fs.allocBucket({ writer: -1 })],
      ['discard bad max', () => fs.discard(-2)],
    ];
    for (const [what, call] of rejected) {
      expect(call, what).toThrow();
      expectUnchanged(fs, before, what);
    }
    // And the handles the rejections were about still work.
    expect(fs.write(open, 5).offset).toBe(3);
    fs.put(open);
    fs.free(live);
    expect(fs.fsck().errors).toEqual([]);
  });

  it('a write refused because the extent table is full leaves the open bucket and shared memory unchanged', () => {
    const fs = createFilesystem({ ...SMALL, extents: 2 });
    const ob = fs.allocBucket()!;
    const e0 = fs.write(ob, 1);
    fs.write(ob, 1);
    const before = snapshot(fs);
    configError(() => fs.write(ob, 2), 'extents', 'extent table full', 'larger `extents`');
    expect(ob.sectorsFree).toBe(6);
    expectUnchanged(fs, before, 'write with the extent table full');
    // Room again: the next write lands right after the last one, with no hole.
    fs.free(e0);
    expect(fs.write(ob, 2).offset).toBe(2);
    expect(fs.fsck().errors).toEqual([]);
  });
});

// ------------------------------------------------------------------ attach

describe('attachFilesystem', () => {
  it('attaches a structured-cloned handle to the same memory', () => {
    const fs = createFilesystem(SMALL);
    const other = attachFilesystem(structuredClone(fs.handle));
    expect(other.member).toBe(1);
    const ob = other.allocBucket()!;
    other.write(ob, 4);
    expect(fs.stats().sectors.user).toBe(4);
    expect(fs.stats().openBuckets.inUse).toBe(1);
    expect(fs.fsck().counts.open).toBe(1);
  });

  it('refuses garbage with a ConfigError naming the handle', () => {
    for (const g of [null, undefined, 5, 'fs', {}, { kind: 'sab-alloc/race' }, [], () => 0]) {
      configError(() => attachFilesystem(g), 'handle', 'must be a filesystem handle');
    }
  });

  it('refuses a handle whose config is not a valid config', () => {
    const h = createFilesystem(SMALL).handle;
    configError(() => attachFilesystem({ ...h, config: { ...h.config, buckets: -1 } }), 'buckets', 'must be an integer in [1, ');
    configError(() => attachFilesystem({ ...h, config: { ...h.config, fix: 'bogus' } }), 'fix', 'must be one of');
    configError(() => attachFilesystem({ ...h, config: 'x' }), 'options', 'must be a plain object');
  });

  it('refuses a handle whose region is missing or whose buffers are non-shared ArrayBuffers', () => {
    const fs = createFilesystem(SMALL);
    const h = fs.handle;
    const noRegion = thrown(() => attachFilesystem({ kind: h.kind, config: h.config }), RegionError);
    expect(noRegion.message).toContain('expected { layout, buffers }');
    const copies = h.region.buffers.map((sab) => {
      const ab = new ArrayBuffer(sab.byteLength);
      new Uint8Array(ab).set(new Uint8Array(sab));
      return ab;
    });
    const e = thrown(() => attachFilesystem({ ...h, region: { layout: h.region.layout, buffers: copies as unknown as SharedArrayBuffer[] } }), RegionError);
    expect(e.message).toContain('buffers[0] is a non-shared ArrayBuffer');
  });

  it('refuses a handle whose config was tampered with so it no longer matches the memory', () => {
    const fs = createFilesystem(SMALL);
    const h = fs.handle;
    for (const patch of [{ buckets: 16 }, { bucketSectors: 4 }, { openBuckets: 16 }, { extents: 100 }, { maxThreads: 8 }, { errorLogSize: 4 }]) {
      const e = thrown(() => attachFilesystem({ ...h, config: { ...h.config, ...patch } } as FilesystemHandle), RegionError);
      expect(e.message, JSON.stringify(patch)).toContain('layout differs from what this build lays out for the same configuration');
    }
    // A refused attach claimed no thread slot: the next attach gets slot 1.
    expect(attachFilesystem(h).member).toBe(1);
  });

  it('refuses a handle whose config keeps the layout but would run other rules over the memory', () => {
    const fs = createFilesystem(SMALL);
    const h = fs.handle;
    for (const patch of [{ allocator: 'freelist' }, { fix: 'keylock' }, { cursorFix: !h.config.cursorFix }, { freelistLookup: 'unlocked' }, { discard: !h.config.discard }, { lockTimeoutMs: 5 }] as const) {
      const key = Object.keys(patch)[0]!;
      configError(() => attachFilesystem({ ...h, config: { ...h.config, ...patch } } as FilesystemHandle), `handle.config.${key}`, 'was created with another value');
    }
    expect(attachFilesystem(h).member).toBe(1);
  });

  it("refuses one filesystem's config with another's buffers", () => {
    const a = createFilesystem(SMALL);
    const b = createFilesystem({ ...SMALL, buckets: 64 });
    const e = thrown(() => attachFilesystem({ ...a.handle, region: b.handle.region }), RegionError);
    expect(e.message).toContain('layout differs');
  });

  it('throws a ConfigError naming maxThreads once every thread slot is taken, and gives the slot back', () => {
    const fs = createFilesystem({ ...SMALL, maxThreads: 3 });
    const t1 = attachFilesystem(fs.handle);
    const t2 = attachFilesystem(fs.handle);
    expect([fs.member, t1.member, t2.member]).toEqual([0, 1, 2]);
    for (let i = 0; i < 3; i++) {
      configError(() => attachFilesystem(fs.handle), 'maxThreads', 'all 3 thread-registry members are taken', 'larger maxThreads');
    }
    expect(fs.fsck().ok).toBe(true);
    const one = createFilesystem({ ...SMALL, maxThreads: 1 });
    configError(() => attachFilesystem(one.handle), 'maxThreads', 'all 1 thread-registry members are taken');
    // detach gives a slot back; the counts it collected stay in the totals.
    t1.put(t1.allocBucket()!);
    t1.detach();
    const t3 = attachFilesystem(fs.handle);
    expect(t3.member).toBe(1);
    expect(fs.stats().counters.allocs).toBe(1);
  });

  it('allocBucket refuses a misspelled or missing request instead of ignoring it', () => {
    const fs = createFilesystem(SMALL);
    configError(() => fs.allocBucket({ datatype: 'btree' } as never), 'request.datatype', 'unknown option');
    configError(() => fs.allocBucket(null as never), 'request', 'must be a plain object');
    expect(fs.fsck().ok).toBe(true);
  });

  it('a put OpenBucket reports no free sectors, even after its slot is reused', () => {
    const fs = createFilesystem(SMALL);
    const ob = fs.allocBucket()!;
    fs.put(ob);
    const next = fs.allocBucket()!;
    expect(next.slot).toBe(ob.slot);
    expect(ob.sectorsFree).toBe(0);
    expect(next.sectorsFree).toBe(SMALL.bucketSectors);
  });

  it('each attached thread counts into its own counter block; stats sums them', () => {
    const fs = createFilesystem(SMALL);
    const t = attachFilesystem(fs.handle);
    fs.put(fs.allocBucket()!);
    t.put(t.allocBucket()!);
    t.put(t.allocBucket()!);
    expect(fs.counters.read(0).allocs).toBe(1);
    expect(fs.counters.read(1).allocs).toBe(2);
    expect(fs.stats().counters.allocs).toBe(3);
    expect(fs.stats().counters.puts).toBe(3);
  });
});

// ------------------------------------------------------------------ data paths

describe('data paths', () => {
  it('write returns an Extent at offset = bucketSectors − sectorsFree and moves usage', () => {
    const fs = createFilesystem(SMALL);
    const ob = fs.allocBucket({ writer: 17 })!;
    expect(ob).toMatchObject({ bucket: 0, gen: 0, dataType: 'user', writer: 17, sectorsFree: 8 });
    expect(fs.stats().buckets).toMatchObject({ free: 8, user: 0 });
    const written: Extent[] = [];
    for (const k of [3, 1, 4]) {
      const before = ob.sectorsFree;
      const e = fs.write(ob, k);
      expect(e.offset).toBe(8 - before);
      written.push(e);
      expect(e).toMatchObject({ bucket: 0, gen: 0, sectors: k, dataType: 'user', writer: 17, opId: ob.opId, fs: fs.identity });
      expect(ob.sectorsFree).toBe(before - k);
    }
    expect(written.map((e) => e.offset)).toEqual([0, 3, 4]);
    expect(fs.stats().buckets).toMatchObject({ free: 7, user: 1 });
    expect(fs.stats().sectors).toEqual({ user: 8, btree: 0, cached: 0 });
    expect(rec(fs, 0)).toMatchObject({ type: DataType.user, dirty: 8, cached: 0 });
    expect(fs.freeSpace.has(0)).toBe(false);
    // The sector map names the extent covering each sector; at an extent's first sector that is its backpointer.
    const [e0, e1, e2] = written.map((e) => e.id + 1);
    expect(Array.from(fs.sectorMap.subarray(0, 8))).toEqual([e0, e0, e0, e1, e2, e2, e2, e2]);
    expect(fs.stats().counters.commits).toBe(3);
  });

  it('a write may name another writer; the extent records it', () => {
    const fs = createFilesystem(SMALL);
    const ob = fs.allocBucket({ writer: 1 })!;
    expect(fs.write(ob, 2, 9).writer).toBe(9);
    expect(fs.fsck().ok).toBe(true);
  });

  it('btree and cached writes count under their own types', () => {
    const fs = createFilesystem(SMALL);
    const b = fs.allocBucket({ dataType: 'btree', watermark: 'btree' })!;
    const c = fs.allocBucket({ dataType: 'cached' })!;
    fs.write(b, 5);
    fs.write(c, 2);
    expect(fs.stats().buckets).toMatchObject({ free: 6, btree: 1, cached: 1 });
    expect(fs.stats().sectors).toEqual({ user: 0, btree: 5, cached: 2 });
    expect(rec(fs, c.bucket)).toMatchObject({ type: DataType.cached, dirty: 0, cached: 2 });
  });

  it('put releases the slot and takes the bucket out of the open-bucket hash', () => {
    const fs = createFilesystem(SMALL);
    const a = fs.allocBucket()!;
    const b = fs.allocBucket()!;
    expect(fs.stats().openBuckets).toEqual({ inUse: 2, free: 5, slots: 7 });
    expect(fs.open.isOpen(a.bucket)).toBe(true);
    fs.write(a, 1);
    fs.put(a);
    expect(fs.stats().openBuckets).toEqual({ inUse: 1, free: 6, slots: 7 });
    expect(fs.open.isOpen(a.bucket)).toBe(false);
    expect(fs.open.isOpen(b.bucket)).toBe(true);
    expect(fs.stats().counters.puts).toBe(1);
    // Its data stays: put is not free.
    expect(rec(fs, a.bucket)).toMatchObject({ type: DataType.user, dirty: 1 });
    fs.put(b);
    expect(fs.stats().openBuckets.inUse).toBe(0);
    expect(fs.fsck().counts.open).toBe(0);
  });

  it('discard: true — freeing the last extent sends the bucket to need_discard; discard() frees it with gen + 1', () => {
    const fs = createFilesystem({ ...SMALL, discard: true });
    const ob = fs.allocBucket()!;
    const e1 = fs.write(ob, 3);
    const e2 = fs.write(ob, 3);
    fs.put(ob);
    fs.free(e1);
    expect(rec(fs, ob.bucket)).toMatchObject({ type: DataType.user, dirty: 3, gen: 0 });
    fs.free(e2);
    expect(rec(fs, ob.bucket)).toMatchObject({ type: DataType.need_discard, dirty: 0, gen: 0, flags: Flag.need_discard | Flag.emptied });
    expect(fs.needDiscard.has(ob.bucket)).toBe(true);
    expect(fs.freeSpace.has(ob.bucket)).toBe(false);
    expect(fs.stats().buckets).toMatchObject({ need_discard: 1, user: 0, free: 7 });
    expect(fs.stats().sectors.user).toBe(0);
    expect(fs.fsck().ok).toBe(true);
    // Not allocatable while it waits.
    const next = fs.allocBucket()!;
    expect(next.bucket).not.toBe(ob.bucket);
    fs.put(next);
    expect(fs.discard()).toBe(1);
    expect(rec(fs, ob.bucket)).toMatchObject({ type: DataType.free, gen: 1, flags: 0 });
    expect(fs.freeSpace.has(ob.bucket)).toBe(true);
    expect(fs.needDiscard.has(ob.bucket)).toBe(false);
    expect(fs.stats().counters.discards).toBe(1);
    expect(fs.discard()).toBe(0);
    expect(fs.fsck().ok).toBe(true);
  });

  it('discard: false — freeing the last extent of a bucket that is not open frees it at once with gen + 1', () => {
    const fs = createFilesystem({ ...SMALL, discard: false });
    const ob = fs.allocBucket()!;
    const e = fs.write(ob, 8);
    fs.put(ob);
    fs.free(e);
    expect(rec(fs, ob.bucket)).toMatchObject({ type: DataType.free, gen: 1, flags: 0, dirty: 0 });
    expect(fs.freeSpace.has(ob.bucket)).toBe(true);
    expect(fs.needDiscard.has(ob.bucket)).toBe(false);
    expect(fs.stats().buckets).toMatchObject({ free: 8, need_discard: 0 });
    const again = fs.allocBucket()!;
    expect(again).toMatchObject({ bucket: ob.bucket, gen: 1 });
    expect(fs.fsck().ok).toBe(true);
  });

  for (const discard of [false, true]) {
    it(`discard: ${discard} — an emptied bucket that is still open keeps its gen and waits in need_discard`, () => {
      const fs = createFilesystem({ ...SMALL, discard });
      const ob = fs.allocBucket()!;
      const e = fs.write(ob, 2);
      fs.free(e);
      const r = rec(fs, ob.bucket);
      expect(r).toMatchObject({ type: DataType.need_discard, gen: 0 });
      expect(r.flags & Flag.need_discard).toBe(Flag.need_discard);
      expect(r.flags & Flag.need_inc_gen).toBe(discard ? 0 : Flag.need_inc_gen);
      expect(fs.fsck().ok).toBe(true);
      // discard() skips it while it is open: its writer's pointers carry gen 0.
      expect(fs.discard()).toBe(0);
      expect(rec(fs, ob.bucket).gen).toBe(0);
      // The writer can still write there, with its gen; the bucket leaves need_discard.
      const e2 = fs.write(ob, 2);
      expect(e2).toMatchObject({ gen: 0, offset: 2 });
      // Its own allocation's write: no error; the record remembers this gen's data was once emptied.
      expect(rec(fs, ob.bucket)).toMatchObject({ type: DataType.user, gen: 0, flags: Flag.emptied, dirty: 2 });
      expect(fs.needDiscard.has(ob.bucket)).toBe(false);
      expect(fs.fsck().ok).toBe(true);
      // Emptied again, put, then discarded: gen + 1 only now.
      fs.free(e2);
      fs.put(ob);
      expect(rec(fs, ob.bucket)).toMatchObject({ type: DataType.need_discard, gen: 0 });
      expect(fs.discard()).toBe(1);
      expect(rec(fs, ob.bucket)).toMatchObject({ type: DataType.free, gen: 1, flags: 0 });
      expect(fs.fsck().ok).toBe(true);
    });
  }

  it('discard(max) discards at most max buckets, skips open ones, and resumes where it stopped', () => {
    const fs = createFilesystem({ buckets: 16, bucketSectors: 4, openBuckets: 32, discard: true });
    const handles = Array.from({ length: 6 }, () => fs.allocBucket({ watermark: 'reclaim' })!);
    const extents = handles.map((ob) => fs.write(ob, 1));
    for (const ob of handles.slice(0, 5)) fs.put(ob);
    for (const e of extents) fs.free(e);
    // Buckets 0..5 wait for discard; 5 is still open.
    expect(fs.stats().buckets.need_discard).toBe(6);
    expect(fs.discard(2)).toBe(2);
    expect([0, 1].map((b) => rec(fs, b).type)).toEqual([DataType.free, DataType.free]);
    expect(rec(fs, 2).type).toBe(DataType.need_discard);
    expect(fs.discard(0)).toBe(0);
    expect(fs.discard()).toBe(3);
    expect(rec(fs, 5)).toMatchObject({ type: DataType.need_discard, gen: 0 });
    expect(fs.discard()).toBe(0);
    fs.put(handles[5]!);
    expect(fs.discard()).toBe(1);
    expect(fs.stats().buckets).toMatchObject({ free: 16, need_discard: 0 });
    expect(Array.from({ length: 6 }, (_, b) => rec(fs, b).gen)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(fs.fsck().ok).toBe(true);
  });

  it('a bucket with cached data only is freed the same way when its last cached extent goes', () => {
    const fs = createFilesystem({ ...SMALL, discard: false });
    const ob = fs.allocBucket({ dataType: 'cached' })!;
    const a = fs.write(ob, 2);
    const b = fs.write(ob, 2);
    fs.put(ob);
    fs.free(a);
    expect(rec(fs, ob.bucket)).toMatchObject({ type: DataType.cached, cached: 2 });
    fs.free(b);
    expect(rec(fs, ob.bucket)).toMatchObject({ type: DataType.free, cached: 0, gen: 1 });
    expect(fs.stats().sectors.cached).toBe(0);
    expect(fs.fsck().ok).toBe(true);
  });
});
