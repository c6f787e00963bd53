/**
 * The allocation oracle and the online detectors, deterministic: one thread, two views of one
 * filesystem, and a race hook that holds the first view's allocation between its candidate read and
 * its publish while the second view does something to bucket K. Then the stale view publishes K
 * (a duplicate allocation: the oracle must say so, exactly once) and writes — and each thing the
 * other task could have done to K must be caught online (the AllocError the writer gets) and by
 * fsck, and the duplicate tallied by what it broke when it is put.
 *
 *   what the other task did to K          the stale task then        caught as
 *   wrote two extents, kept both          writes 1 at offset 0       duplicate_backpointer
 *   wrote two, freed the first            writes 1 at offset 0       foreign_allocation (no sector shared)
 *   wrote two, freed the first            writes 3 (mid-extent)      extent_overlap
 *   wrote two, freed both (need_discard)  writes 1                   write_after_empty
 *   freed both, K discarded (gen + 1)     writes with the old gen    gen_mismatch / stale_extent
 *   wrote and kept                        puts without writing       latent (oracle only)
 */
import { describe, expect, it } from 'vitest';
import { AllocError, attachFilesystem, createFilesystem, type Filesystem, type OpenBucket } from '../src/alloc/index.js';
import type { FilesystemOptions } from '../src/alloc/config.js';
import type { FsckKind } from '../src/alloc/fsck.js';
import { RacePoint } from '../src/alloc/race-points.js';

interface Row {
  name: string;
  discard?: boolean;
  /** What the other task (view t2) does to bucket K while the stale task is held. */
  other: (t2: Filesystem) => void;
  /** Sectors the stale task writes (0: it puts without writing). */
  staleWrite: number;
  online: string[];
  fsck: FsckKind[];
  consequence: 'dupOverwrote' | 'dupShared' | 'dupAwaitingDiscard' | 'dupStaleGen' | 'dupLatent';
  cls: 'dupLosesData' | 'dupMetadataOnly' | 'dupLatent';
}

function writeTwo(t2: Filesystem, a: number, b: number): { ob: OpenBucket; e: ReturnType<Filesystem['write']>[] } {
  const ob = t2.allocBucket()!;
  expect(ob.bucket).toBe(0);
  expect(ob.duplicate).toBe(false);
  return { ob, e: [t2.write(ob, a), t2.write(ob, b)] };
}

const ROWS: Row[] = [
  {
    name: 'wrote two extents and kept both',
    other: (t2) => { const { ob } = writeTwo(t2, 2, 2); t2.put(ob); },
    staleWrite: 1,
    online: ['duplicate_backpointer', 'foreign_allocation'],
    fsck: ['duplicate_backpointer', 'extent_overlap', 'foreign_allocation'],
    consequence: 'dupOverwrote', cls: 'dupLosesData',
  },
  {
    name: 'wrote two, freed the first, kept the second; the stale write shares no sector',
    other: (t2) => { const { ob, e } = writeTwo(t2, 1, 2); t2.free(e[0]!); t2.put(ob); },
    staleWrite: 1,
    online: ['foreign_allocation'],
    fsck: ['foreign_allocation'],
    consequence: 'dupShared', cls: 'dupMetadataOnly',
  },
  {
    name: 'wrote two, freed the first, kept the second; the stale write overlaps it mid-extent',
    other: (t2) => { const { ob, e } = writeTwo(t2, 1, 2); t2.free(e[0]!); t2.put(ob); },
    staleWrite: 3,
    online: ['extent_overlap', 'foreign_allocation'],
    fsck: ['extent_overlap', 'foreign_allocation'],
    consequence: 'dupOverwrote', cls: 'dupLosesData',
  },
  {
    name: 'wrote two and freed both: K waits in need_discard, never discarded',
    other: (t2) => { const { ob, e } = writeTwo(t2, 1, 2); t2.put(ob); t2.free(e[0]!); t2.free(e[1]!); },
    staleWrite: 1,
    online: ['write_after_empty'],
    fsck: ['written_after_empty'],
    consequence: 'dupAwaitingDiscard', cls: 'dupLosesData',
  },
  {
    name: 'freed both and K was discarded (gen + 1): the stale write carries the old gen',
    other: (t2) => { const { ob, e } = writeTwo(t2, 1, 2); t2.put(ob); t2.free(e[0]!); t2.free(e[1]!); expect(t2.discard()).toBe(1); },
    staleWrite: 1,
    online: ['gen_mismatch'],
    fsck: ['stale_extent'],
    consequence: 'dupStaleGen', cls: 'dupLosesData',
  },
  {
    name: 'discard off: freed both after the put, K free again at gen + 1',
    discard: false,
    other: (t2) => { const { ob, e } = writeTwo(t2, 1, 2); t2.put(ob); t2.free(e[0]!); t2.free(e[1]!); },
    staleWrite: 1,
    online: ['gen_mismatch'],
    fsck: ['stale_extent'],
    consequence: 'dupStaleGen', cls: 'dupLosesData',
  },
  {
    name: 'wrote and kept; the stale task puts without writing (latent)',
    other: (t2) => { const { ob } = writeTwo(t2, 2, 2); t2.put(ob); },
    staleWrite: 0,
    online: [],
    fsck: [],
    consequence: 'dupLatent', cls: 'dupLatent',
  },
];

const ALLOCATORS: { name: string; options: FilesystemOptions }[] = [
  { name: 'early/none', options: { allocator: 'early', fix: 'none' } },
  { name: 'freelist/unlocked', options: { allocator: 'freelist', freelistLookup: 'unlocked' } },
];

/** The stale task's allocation, held at its candidate read of bucket 0 while `other` runs in view t2. */
function staleAllocation(options: FilesystemOptions, other: (t2: Filesystem) => void): { fs: Filesystem; ob: OpenBucket | null } {
  const fs = createFilesystem({ buckets: 4, bucketSectors: 8, openBuckets: 16, ...options });
  const t2 = attachFilesystem(fs.handle);
  let held = false;
  fs.setRaceHook({
    at(point, bucket) {
      if (point !== RacePoint.candidateRead || held) return;
      held = true;
      expect(bucket).toBe(0);
      other(t2);
    },
  });
  const ob = fs.allocBucket();
  fs.setRaceHook(null);
  return { fs, ob };
}

describe('each way a duplicate allocation can break a bucket is caught online and by fsck, and tallied', () => {
  for (const a of ALLOCATORS) {
    for (const row of ROWS) {
      it(`${a.name}: ${row.name}`, () => {
        const { fs, ob } = staleAllocation({ ...a.options, discard: row.discard ?? true }, row.other);
        expect(ob!.bucket).toBe(0);
        expect(ob!.duplicate).toBe(true);
        expect(fs.stats().counters.duplicateAllocations).toBe(1);
        let online: string[] = [];
        if (row.staleWrite > 0) {
          try {
            fs.write(ob!, row.staleWrite);
          } catch (e) {
            expect(e).toBeInstanceOf(AllocError);
            online = (e as AllocError).kinds;
          }
        }
        expect(online).toEqual(row.online);
        expect(fs.stats().errors.total).toBe(row.online.length);
        fs.put(ob!);
        const c = fs.stats().counters;
        expect(c.duplicateAllocations).toBe(1);
        expect(c[row.consequence]).toBe(1);
        expect(c[row.cls]).toBe(1);
        expect(c.dupLatent + c.dupLosesData + c.dupMetadataOnly).toBe(1);
        const report = fs.fsck();
        expect([...new Set(report.errors.map((e) => e.kind))].sort()).toEqual([...row.fsck].sort());
      });
    }
  }

  it('negative control: under each fix the held allocation skips bucket 0, the oracle counts nothing, and fsck is clean', () => {
    for (const options of [
      { allocator: 'early', fix: 'seqlock' }, { allocator: 'early', fix: 'keylock' }, { allocator: 'freelist', freelistLookup: 'locked' },
    ] as FilesystemOptions[]) {
      const { fs, ob } = staleAllocation(options, (t2) => { const { ob: o } = writeTwo(t2, 2, 2); t2.put(o); });
      expect(ob!.bucket, JSON.stringify(options)).not.toBe(0);
      expect(ob!.duplicate).toBe(false);
      fs.write(ob!, 1);
      fs.put(ob!);
      expect(fs.stats().counters.duplicateAllocations).toBe(0);
      expect(fs.fsck().errors).toEqual([]);
    }
  });

  it('with the oracle off nothing is counted, and the allocator decides exactly the same', () => {
    const on = staleAllocation({ allocator: 'early', fix: 'none', oracle: true }, (t2) => { const { ob } = writeTwo(t2, 2, 2); t2.put(ob); });
    const off = staleAllocation({ allocator: 'early', fix: 'none', oracle: false }, (t2) => { const { ob } = writeTwo(t2, 2, 2); t2.put(ob); });
    expect(off.ob!.bucket).toBe(on.ob!.bucket);
    expect(off.ob!.gen).toBe(on.ob!.gen);
    expect(off.ob!.duplicate).toBe(false);
    expect(off.fs.stats().counters.duplicateAllocations).toBe(0);
    // The online detectors do not depend on the oracle.
    expect(() => off.fs.write(off.ob!, 1)).toThrow(AllocError);
  });
});
