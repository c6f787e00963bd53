/**
 * Property tests, single thread, against an independent model of the allocator.
 *
 * The model keeps, per bucket, gen / dirty / cached / need_discard / the dirty data's type, the open
 * handles, the live extents and the allocation cursor — and from those predicts what every call must
 * return: which bucket an allocation opens (the first free, not-open bucket from the cursor, or from
 * 0 without the cursor fix; null when there is none or the watermark's reserve is used up), the
 * extent a write returns, what a free does to its bucket, which buckets a discard may take. After
 * every command fsck must be clean and the usage counters, open-slot count and sector totals must
 * equal the model's. Single-threaded, every allocator × fix × cursorFix × discard combination must
 * behave identically, so all 24 run the same property.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createFilesystem, type Extent, type Filesystem, type OpenBucket } from '../src/alloc/filesystem.js';
import { StaleHandleError } from '../src/alloc/errors.js';
import { BitmapIndex, bitmapWords } from '../src/alloc/bitmap-index.js';
import { ConfigError } from '../src/shared/validate.js';
import { RECORD_WORDS, Rec, stateFlags, stateGen, stateOldestGen, stateType } from '../src/alloc/bucket-table.js';
import {
  ALLOCATORS, DataType, FIXES, Flag, type AllocatorKind, type FixKind, type Watermark, type WriteType,
} from '../src/alloc/types.js';

// ------------------------------------------------------------------ the model

interface MBucket { gen: number; dirty: number; cached: number; needDiscard: boolean; dirtyType: number }

/** Slots an allocation at this watermark must leave unused: half, a quarter, none (of all slots, slot 0 included, as bcachefs). */
function reserved(wm: Watermark, usable: number): number {
  const count = usable + 1;
  return wm === 'normal' ? Math.floor(count / 2) : wm === 'btree' ? Math.floor(count / 4) : 0;
}

const TYPE_CODE: Record<WriteType, number> = { user: DataType.user, btree: DataType.btree, cached: DataType.cached };

class Model {
  readonly b: MBucket[];
  readonly handles: { ob: OpenBucket; sectorsFree: number }[] = [];
  readonly live: Extent[] = [];
  cursor = 0;

  constructor(readonly n: number, readonly S: number, readonly usable: number, readonly cursorFix: boolean, readonly discardOn: boolean) {
    this.b = Array.from({ length: n }, () => ({ gen: 0, dirty: 0, cached: 0, needDiscard: false, dirtyType: 0 }));
  }

  type(b: number): number {
    const m = this.b[b]!;
    if (m.dirty > 0) return m.dirtyType;
    if (m.cached > 0) return DataType.cached;
    return m.needDiscard ? DataType.need_discard : DataType.free;
  }

  isOpen(b: number): boolean { return this.handles.some((h) => h.ob.bucket === b); }

  /** The bucket allocBucket must open, or null. */
  predictAlloc(wm: Watermark): number | null {
    if (this.usable - this.handles.length <= reserved(wm, this.usable)) return null;
    const start = this.cursorFix ? this.cursor : 0;
    for (let i = 0; i < this.n; i++) {
      const b = (start + i) % this.n;
      if (this.type(b) === DataType.free && !this.isOpen(b)) return b;
    }
    return null;
  }
}

// ------------------------------------------------------------------ commands

type Cmd =
  | { t: 'alloc'; dataType: WriteType; watermark: Watermark }
  | { t: 'write'; i: number; k: number }
  | { t: 'put'; i: number }
  | { t: 'free'; j: number }
  | { t: 'discard'; k: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('alloc' as const),
      dataType: fc.constantFrom<WriteType>('user', 'btree', 'cached'),
      watermark: fc.constantFrom<Watermark>('normal', 'btree', 'reclaim'),
    }),
  },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('write' as const), i: fc.nat(63), k: fc.nat(63) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('put' as const), i: fc.nat(63) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('free' as const), j: fc.nat(255) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('discard' as const), k: fc.integer({ min: 0, max: 4 }) }) },
);

function apply(fs: Filesystem, m: Model, c: Cmd): void {
  const S = m.S;
  switch (c.t) {
    case 'alloc': {
      const want = m.predictAlloc(c.watermark);
      const ob = fs.allocBucket({ dataType: c.dataType, watermark: c.watermark });
      if (want === null) {
        expect(ob).toBeNull();
        return;
      }
      expect(ob).not.toBeNull();
      expect(ob!.bucket).toBe(want);
      expect(ob!.gen).toBe(m.b[want]!.gen);
      expect(ob!.dataType).toBe(c.dataType);
      expect(ob!.sectorsFree).toBe(S);
      expect(m.handles.some((h) => h.ob.slot === ob!.slot)).toBe(false);
      m.handles.push({ ob: ob!, sectorsFree: S });
      if (m.cursorFix) m.cursor = (want + 1) % m.n;
      return;
    }
    case 'write': {
      if (m.handles.length === 0) return;
      const h = m.handles[c.i % m.handles.length]!;
      if (h.sectorsFree === 0) {
        // A full open bucket refuses even one sector, and the refusal changes nothing.
        expect(() => fs.write(h.ob, 1)).toThrow(ConfigError);
        return;
      }
      const k = 1 + (c.k % h.sectorsFree);
      const e = fs.write(h.ob, k);
      expect(e).toMatchObject({ bucket: h.ob.bucket, gen: h.ob.gen, offset: S - h.sectorsFree, sectors: k, dataType: h.ob.dataType });
      h.sectorsFree -= k;
      expect(h.ob.sectorsFree).toBe(h.sectorsFree);
      const mb = m.b[h.ob.bucket]!;
      const dt = TYPE_CODE[h.ob.dataType];
      if (dt === DataType.cached) mb.cached += k;
      else {
        if (mb.dirty === 0) mb.dirtyType = dt;
        mb.dirty += k;
      }
      mb.needDiscard = false;
      m.live.push(e);
      return;
    }
    case 'put': {
      if (m.handles.length === 0) return;
      const [h] = m.handles.splice(c.i % m.handles.length, 1);
      fs.put(h!.ob);
      return;
    }
    case 'free': {
      if (m.live.length === 0) return;
      const [e] = m.live.splice(c.j % m.live.length, 1);
      fs.free(e!);
      const mb = m.b[e!.bucket]!;
      if (e!.dataType === 'cached') mb.cached -= e!.sectors;
      else mb.dirty -= e!.sectors;
      if (mb.dirty === 0 && mb.cached === 0) {
        if (m.discardOn || m.isOpen(e!.bucket)) mb.needDiscard = true;
        else mb.gen = (mb.gen + 1) & 0xff;
      }
      return;
    }
    case 'discard': {
      const eligible = m.b.map((_, b) => b).filter((b) => m.type(b) === DataType.need_discard && !m.isOpen(b));
      const done = fs.discard(c.k);
      expect(done).toBe(Math.min(c.k, eligible.length));
      let seen = 0;
      for (let b = 0; b < m.n; b++) {
        const st = fs.records[b * RECORD_WORDS + Rec.state]!;
        if (m.type(b) === DataType.need_discard && stateType(st) === DataType.free) {
          expect(eligible).toContain(b);
          const mb = m.b[b]!;
          mb.gen = (mb.gen + 1) & 0xff;
          mb.needDiscard = false;
          seen++;
        }
      }
      expect(seen).toBe(done);
      return;
    }
  }
}

/** Everything the model knows, against shared memory. */
function check(fs: Filesystem, m: Model): void {
  const r = fs.fsck();
  expect(r.errors).toEqual([]);
  expect(r.counts.extents).toBe(m.live.length);
  expect(r.counts.open).toBe(m.handles.length);
  const st = fs.stats();
  const want = { free: 0, need_discard: 0, user: 0, btree: 0, cached: 0 };
  const names = ['free', 'need_discard', 'user', 'btree', 'cached'] as const;
  for (let b = 0; b < m.n; b++) {
    want[names[m.type(b)]!]++;
    const s = fs.records[b * RECORD_WORDS + Rec.state]!;
    expect(stateType(s), `type of bucket ${b}`).toBe(m.type(b));
    expect(stateGen(s), `gen of bucket ${b}`).toBe(m.b[b]!.gen);
    // The flag, not only the derived type: a bucket that got data back must have lost it.
    expect((stateFlags(s) & Flag.need_discard) !== 0, `need_discard flag of bucket ${b}`).toBe(m.b[b]!.needDiscard);
    expect(fs.needDiscard.has(b), `need-discard index for bucket ${b}`).toBe(m.b[b]!.needDiscard);
    expect(fs.freeSpace.has(b), `free-space index for bucket ${b}`).toBe(m.type(b) === DataType.free);
  }
  expect(st.buckets).toEqual(want);
  expect(Object.values(st.buckets).reduce((a, x) => a + x, 0)).toBe(m.n);
  expect(st.openBuckets.inUse).toBe(m.handles.length);
  expect(st.openBuckets.free).toBe(m.usable - m.handles.length);
  const sum = (t: WriteType): number => m.live.filter((e) => e.dataType === t).reduce((a, e) => a + e.sectors, 0);
  expect(st.sectors).toEqual({ user: sum('user'), btree: sum('btree'), cached: sum('cached') });
}

const sizesArb = fc.record({
  buckets: fc.integer({ min: 8, max: 64 }),
  bucketSectors: fc.integer({ min: 4, max: 16 }),
  openBuckets: fc.integer({ min: 8, max: 32 }),
  unlocked: fc.boolean(),
  cmds: fc.array(cmdArb, { minLength: 1, maxLength: 80 }),
});

describe('any command sequence keeps fsck clean and the model exact', () => {
  for (const allocator of ALLOCATORS) {
    for (const fix of FIXES) {
      for (const cursorFix of [false, true]) {
        for (const discard of [true, false]) {
          it(`${allocator} / fix ${fix} / cursorFix ${cursorFix} / discard ${discard}`, () => {
            fc.assert(fc.property(sizesArb, (p) => {
              const fs = createFilesystem({
                buckets: p.buckets, bucketSectors: p.bucketSectors, openBuckets: p.openBuckets, extents: 512,
                allocator, fix, cursorFix, discard, freelistLookup: p.unlocked ? 'unlocked' : 'locked',
              });
              const m = new Model(p.buckets, p.bucketSectors, p.openBuckets - 1, cursorFix, discard);
              check(fs, m);
              for (const c of p.cmds) {
                apply(fs, m, c);
                check(fs, m);
              }
            }), { numRuns: 25 });
          });
        }
      }
    }
  }

  it('the model is not vacuous: sequences reach full tables, reserve refusals, discards and gen bumps', () => {
    // One long fixed run that must pass through every branch the property relies on.
    const fs = createFilesystem({ buckets: 8, bucketSectors: 4, openBuckets: 8, extents: 512, discard: true });
    const m = new Model(8, 4, 7, false, true);
    // Writes of k: 2 take 1 + (2 mod sectorsFree) sectors: 3 into an empty bucket, then the last 1.
    const cmds: Cmd[] = [];
    for (let i = 0; i < 6; i++) cmds.push({ t: 'alloc', dataType: 'user', watermark: 'reclaim' });
    for (let i = 0; i < 6; i++) cmds.push({ t: 'write', i, k: 2 });
    cmds.push({ t: 'alloc', dataType: 'btree', watermark: 'normal' }); // reserve: 6 of 7 slots used
    for (let i = 0; i < 6; i++) cmds.push({ t: 'put', i: 0 });
    for (let i = 0; i < 2; i++) cmds.push({ t: 'alloc', dataType: 'cached', watermark: 'normal' });
    for (let i = 0; i < 3; i++) cmds.push({ t: 'write', i, k: 2 });
    cmds.push({ t: 'alloc', dataType: 'user', watermark: 'reclaim' }); // every bucket holds data or is open
    for (let i = 0; i < 8; i++) cmds.push({ t: 'free', j: 0 }); // the last empties a bucket still open
    cmds.push({ t: 'discard', k: 3 }, { t: 'discard', k: 100 }); // 6 eligible; the open one waits
    cmds.push({ t: 'put', i: 0 }, { t: 'put', i: 0 }, { t: 'discard', k: 100 });
    let nulls = 0;
    for (const c of cmds) {
      const before = m.handles.length;
      apply(fs, m, c);
      if (c.t === 'alloc' && m.handles.length === before) nulls++;
      check(fs, m);
    }
    expect(nulls).toBe(2);
    expect(fs.stats().counters.reserveRefusals).toBe(1);
    expect(fs.stats().counters.allocFailures).toBe(1);
    expect(fs.stats().counters.discards).toBe(7);
    expect(m.b.filter((b) => b.gen === 1)).toHaveLength(7);
    expect(m.b[6]).toMatchObject({ gen: 0, cached: 1 });
  });
});

// ------------------------------------------------------------------ the reserve rule

describe('open-bucket reserve', () => {
  it('normal leaves floor(slots/2) unused, btree floor(slots/4), reclaim takes all — exactly (slots counts slot 0, as bcachefs)', () => {
    for (let openBuckets = 4; openBuckets <= 40; openBuckets++) {
      const usable = openBuckets - 1;
      const half = Math.floor(openBuckets / 2);
      const quarter = Math.floor(openBuckets / 4);
      const fs = createFilesystem({ buckets: 128, bucketSectors: 4, openBuckets });
      const take = (wm: Watermark): number => {
        let k = 0;
        while (fs.allocBucket({ watermark: wm }) !== null) k++;
        return k;
      };
      const normal = take('normal');
      expect(normal, `openBuckets ${openBuckets}`).toBe(usable - half);
      const btree = take('btree');
      expect(btree, `openBuckets ${openBuckets}`).toBe(half - quarter);
      const reclaim = take('reclaim');
      expect(reclaim, `openBuckets ${openBuckets}`).toBe(quarter);
      expect(fs.stats().openBuckets).toEqual({ inUse: usable, free: 0, slots: usable });
      expect(fs.stats().counters.reserveRefusals).toBe(3);
      expect(fs.stats().counters.allocFailures).toBe(0);
      expect(fs.fsck().ok).toBe(true);
    }
  });

  it('holds for any interleaving of allocations at each watermark and puts', () => {
    fc.assert(fc.property(
      fc.integer({ min: 4, max: 40 }),
      fc.array(fc.oneof(fc.constantFrom<Watermark>('normal', 'btree', 'reclaim'), fc.nat(100)), { maxLength: 120 }),
      (openBuckets, ops) => {
        const usable = openBuckets - 1;
        const fs = createFilesystem({ buckets: 256, bucketSectors: 4, openBuckets });
        const open: OpenBucket[] = [];
        let refusals = 0;
        for (const op of ops) {
          if (typeof op === 'number') {
            if (open.length > 0) fs.put(open.splice(op % open.length, 1)[0]!);
            continue;
          }
          const allowed = usable - open.length > reserved(op, usable);
          const ob = fs.allocBucket({ watermark: op });
          expect(ob !== null).toBe(allowed);
          if (ob !== null) open.push(ob);
          else refusals++;
          expect(fs.stats().openBuckets.inUse).toBe(open.length);
        }
        expect(fs.stats().counters.reserveRefusals).toBe(refusals);
        expect(fs.fsck().ok).toBe(true);
      },
    ), { numRuns: 100 });
  });
});

// ------------------------------------------------------------------ allocation failure

describe('allocBucket returns null', () => {
  for (const allocator of ALLOCATORS) {
    it(`${allocator}: when every bucket holds data or is open, and only then`, () => {
      const fs = createFilesystem({ buckets: 10, bucketSectors: 4, openBuckets: 64, allocator });
      const open: OpenBucket[] = [];
      for (let i = 0; i < 10; i++) {
        const ob = fs.allocBucket();
        expect(ob?.bucket).toBe(i);
        open.push(ob!);
      }
      expect(fs.allocBucket()).toBeNull();
      expect(fs.stats().counters.allocFailures).toBe(1);
      // Fill and put half; they hold data now, still nothing to allocate.
      for (const ob of open.splice(0, 5)) { fs.write(ob, 4); fs.put(ob); }
      expect(fs.allocBucket()).toBeNull();
      // Put an open bucket that holds nothing: it is free and allocatable again.
      const empty = open.pop()!;
      fs.put(empty);
      const again = fs.allocBucket();
      expect(again?.bucket).toBe(empty.bucket);
      expect(fs.allocBucket()).toBeNull();
      expect(fs.stats().counters.allocFailures).toBe(3);
      expect(fs.stats().counters.reserveRefusals).toBe(0);
    });
  }
});

// ------------------------------------------------------------------ cursor fix

describe('cursor fix', () => {
  /** 256 buckets with the first 200 full, then 50 allocate/write/put cycles: buckets scanned. */
  function seenAfterFill(allocator: AllocatorKind, cursorFix: boolean, fix: FixKind): { fill: number; cycles: number; buckets: number[] } {
    const fs = createFilesystem({ buckets: 256, bucketSectors: 4, openBuckets: 16, allocator, cursorFix, fix });
    for (let i = 0; i < 200; i++) {
      const ob = fs.allocBucket()!;
      fs.write(ob, 4);
      fs.put(ob);
    }
    const fill = fs.stats().counters.bucketsSeen;
    const buckets: number[] = [];
    for (let i = 0; i < 50; i++) {
      const ob = fs.allocBucket()!;
      buckets.push(ob.bucket);
      fs.write(ob, 1);
      fs.put(ob);
    }
    expect(fs.fsck().ok).toBe(true);
    return { fill, cycles: fs.stats().counters.bucketsSeen - fill, buckets };
  }

  for (const fix of FIXES) {
    it(`early allocator (fix ${fix}): with the cursor each allocation looks at one bucket; without, it rescans from 0`, () => {
      const withFix = seenAfterFill('early', true, fix);
      const without = seenAfterFill('early', false, fix);
      expect(withFix.buckets).toEqual(without.buckets);
      expect(withFix.buckets).toEqual(Array.from({ length: 50 }, (_, i) => 200 + i));
      // With the cursor: every scan starts at the next free bucket.
      expect(withFix.fill).toBe(200);
      expect(withFix.cycles).toBe(50);
      // Without: allocation i walks past the 200 + i used buckets first.
      expect(without.fill).toBe((200 * 201) / 2);
      expect(without.cycles).toBe(50 * 201 + (49 * 50) / 2);
    });
  }

  it('freelist allocator only looks at free buckets either way', () => {
    expect(seenAfterFill('freelist', false, 'none').cycles).toBe(50);
    expect(seenAfterFill('freelist', true, 'none').cycles).toBe(50);
  });

  it('the cursor wraps: after the last bucket the scan continues at 0 and sees each bucket once', () => {
    const fs = createFilesystem({ buckets: 32, bucketSectors: 4, openBuckets: 8, cursorFix: true });
    const got: number[] = [];
    const live: Extent[] = [];
    for (let i = 0; i < 32; i++) {
      const ob = fs.allocBucket()!;
      got.push(ob.bucket);
      live.push(fs.write(ob, 4));
      fs.put(ob);
    }
    expect(got).toEqual(Array.from({ length: 32 }, (_, i) => i));
    expect(fs.stats().cursor).toBe(0);
    fs.free(live[3]!);
    fs.free(live[20]!);
    fs.discard();
    const seen0 = fs.stats().counters.bucketsSeen;
    expect(fs.allocBucket()!.bucket).toBe(3);
    expect(fs.stats().counters.bucketsSeen - seen0).toBe(4);
    expect(fs.allocBucket()!.bucket).toBe(20);
    expect(fs.stats().counters.bucketsSeen - seen0).toBe(4 + 17);
    // Nothing free: one full lap (wrapping once), then null.
    expect(fs.allocBucket({ watermark: 'reclaim' })).toBeNull();
    expect(fs.stats().counters.bucketsSeen - seen0).toBe(4 + 17 + 32);
  });
});

// ------------------------------------------------------------------ gens

describe('gens', () => {
  const gen = (fs: Filesystem, b: number): number => stateGen(fs.records[b * RECORD_WORDS + Rec.state]!);

  it('a bucket reused after discard has gen + 1, and extents carry the gen they were written with', () => {
    const fs = createFilesystem({ buckets: 4, bucketSectors: 8, openBuckets: 8, discard: true });
    const a = fs.allocBucket()!;
    expect(a.gen).toBe(0);
    const e1 = fs.write(a, 2);
    const e2 = fs.write(a, 2);
    fs.put(a);
    expect([e1.gen, e2.gen]).toEqual([0, 0]);
    fs.free(e1);
    expect(gen(fs, a.bucket)).toBe(0);
    fs.free(e2);
    expect(gen(fs, a.bucket)).toBe(0); // waits in need_discard: the gen moves at discard
    expect(stateType(fs.records[a.bucket * RECORD_WORDS + Rec.state]!)).toBe(DataType.need_discard);
    expect(fs.discard()).toBe(1);
    expect(gen(fs, a.bucket)).toBe(1);
    expect(stateOldestGen(fs.records[a.bucket * RECORD_WORDS + Rec.state]!)).toBe(1);
    const b = fs.allocBucket()!;
    expect(b.bucket).toBe(a.bucket);
    expect(b.gen).toBe(1);
    const e3 = fs.write(b, 8);
    expect(e3.gen).toBe(1);
    expect(fs.extents.get(e3.id, 4 /* Ext.genType: gen in bits 0..7 */) & 0xff).toBe(1);
    expect(fs.fsck().ok).toBe(true);
  });

  it('the gen wraps at 255 → 0 over many reuse cycles, with fsck clean at every step', () => {
    for (const discard of [true, false]) {
      const fs = createFilesystem({ buckets: 1, bucketSectors: 4, openBuckets: 4, discard });
      for (let i = 0; i < 300; i++) {
        const ob = fs.allocBucket({ watermark: 'reclaim' })!;
        expect(ob.gen).toBe(i & 0xff);
        const e = fs.write(ob, 4);
        expect(e.gen).toBe(i & 0xff);
        fs.put(ob);
        fs.free(e);
        if (discard) {
          expect(gen(fs, 0)).toBe(i & 0xff);
          expect(fs.discard()).toBe(1);
        }
        expect(gen(fs, 0)).toBe((i + 1) & 0xff);
        const r = fs.fsck();
        expect(r.errors).toEqual([]);
      }
    }
  });

  it('a freed Extent handle is refused, even when its id now holds an extent at the same place', () => {
    // One extent slot: the second write reuses id 0 at the same bucket, offset and length.
    const fs = createFilesystem({ buckets: 1, bucketSectors: 4, openBuckets: 4, extents: 1 });
    const ob1 = fs.allocBucket({ watermark: 'reclaim' })!;
    const old = fs.write(ob1, 4);
    fs.put(ob1);
    fs.free(old);
    expect(() => fs.free(old)).toThrow(StaleHandleError);
    fs.discard();
    const ob2 = fs.allocBucket({ watermark: 'reclaim' })!;
    const cur = fs.write(ob2, 4);
    expect(cur).toMatchObject({ id: old.id, bucket: old.bucket, offset: old.offset, sectors: old.sectors });
    expect(cur.gen).toBe(old.gen + 1);
    expect(() => fs.free(old)).toThrow(StaleHandleError);
    expect(() => fs.free(old)).toThrow(/extent/);
    // The refusal left the live extent alone.
    let r = fs.fsck();
    expect(r.errors).toEqual([]);
    expect(r.counts.extents).toBe(1);
    fs.free(cur);
    r = fs.fsck();
    expect(r.errors).toEqual([]);
    expect(r.counts.extents).toBe(0);
  });
});

// ------------------------------------------------------------------ the free-space bitmap

describe('BitmapIndex (free-space and need-discard indexes) against a set', () => {
  it('next(from, to), has and count agree with a plain set, across leaf and summary word boundaries', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 5000 }),
      fc.array(fc.tuple(fc.boolean(), fc.nat()), { maxLength: 300 }),
      fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 40 }),
      (n, ops, queries) => {
        const words = new Int32Array(new SharedArrayBuffer(bitmapWords(n) * 4));
        const idx = new BitmapIndex(words, n);
        const set = new Set<number>();
        // Clustered around word and summary boundaries as well as uniform.
        const hot = [0, 31, 32, 33, 1023, 1024, 1025, 2047, 2048, n - 1];
        for (const [add, r] of ops) {
          const b = r % 3 === 0 ? Math.min(n - 1, hot[r % hot.length]!) : r % n;
          if (add) { idx.add(b); set.add(b); } else { idx.remove(b); set.delete(b); }
        }
        expect(idx.count()).toBe(set.size);
        expect(idx.summaryConsistent()).toBe(true);
        for (const [x, y] of queries) {
          const from = x % (n + 1);
          const to = from + (y % (n + 1 - from));
          let want = -1;
          for (let b = from; b < to; b++) if (set.has(b)) { want = b; break; }
          expect(idx.next(from, to), `next(${from}, ${to}) of ${n}`).toBe(want);
          if (from < n) expect(idx.has(from)).toBe(set.has(from));
        }
      },
    ), { numRuns: 150 });
  });

  it('agrees with a plain set on devices with three and four levels (32768 and 1048576 bucket boundaries)', () => {
    fc.assert(fc.property(
      fc.constantFrom(40_000, 1_100_000),
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: -40, max: 40 }), fc.constantFrom(0, 32, 1024, 32_768, 65_536, 1_048_576)), { maxLength: 200 }),
      fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 20 }),
      (n, ops, queries) => {
        const idx = new BitmapIndex(new Int32Array(new SharedArrayBuffer(bitmapWords(n) * 4)), n);
        const set = new Set<number>();
        for (const [add, delta, anchor] of ops) {
          const b = Math.min(n - 1, Math.max(0, anchor + delta));
          if (add) { idx.add(b); set.add(b); } else { idx.remove(b); set.delete(b); }
        }
        expect(idx.summaryConsistent()).toBe(true);
        expect(idx.count()).toBe(set.size);
        const sorted = [...set].sort((p, q) => p - q);
        for (const [x, y] of queries) {
          const from = x % n;
          const to = Math.min(n, from + 1 + (y % n));
          const want = sorted.find((b) => b >= from && b < to) ?? -1;
          expect(idx.next(from, to), `next(${from}, ${to}) of ${n}`).toBe(want);
        }
      },
    ), { numRuns: 60 });
  });

  it('the freelist allocator finds free buckets across summary words on a large device', () => {
    const n = 3000;
    const fs = createFilesystem({ buckets: n, bucketSectors: 1, openBuckets: 8, allocator: 'freelist', cursorFix: true, discard: false });
    const live: Extent[] = [];
    for (let i = 0; i < n; i++) {
      const ob = fs.allocBucket()!;
      expect(ob.bucket).toBe(i);
      live.push(fs.write(ob, 1));
      fs.put(ob);
    }
    expect(fs.allocBucket()).toBeNull();
    const holes = [2999, 5, 1024, 2047, 1023, 2048];
    for (const b of holes) fs.free(live[b]!);
    // The cursor is at 0 (wrapped after bucket 2999): holes come back in bucket order, each with gen 1.
    const got: number[] = [];
    for (let i = 0; i < holes.length; i++) {
      const ob = fs.allocBucket()!;
      expect(ob.gen).toBe(1);
      got.push(ob.bucket);
      fs.put(ob);
    }
    expect(got).toEqual([...holes].sort((p, q) => p - q));
    expect(fs.stats().counters.bucketsSeen).toBe(n + holes.length);
    expect(fs.fsck().errors).toEqual([]);
  });
});
