/**
 * fsck, one corruption at a time. For every kind fsck can report, a small filesystem is brought into
 * a real state through the public API (allocate, write, put, free, discard), checked clean, then one
 * word of shared memory is changed the way a bug would change it, and fsck must name that kind and
 * that bucket. Each case also lists the other kinds the same corruption implies (a changed sector
 * count is also a usage miscount, …); anything else reported fails the case, so a fsck that flags
 * everything as everything would not pass.
 *
 * The case table is typed Record<FsckKind, …>: adding a kind to FSCK_KINDS without a case here is a
 * type error, and a test below checks the table against FSCK_KINDS at run time as well.
 */
import { describe, expect, it } from 'vitest';
import { createFilesystem, type Extent, type Filesystem, type OpenBucket } from '../src/alloc/filesystem.js';
import { FSCK_KINDS, type FsckKind } from '../src/alloc/fsck.js';
import { RECORD_WORDS, Rec, packState, stateFlags, stateGen, stateOldestGen, stateType } from '../src/alloc/bucket-table.js';
import { EXTENT_LIVE, EXTENT_WORDS, Ext, extentGen, extentType, packGenType } from '../src/alloc/extents.js';
import { SLOT_F64, SLOT_OP_F64, SLOT_WORDS, Slot } from '../src/alloc/open-buckets.js';
import { Dev } from '../src/alloc/device.js';
import { usageBuckets, usageSectors } from '../src/alloc/counters.js';
import { DataType, Flag } from '../src/alloc/types.js';
import { streamRng } from '../src/shared/prng.js';
import { MEMBER_WORDS, REGISTRY_HEADER_WORDS } from '../src/locks/thread-registry.js';

const BUCKETS = 16;
const S = 8;
const OPEN = 8;

interface World {
  fs: Filesystem;
  /** User bucket written full by one op (two extents, [0,4) and [4,8)), put. */
  full: { bucket: number; e0: Extent; e1: Extent };
  /** Btree bucket still open, holding 3 sectors at [0,3). */
  openData: { ob: OpenBucket; e: Extent };
  /** Cached bucket, 2 sectors, put. */
  cached: { bucket: number; e: Extent };
  /** Emptied bucket waiting for discard. */
  needDiscard: number;
  /** Bucket written, emptied, discarded: free again with gen 1. */
  reused: number;
  /** Open bucket with nothing written yet (its record is still free). */
  openEmpty: OpenBucket;
  /** A free bucket that is not open and was never touched. */
  free: number;
}

/** A small filesystem with one bucket in every interesting state, reached through the public API. */
function world(): World {
  // cursorFix: allocations move on past the buckets already set up, so `reused` stays free.
  const fs = createFilesystem({ buckets: BUCKETS, bucketSectors: S, openBuckets: OPEN, extents: 64, cursorFix: true });
  const a = fs.allocBucket({ dataType: 'user' })!;
  const e0 = fs.write(a, 4);
  const e1 = fs.write(a, 4);
  fs.put(a);

  const r = fs.allocBucket({ dataType: 'user' })!;
  fs.free(fs.write(r, 2));
  fs.put(r);
  expect(fs.discard()).toBe(1);

  const b = fs.allocBucket({ dataType: 'btree', watermark: 'btree' })!;
  const eb = fs.write(b, 3);

  const c = fs.allocBucket({ dataType: 'cached' })!;
  const ec = fs.write(c, 2);
  fs.put(c);

  const d = fs.allocBucket({ dataType: 'user' })!;
  const ed = fs.write(d, 2);
  fs.put(d);
  fs.free(ed);
  const openEmpty = fs.allocBucket({ dataType: 'user' })!;
  return {
    fs,
    full: { bucket: a.bucket, e0, e1 },
    openData: { ob: b, e: eb },
    cached: { bucket: c.bucket, e: ec },
    needDiscard: d.bucket,
    reused: r.bucket,
    openEmpty,
    free: BUCKETS - 1,
  };
}

// ------------------------------------------------------------------ raw word access

const recAt = (b: number, w: number): number => b * RECORD_WORDS + w;

function patchState(fs: Filesystem, b: number, p: { gen?: number; oldest?: number; type?: number; flags?: number }): void {
  const st = fs.records[recAt(b, Rec.state)]!;
  fs.records[recAt(b, Rec.state)] = packState(
    p.gen ?? stateGen(st), p.oldest ?? stateOldestGen(st), p.type ?? stateType(st), p.flags ?? stateFlags(st),
  );
}

const extAt = (id: number, w: number): number => id * EXTENT_WORDS + w;

function setExt(fs: Filesystem, id: number, w: number, v: number): void {
  fs.extents.words[extAt(id, w)] = v;
}

function setExtGen(fs: Filesystem, id: number, gen: number): void {
  const gt = fs.extents.words[extAt(id, Ext.genType)]!;
  setExt(fs, id, Ext.genType, packGenType(gen, extentType(gt)));
}

function setExtType(fs: Filesystem, id: number, type: number): void {
  const gt = fs.extents.words[extAt(id, Ext.genType)]!;
  setExt(fs, id, Ext.genType, packGenType(extentGen(gt), type));
}

function setSlotOp(fs: Filesystem, slot: number, opId: number): void {
  const s = slotsOf(fs);
  new Float64Array(s.buffer, s.byteOffset, s.length >>> 1)[slot * SLOT_F64 + SLOT_OP_F64] = opId;
}

/** Adds `n` to this view's share of a usage counter (usage is the sum of every member's share). */
function bumpUsage(fs: Filesystem, offset: number, n: number): void {
  fs.counters.raw[fs.counters.base(fs.member) + offset]! += n;
}

/** A registry member of a thread that does not exist (lock owner `owner`), reported dead. */
function deadMember(fs: Filesystem, owner: number): number {
  const reg = fs.registry;
  const m = reg.join({ threadId: 9999 });
  Atomics.store(reg.i32, reg.index + REGISTRY_HEADER_WORDS + m * MEMBER_WORDS + 1, owner);
  expect(reg.markDead(m)).toBe(true);
  return m;
}

function slotsOf(fs: Filesystem): Int32Array { return fs.region.i32('slots'); }
function hashOf(fs: Filesystem): Int32Array { return fs.region.i32('hash'); }

function clearBit(words: Int32Array, b: number): void { words[b >>> 5]! &= ~(1 << (b & 31)); }
function setBit(words: Int32Array, b: number): void { words[b >>> 5]! |= 1 << (b & 31); }

// ------------------------------------------------------------------ corrupt, then expect

interface Case {
  name: string;
  /** Changes shared memory; returns the bucket the error must name (-1: a device-wide total). */
  corrupt: (w: World) => number;
  /** Other kinds the same corruption necessarily implies. */
  alsoAllowed?: FsckKind[];
}

function expectKind(kind: FsckKind, c: Case): void {
  const w = world();
  const before = w.fs.fsck();
  expect(before.errors).toEqual([]);
  expect(before.ok).toBe(true);
  const bucket = c.corrupt(w);
  const after = w.fs.fsck();
  expect(after.ok).toBe(false);
  const mine = after.errors.filter((e) => e.kind === kind);
  expect(mine.map((e) => e.bucket), `${kind} errors: ${JSON.stringify(after.errors)}`).toContain(bucket);
  if (bucket >= 0) {
    for (const e of mine.filter((x) => x.bucket === bucket)) expect(e.message).toContain(String(bucket));
  }
  const allowed = new Set<FsckKind>([kind, ...(c.alsoAllowed ?? [])]);
  const unexpected = after.errors.filter((e) => !allowed.has(e.kind));
  expect(unexpected, 'kinds this corruption does not imply').toEqual([]);
  expect(after.errorCount).toBe(after.errors.length);
  expect(after.byKind[kind]).toBe(mine.length);
}

const CASES: Record<FsckKind, Case[]> = {
  invalid_record: [
    {
      name: 'data_type field holds no known type',
      corrupt: (w) => { patchState(w.fs, w.full.bucket, { type: 9 }); return w.full.bucket; },
      // The record is skipped, so the recount misses its bucket and sectors.
      alsoAllowed: ['usage_mismatch'],
    },
    {
      name: 'negative dirty_sectors',
      corrupt: (w) => { w.fs.records[recAt(w.reused, Rec.dirty)] = -3; return w.reused; },
      alsoAllowed: ['usage_mismatch'],
    },
  ],
  record_type_mismatch: [
    {
      name: 'user bucket with dirty sectors says cached',
      corrupt: (w) => { patchState(w.fs, w.full.bucket, { type: DataType.cached }); return w.full.bucket; },
      alsoAllowed: ['data_type_mismatch', 'usage_mismatch'],
    },
    {
      name: 'need_discard type with the need_discard flag cleared (fields derive free)',
      corrupt: (w) => { patchState(w.fs, w.needDiscard, { flags: 0 }); return w.needDiscard; },
      alsoAllowed: ['need_discard_mismatch'],
    },
  ],
  oldest_gen_newer: [{
    name: 'oldest_gen moved past gen',
    corrupt: (w) => {
      expect(stateGen(w.fs.records[recAt(w.reused, Rec.state)]!)).toBe(1);
      patchState(w.fs, w.reused, { oldest: 2 });
      return w.reused;
    },
  }],
  sector_sum_mismatch: [
    {
      name: 'dirty_sectors one short of its extents',
      corrupt: (w) => { w.fs.records[recAt(w.full.bucket, Rec.dirty)] = 7; return w.full.bucket; },
      alsoAllowed: ['usage_mismatch'],
    },
    {
      name: 'cached_sectors one over its extents',
      corrupt: (w) => { w.fs.records[recAt(w.cached.bucket, Rec.cached)] = 3; return w.cached.bucket; },
      alsoAllowed: ['usage_mismatch'],
    },
  ],
  freespace_mismatch: [
    {
      name: 'free bucket missing from the free-space index',
      corrupt: (w) => { clearBit(w.fs.region.i32('freeSpace'), w.free); return w.free; },
    },
    {
      name: 'bucket holding data present in the free-space index',
      corrupt: (w) => { setBit(w.fs.region.i32('freeSpace'), w.full.bucket); return w.full.bucket; },
    },
    {
      name: 'summary word hides a non-empty leaf word',
      corrupt: (w) => {
        const words = w.fs.region.i32('freeSpace');
        const leaves = Math.ceil(BUCKETS / 32);
        words[leaves] = 0;
        return -1;
      },
    },
  ],
  need_discard_mismatch: [
    {
      name: 'need_discard bucket missing from the need-discard index',
      corrupt: (w) => { clearBit(w.fs.region.i32('needDiscard'), w.needDiscard); return w.needDiscard; },
    },
    {
      name: 'free bucket in the need-discard index',
      corrupt: (w) => { setBit(w.fs.region.i32('needDiscard'), w.free); return w.free; },
    },
    {
      name: 'bucket holding data flagged need_discard (and indexed as such)',
      corrupt: (w) => {
        patchState(w.fs, w.full.bucket, { flags: Flag.need_discard });
        setBit(w.fs.region.i32('needDiscard'), w.full.bucket);
        return w.full.bucket;
      },
    },
  ],
  extent_out_of_bucket: [
    {
      name: 'extent runs past the end of its bucket',
      corrupt: (w) => { setExt(w.fs, w.full.e1.id, Ext.sectors, 5); return w.full.bucket; },
      alsoAllowed: ['sector_sum_mismatch'],
    },
    {
      name: 'extent points outside the device',
      corrupt: (w) => { setExt(w.fs, w.full.e1.id, Ext.bucket, BUCKETS + 3); return BUCKETS + 3; },
      // Its old bucket loses 4 sectors and keeps a backpointer naming it.
      alsoAllowed: ['sector_sum_mismatch', 'orphan_backpointer'],
    },
  ],
  extent_overlap: [{
    name: 'first extent grown into the second',
    corrupt: (w) => {
      setExt(w.fs, w.full.e0.id, Ext.sectors, 5);
      w.fs.records[recAt(w.full.bucket, Rec.dirty)] = 9;
      bumpUsage(w.fs, usageSectors(DataType.user), 1);
      return w.full.bucket;
    },
  }],
  data_type_mismatch: [{
    name: 'btree extent inside a user bucket',
    corrupt: (w) => { setExtType(w.fs, w.full.e0.id, DataType.btree); return w.full.bucket; },
  }],
  gen_newer_than_bucket: [{
    name: 'extent gen ahead of its bucket',
    corrupt: (w) => { setExtGen(w.fs, w.full.e0.id, 1); return w.full.bucket; },
  }],
  stale_extent: [
    {
      name: 'bucket gen bumped under live dirty extents (reused under them)',
      corrupt: (w) => { patchState(w.fs, w.full.bucket, { gen: 1, oldest: 1 }); return w.full.bucket; },
    },
    {
      name: 'extent gen one behind, across the u8 wrap (255 vs 0)',
      corrupt: (w) => { setExtGen(w.fs, w.full.e1.id, 255); return w.full.bucket; },
    },
  ],
  missing_backpointer: [{
    name: 'backpointer (the sector-map entry at an extent\'s first sector) cleared',
    corrupt: (w) => { w.fs.sectorMap[w.full.bucket * S + 4] = 0; return w.full.bucket; },
    alsoAllowed: ['unmapped_sector'],
  }],
  unmapped_sector: [{
    name: 'sector-map entry inside an extent cleared',
    corrupt: (w) => { w.fs.sectorMap[w.full.bucket * S + 2] = 0; return w.full.bucket; },
  }],
  foreign_allocation: [{
    name: 'an extent at the bucket\'s gen from another allocation than the one whose bucket it is',
    corrupt: (w) => { w.fs.extents.f64[w.full.e1.id * 4 + 3] = 4242; return w.full.bucket; },
  }],
  written_after_empty: [{
    name: 'the same, in a bucket emptied at this gen and not discarded since',
    corrupt: (w) => {
      patchState(w.fs, w.full.bucket, { flags: Flag.emptied });
      w.fs.extents.f64[w.full.e1.id * 4 + 3] = 4242;
      return w.full.bucket;
    },
  }],
  lock_held_by_dead: [{
    name: 'a bucket\'s record lock held for write by a dead member',
    corrupt: (w) => {
      deadMember(w.fs, 4711);
      w.fs.records[recAt(w.full.bucket, Rec.lock)] = (1 << 30) | 4711;
      return w.full.bucket;
    },
    alsoAllowed: ['dead_member'],
  }],
  dead_member: [{
    name: 'a member reported dead and not recovered',
    corrupt: (w) => { deadMember(w.fs, 4712); return -1; },
  }],
  duplicate_backpointer: [{
    name: 'a second live extent at the same (bucket, offset)',
    corrupt: (w) => {
      const x = w.fs.extents.words;
      let id = 0;
      while (x[extAt(id, Ext.state)] !== 0) id++;
      const src = w.full.e0;
      setExt(w.fs, id, Ext.bucket, src.bucket);
      setExt(w.fs, id, Ext.genType, packGenType(src.gen, DataType.user));
      setExt(w.fs, id, Ext.offset, src.offset);
      setExt(w.fs, id, Ext.sectors, src.sectors);
      setExt(w.fs, id, Ext.writer, 77);
      w.fs.extents.f64[id * 4 + 3] = src.opId;
      setExt(w.fs, id, Ext.state, EXTENT_LIVE);
      return src.bucket;
    },
    // Two extents over the same sectors, and 4 more sectors than the record holds.
    alsoAllowed: ['extent_overlap', 'sector_sum_mismatch'],
  }],
  orphan_backpointer: [
    {
      name: 'sector-map entry naming a bogus extent id',
      corrupt: (w) => { w.fs.sectorMap[w.openData.ob.bucket * S + 5] = 12345; return w.openData.ob.bucket; },
    },
    {
      name: 'sector-map entry naming a live extent that is elsewhere',
      corrupt: (w) => { w.fs.sectorMap[w.reused * S + 0] = w.full.e0.id + 1; return w.reused; },
    },
  ],
  duplicate_open: [{
    name: 'a second, properly linked open slot for an open bucket',
    corrupt: (w) => {
      const { fs, openEmpty } = w;
      const slots = slotsOf(fs);
      const hash = hashOf(fs);
      const s = fs.dev[Dev.slotFreeHead]!;
      expect(s).toBeGreaterThan(0);
      fs.dev[Dev.slotFreeHead] = slots[s * SLOT_WORDS + Slot.freeNext]!;
      fs.dev[Dev.slotFreeCount]! -= 1;
      const o = openEmpty.slot * SLOT_WORDS;
      for (let k = 0; k < SLOT_WORDS; k++) slots[s * SLOT_WORDS + k] = slots[o + k]!;
      setSlotOp(fs, s, 4242);
      slots[s * SLOT_WORDS + Slot.freeNext] = 0;
      const h = openEmpty.bucket & (hash.length - 1);
      slots[s * SLOT_WORDS + Slot.hashNext] = hash[h]!;
      hash[h] = s;
      return openEmpty.bucket;
    },
  }],
  open_bucket_conflict: [
    {
      name: "record gen bumped while its bucket is open",
      corrupt: (w) => { patchState(w.fs, w.openEmpty.bucket, { gen: 1, oldest: 1 }); return w.openEmpty.bucket; },
    },
    {
      name: "open slot's operation is not the one whose data the bucket holds",
      corrupt: (w) => { setSlotOp(w.fs, w.openData.ob.slot, 5150); return w.openData.ob.bucket; },
    },
    {
      name: 'open slot claims fewer sectors handed out than its extents cover',
      corrupt: (w) => { slotsOf(w.fs)[w.openData.ob.slot * SLOT_WORDS + Slot.sectorsFree] = S - 1; return w.openData.ob.bucket; },
    },
  ],
  open_hash_corrupt: [
    {
      name: 'open slot unlinked from its hash chain',
      corrupt: (w) => {
        const hash = hashOf(w.fs);
        const { bucket, slot } = w.openEmpty;
        const h = bucket & (hash.length - 1);
        expect(hash[h]).toBe(slot);
        hash[h] = slotsOf(w.fs)[slot * SLOT_WORDS + Slot.hashNext]!;
        return bucket;
      },
    },
    {
      name: 'open slot holding a bucket outside the device',
      corrupt: (w) => {
        slotsOf(w.fs)[w.openEmpty.slot * SLOT_WORDS + Slot.bucket] = BUCKETS + 100;
        return BUCKETS + 100;
      },
    },
  ],
  slot_conservation: [
    {
      name: 'free-slot count word off by one',
      corrupt: (w) => { w.fs.dev[Dev.slotFreeCount]! += 1; return -1; },
    },
    {
      name: 'slot freelist links a slot in use',
      corrupt: (w) => {
        const slots = slotsOf(w.fs);
        let s = w.fs.dev[Dev.slotFreeHead]!;
        while (slots[s * SLOT_WORDS + Slot.freeNext] !== 0) s = slots[s * SLOT_WORDS + Slot.freeNext]!;
        slots[s * SLOT_WORDS + Slot.freeNext] = w.openData.ob.slot;
        return -1;
      },
    },
  ],
  bucket_conservation: [{
    name: 'a usage bucket counter bumped',
    corrupt: (w) => { bumpUsage(w.fs, usageBuckets(DataType.user), 1); return -1; },
    alsoAllowed: ['usage_mismatch'],
  }],
  usage_mismatch: [
    {
      name: 'sector counter off (buckets still add up)',
      corrupt: (w) => { bumpUsage(w.fs, usageSectors(DataType.btree), 2); return -1; },
    },
    {
      name: 'one bucket counted as btree instead of free',
      corrupt: (w) => {
        bumpUsage(w.fs, usageBuckets(DataType.free), -1);
        bumpUsage(w.fs, usageBuckets(DataType.btree), 1);
        return -1;
      },
    },
  ],
};

describe('fsck: the world the cases start from', () => {
  it('is reached through the public API and is clean, with every state represented', () => {
    const w = world();
    const r = w.fs.fsck();
    expect(r.ok).toBe(true);
    expect(r.errorCount).toBe(0);
    const typeOf = (b: number): number => stateType(w.fs.records[recAt(b, Rec.state)]!);
    expect(typeOf(w.full.bucket)).toBe(DataType.user);
    expect(typeOf(w.openData.ob.bucket)).toBe(DataType.btree);
    expect(typeOf(w.cached.bucket)).toBe(DataType.cached);
    expect(typeOf(w.needDiscard)).toBe(DataType.need_discard);
    expect(stateFlags(w.fs.records[recAt(w.needDiscard, Rec.state)]!) & Flag.need_discard).toBe(Flag.need_discard);
    expect(typeOf(w.reused)).toBe(DataType.free);
    expect(stateGen(w.fs.records[recAt(w.reused, Rec.state)]!)).toBe(1);
    expect(typeOf(w.openEmpty.bucket)).toBe(DataType.free);
    expect(typeOf(w.free)).toBe(DataType.free);
    const distinct = new Set([w.full.bucket, w.openData.ob.bucket, w.cached.bucket, w.needDiscard, w.reused, w.openEmpty.bucket, w.free]);
    expect(distinct.size).toBe(7);
    expect(r.counts).toEqual({
      free: BUCKETS - 4, needDiscard: 1, user: 1, btree: 1, cached: 1, open: 2, extents: 4, inFlightExtents: 0,
    });
  });
});

describe('fsck: each corruption is named with its kind and bucket', () => {
  it('has a case for every kind in FSCK_KINDS', () => {
    expect(Object.keys(CASES).sort()).toEqual([...FSCK_KINDS].sort());
    for (const k of FSCK_KINDS) expect(CASES[k].length).toBeGreaterThan(0);
  });
  for (const kind of FSCK_KINDS) {
    for (const c of CASES[kind]) {
      it(`${kind}: ${c.name}`, () => expectKind(kind, c));
    }
  }
});

describe('fsck over a clean workload', () => {
  it('stays ok through thousands of alloc/write/put/free/discard operations, and its counts add up', () => {
    const n = 64;
    const fs = createFilesystem({ buckets: n, bucketSectors: 16, openBuckets: 16, extents: 2048, discard: true });
    const rng = streamRng(12345, 0);
    const open: OpenBucket[] = [];
    const live: Extent[] = [];
    let writes = 0;
    let frees = 0;
    let discards = 0;
    for (let step = 0; step < 4000; step++) {
      const r = rng.below(100);
      if (r < 20) {
        const ob = fs.allocBucket({ dataType: rng.pick(['user', 'btree', 'cached'] as const), watermark: rng.pick(['normal', 'btree', 'reclaim'] as const) });
        if (ob !== null) open.push(ob);
      } else if (r < 55 && open.length > 0) {
        const ob = open[rng.below(open.length)]!;
        if (ob.sectorsFree > 0) { live.push(fs.write(ob, rng.between(1, Math.min(4, ob.sectorsFree)))); writes++; }
      } else if (r < 70 && open.length > 0) {
        fs.put(open.splice(rng.below(open.length), 1)[0]!);
      } else if (r < 92 && live.length > 0) {
        fs.free(live.splice(rng.below(live.length), 1)[0]!);
        frees++;
      } else {
        discards += fs.discard(rng.between(1, 4));
      }
      if (step % 500 === 0) expect(fs.fsck().errors).toEqual([]);
    }
    expect(writes).toBeGreaterThan(500);
    expect(frees).toBeGreaterThan(300);
    expect(discards).toBeGreaterThan(20);
    const r = fs.fsck();
    expect(r.errors).toEqual([]);
    expect(r.ok).toBe(true);
    const c = r.counts;
    expect(c.free + c.needDiscard + c.user + c.btree + c.cached).toBe(n);
    expect(c.extents).toBe(live.length);
    expect(c.open).toBe(open.length);
    expect(c.inFlightExtents).toBe(0);
    const st = fs.stats();
    expect(st.buckets).toEqual({ free: c.free, need_discard: c.needDiscard, user: c.user, btree: c.btree, cached: c.cached });
    expect(st.openBuckets.inUse).toBe(open.length);
    const sum = (t: string): number => live.filter((e) => e.dataType === t).reduce((a, e) => a + e.sectors, 0);
    expect(st.sectors).toEqual({ user: sum('user'), btree: sum('btree'), cached: sum('cached') });
  });
});

describe('fsck error list', () => {
  it('keeps at most maxErrors entries while errorCount and byKind count every violation', () => {
    const n = 200;
    const fs = createFilesystem({ buckets: n, bucketSectors: 4, openBuckets: 8 });
    const words = fs.region.i32('freeSpace');
    for (let b = 0; b < 50; b++) clearBit(words, b * 4);
    const capped = fs.fsck({ maxErrors: 10 });
    expect(capped.ok).toBe(false);
    expect(capped.errors).toHaveLength(10);
    expect(capped.errorCount).toBe(50);
    expect(capped.byKind).toEqual({ freespace_mismatch: 50 });
    expect(capped.errors.map((e) => e.bucket)).toEqual([0, 4, 8, 12, 16, 20, 24, 28, 32, 36]);
    const all = fs.fsck();
    expect(all.errors).toHaveLength(50);
    expect(all.errorCount).toBe(50);
    const none = fs.fsck({ maxErrors: 0 });
    expect(none.errors).toEqual([]);
    expect(none.errorCount).toBe(50);
    expect(none.ok).toBe(false);
  });
});
