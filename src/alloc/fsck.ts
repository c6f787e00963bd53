/**
 * fsck: checks every invariant (docs/design.md, "What fsck checks") over the shared state and names
 * each violation with its kind and bucket. "Nothing lost, nothing doubled":
 *
 *   records      invalid_record, record_type_mismatch (data_type not what its fields derive),
 *                oldest_gen_newer, sector_sum_mismatch (extents' sectors ≠ dirty / cached)
 *   indexes      freespace_mismatch (index ⇔ record free), need_discard_mismatch (index ⇔ flag)
 *   extents      extent_out_of_bucket, extent_overlap (two live extents share a sector, whichever
 *                sector each starts on), data_type_mismatch, gen_newer_than_bucket, stale_extent (a
 *                dirty extent whose bucket was reused under it)
 *   allocations  foreign_allocation (live extents of two allocations in one bucket at one gen: only
 *                one allocation may write into a bucket per gen), written_after_empty (the same, in a
 *                bucket emptied at this gen and not discarded since: a discard would wipe the data)
 *   sector map   missing_backpointer (an extent's first sector does not name it), duplicate_backpointer
 *                (two extents start at one sector), unmapped_sector (a sector a live extent covers
 *                names nothing), orphan_backpointer (an entry with no live extent covering it)
 *   open buckets duplicate_open, open_bucket_conflict (open while holding another operation's data,
 *                or its gen moved), open_hash_corrupt
 *   threads      lock_held_by_dead (a record or freelist lock, or a record read hold, of a dead
 *                member), dead_member (a member marked dead and not yet recovered)
 *   totals       slot_conservation (slots in use + freelist ≠ slots), bucket_conservation (usage
 *                does not add up to the bucket count), usage_mismatch (usage ≠ recount)
 *
 * Run it quiescent — no thread allocating, writing or freeing — as a filesystem check runs on an
 * unmounted filesystem; a live run would see commits half-way. Extents claimed but never committed
 * are counted as in flight, not as corruption (a dead member's are given back by recovery).
 */
import { DataType, DATA_TYPE_NAMES, Flag, genAfter } from './types.js';
import { RECORD_F64, RECORD_WORDS, REC_CYCLE_OP_F64, Rec, deriveType, stateFlags, stateGen, stateOldestGen, stateType } from './bucket-table.js';
import { EXTENT_CLAIMED_BASE, EXTENT_F64, EXTENT_LIVE, EXTENT_WORDS, EXT_OP_F64, Ext, extentGen, extentType } from './extents.js';
import { Slot } from './open-buckets.js';
import { Dev } from './device.js';
import { usageBuckets, usageSectors } from './counters.js';
import type { Filesystem } from './filesystem.js';

/** Every kind of violation fsck reports, grouped as in docs/design.md (records, indexes, …, totals). */
export const FSCK_KINDS = [
  'invalid_record', 'record_type_mismatch', 'oldest_gen_newer', 'sector_sum_mismatch',
  'freespace_mismatch', 'need_discard_mismatch',
  'extent_out_of_bucket', 'extent_overlap', 'data_type_mismatch', 'gen_newer_than_bucket', 'stale_extent',
  'foreign_allocation', 'written_after_empty',
  'missing_backpointer', 'duplicate_backpointer', 'unmapped_sector', 'orphan_backpointer',
  'duplicate_open', 'open_bucket_conflict', 'open_hash_corrupt',
  'lock_held_by_dead', 'dead_member',
  'slot_conservation', 'bucket_conservation', 'usage_mismatch',
] as const;
/** One of FSCK_KINDS. */
export type FsckKind = (typeof FSCK_KINDS)[number];

/** One invariant violation, with its kind, bucket and a message naming what disagrees. */
export interface FsckError {
  kind: FsckKind;
  /** The bucket concerned, or -1 for a device-wide total. */
  bucket: number;
  message: string;
}

/** What fsck found: `ok` when nothing, else every violation counted by kind and the first `maxErrors` in full. */
export interface FsckReport {
  ok: boolean;
  /** The first `maxErrors` violations. */
  errors: FsckError[];
  errorCount: number;
  byKind: Partial<Record<FsckKind, number>>;
  counts: {
    free: number; needDiscard: number; user: number; btree: number; cached: number;
    /** Buckets in the open-bucket table. */
    open: number;
    extents: number;
    /** Extents claimed but never committed (a writer stopped mid-write). */
    inFlightExtents: number;
  };
}

/** Options of fsck. */
export interface FsckOptions {
  maxErrors?: number;
}

/**
 * Checks every invariant over `fs`'s shared state and names each violation (the kinds are in
 * docs/design.md). Run it quiescent; `fs.fsck()` calls it.
 */
export function fsck(fs: Filesystem, options: FsckOptions = {}): FsckReport {
  const maxErrors = options.maxErrors ?? 1000;
  const core = fs.core;
  const { buckets: n, bucketSectors: S, extents: X, openBuckets: O } = fs.config;
  const rec = core.records;
  const recF = core.recF64;
  const ext = core.extents.words;
  const extF = core.extents.f64;
  const map = core.sectorMap;
  const errors: FsckError[] = [];
  const byKind: Partial<Record<FsckKind, number>> = {};
  let errorCount = 0;
  const report = (kind: FsckKind, bucket: number, message: string): void => {
    errorCount++;
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    if (errors.length < maxErrors) errors.push({ kind, bucket, message });
  };
  const typeName = (t: number): string => DATA_TYPE_NAMES[t] ?? `type ${t}`;
  const word = (id: number, w: number): number => ext[id * EXTENT_WORDS + w]!;
  const opOf = (id: number): number => extF[id * EXTENT_F64 + EXT_OP_F64]!;
  const who = (id: number): string => `writer ${word(id, Ext.writer)}, op ${opOf(id)}`;

  // Extents grouped by bucket (counting sort), with their sums.
  const dirtySum = new Float64Array(n);
  const cachedSum = new Float64Array(n);
  const perBucket = new Int32Array(n + 1);
  let live = 0;
  let inFlight = 0;
  for (let id = 0; id < X; id++) {
    const state = word(id, Ext.state);
    if (state >= EXTENT_CLAIMED_BASE) inFlight++;
    if (state !== EXTENT_LIVE) continue;
    const b = word(id, Ext.bucket);
    if (b < 0 || b >= n) {
      report('extent_out_of_bucket', b, `extent ${id} points at bucket ${b}, outside the device (${n} buckets)`);
      continue;
    }
    live++;
    perBucket[b + 1]!++;
  }
  for (let b = 0; b < n; b++) perBucket[b + 1]! += perBucket[b]!;
  const order = new Int32Array(live);
  const fill = perBucket.slice(0, n);
  for (let id = 0; id < X; id++) {
    if (word(id, Ext.state) !== EXTENT_LIVE) continue;
    const b = word(id, Ext.bucket);
    if (b < 0 || b >= n) continue;
    order[fill[b]!++] = id;
  }

  // Open buckets, by bucket.
  const openSlot = new Int32Array(n);
  let openCount = 0;
  let validSlots = 0;
  for (let s = 1; s < O; s++) {
    if (fs.open.field(s, Slot.valid) !== 1) continue;
    validSlots++;
    const b = fs.open.field(s, Slot.bucket);
    if (b < 0 || b >= n) {
      report('open_hash_corrupt', b, `open slot ${s} holds bucket ${b}, outside the device`);
      continue;
    }
    if (openSlot[b] !== 0) {
      report('duplicate_open', b, `bucket ${b} is open twice: slots ${openSlot[b]} (op ${fs.open.opId(openSlot[b]!)}) and ${s} (op ${fs.open.opId(s)})`);
    } else {
      openSlot[b] = s;
      openCount++;
    }
    let found = false;
    let c = fs.open.head(b);
    for (let steps = 0; c !== 0 && steps < O; steps++) {
      if (c === s) { found = true; break; }
      c = fs.open.field(c, Slot.hashNext);
    }
    if (!found) report('open_hash_corrupt', b, `open slot ${s} (bucket ${b}) is not in its hash chain: is_open would miss it`);
  }
  for (let h = 0; h < fs.open.hashSize; h++) {
    let c = fs.open.head(h);
    let steps = 0;
    for (; c !== 0 && steps <= O; steps++) {
      if (c < 1 || c >= O || fs.open.field(c, Slot.valid) !== 1 || (fs.open.field(c, Slot.bucket) & (fs.open.hashSize - 1)) !== h) {
        report('open_hash_corrupt', -1, `hash chain ${h} links slot ${c}, which is not a valid open slot of that chain`);
        break;
      }
      c = fs.open.field(c, Slot.hashNext);
    }
    if (steps > O) report('open_hash_corrupt', -1, `hash chain ${h} does not end (a cycle)`);
  }

  // Records, against extents, the sector map, indexes and open slots.
  const counts = { free: 0, needDiscard: 0, user: 0, btree: 0, cached: 0 };
  const usageBucketsRecount = [0, 0, 0, 0, 0];
  const usageSectorsRecount = [0, 0, 0, 0, 0];
  const cover = new Int32Array(S);
  for (let b = 0; b < n; b++) {
    const at = b * RECORD_WORDS;
    const st = rec[at + Rec.state]!;
    const type = stateType(st);
    const flags = stateFlags(st);
    const gen = stateGen(st);
    const dirty = rec[at + Rec.dirty]!;
    const cached = rec[at + Rec.cached]!;
    const cycleOp = recF[b * RECORD_F64 + REC_CYCLE_OP_F64]!;
    if (type > DataType.cached || dirty < 0 || cached < 0) {
      report('invalid_record', b, `record of bucket ${b} is not valid: data_type ${type}, dirty ${dirty}, cached ${cached}`);
      continue;
    }
    usageBucketsRecount[type]!++;
    if (type === DataType.cached) usageSectorsRecount[DataType.cached]! += cached;
    else if (dirty > 0) { usageSectorsRecount[type]! += dirty; usageSectorsRecount[DataType.cached]! += cached; }
    if (type === DataType.free) counts.free++;
    else if (type === DataType.need_discard) counts.needDiscard++;
    else if (type === DataType.user) counts.user++;
    else if (type === DataType.btree) counts.btree++;
    else counts.cached++;

    const expected = dirty > 0 ? (type === DataType.user || type === DataType.btree ? type : -1) : deriveType(0, cached, flags, 0);
    if (expected !== type) {
      report('record_type_mismatch', b, `bucket ${b} says ${typeName(type)}, but dirty ${dirty}, cached ${cached}, flags ${flags} make it ${expected < 0 ? 'user or btree' : typeName(expected)}`);
    }
    if (genAfter(stateOldestGen(st), gen)) report('oldest_gen_newer', b, `bucket ${b}: oldest_gen ${stateOldestGen(st)} is newer than gen ${gen}`);
    if (fs.freeSpace.has(b) !== (type === DataType.free)) {
      report('freespace_mismatch', b, `bucket ${b} is ${typeName(type)} but ${fs.freeSpace.has(b) ? 'is' : 'is not'} in the free-space index`);
    }
    if (fs.needDiscard.has(b) !== ((flags & Flag.need_discard) !== 0)) {
      report('need_discard_mismatch', b, `bucket ${b}: need_discard flag ${(flags & Flag.need_discard) !== 0 ? 'set' : 'clear'}, need-discard index ${fs.needDiscard.has(b) ? 'has' : 'lacks'} it`);
    } else if ((flags & Flag.need_discard) !== 0 && (dirty > 0 || cached > 0)) {
      // A commit into a bucket waiting for discard cancels the discard; a discard now would lose data.
      report('need_discard_mismatch', b, `bucket ${b} is flagged need_discard but holds ${dirty} dirty / ${cached} cached sectors`);
    }

    // This bucket's extents, by offset; `cover` counts the live extents on each sector.
    const lo = perBucket[b]!;
    const hi = perBucket[b + 1]!;
    const ids = Array.from(order.subarray(lo, hi)).sort((p, q) => word(p, Ext.offset) - word(q, Ext.offset));
    cover.fill(0);
    let prevEnd = 0;
    let prevId = -1;
    let startId = -1;
    const slot = openSlot[b]!;
    for (const id of ids) {
      const off = word(id, Ext.offset);
      const len = word(id, Ext.sectors);
      const gt = word(id, Ext.genType);
      const dt = extentType(gt);
      const egen = extentGen(gt);
      if (dt === DataType.cached) cachedSum[b]! += len;
      else dirtySum[b]! += len;
      if (off < 0 || len < 1 || off + len > S) {
        report('extent_out_of_bucket', b, `extent ${id} covers sectors [${off}, ${off + len}) of bucket ${b}, which has ${S}`);
        continue;
      }
      for (let i = off; i < off + len; i++) cover[i]!++;
      if (prevId >= 0 && off < prevEnd) {
        report('extent_overlap', b, `extents ${prevId} and ${id} overlap in bucket ${b} at sector ${off} (${who(prevId)}; ${who(id)})`);
      }
      if (off + len > prevEnd || prevId < 0) { prevEnd = off + len; prevId = id; }
      if (startId >= 0 && word(startId, Ext.offset) === off) {
        report('duplicate_backpointer', b, `extents ${startId} and ${id} both start at sector ${off} of bucket ${b} (${who(startId)}; ${who(id)})`);
      } else {
        startId = id;
      }
      if (dt !== DataType.cached && dirty > 0 && dt !== type) {
        report('data_type_mismatch', b, `bucket ${b} holds ${typeName(type)} data but extent ${id} (${who(id)}) is ${typeName(dt)}`);
      }
      if (genAfter(egen, gen)) report('gen_newer_than_bucket', b, `extent ${id} has gen ${egen}, newer than bucket ${b}'s gen ${gen}`);
      else if (egen !== gen && dt !== DataType.cached) report('stale_extent', b, `dirty extent ${id} has gen ${egen} but bucket ${b} was reused (gen ${gen})`);
      if (egen === gen && opOf(id) !== cycleOp) {
        const emptied = (flags & Flag.emptied) !== 0;
        report(emptied ? 'written_after_empty' : 'foreign_allocation', b, emptied
          ? `bucket ${b} was emptied at gen ${gen} and not discarded since, but holds extent ${id} of another allocation (${who(id)}; the bucket's data was op ${cycleOp}'s)`
          : `bucket ${b} holds extents of two allocations at gen ${gen}: extent ${id} (${who(id)}) is not of op ${cycleOp}, whose bucket it is`);
      }
      const named = map[b * S + off]! - 1;
      // An entry naming another live extent that starts here is the duplicate reported above.
      const namedStartsHere = named >= 0 && named < X && named !== id && word(named, Ext.state) === EXTENT_LIVE
        && word(named, Ext.bucket) === b && word(named, Ext.offset) === off;
      if (named !== id && !namedStartsHere) report('missing_backpointer', b, `extent ${id} at sector ${off} of bucket ${b} has no backpointer (the sector map names ${named < 0 ? 'nothing' : `extent ${named}`})`);
      if (slot !== 0 && egen === gen && opOf(id) !== fs.open.opId(slot)) {
        report('open_bucket_conflict', b, `bucket ${b} is open (slot ${slot}, op ${fs.open.opId(slot)}, writer ${fs.open.field(slot, Slot.writer)}) but holds extent ${id} (${who(id)})`);
      }
    }
    if (slot !== 0) {
      // The open bucket hands out sectors in order: everything its operation wrote lies below the
      // sectors it has given away.
      const used = S - fs.open.field(slot, Slot.sectorsFree);
      const opId = fs.open.opId(slot);
      for (const id of ids) {
        if (opOf(id) === opId && word(id, Ext.offset) + word(id, Ext.sectors) > used) {
          report('open_bucket_conflict', b, `open slot ${slot} of bucket ${b} says ${used} sectors were handed out, but its extent ${id} ends at sector ${word(id, Ext.offset) + word(id, Ext.sectors)}`);
        }
      }
      if (fs.open.field(slot, Slot.gen) !== gen) {
        report('open_bucket_conflict', b, `bucket ${b} is open with gen ${fs.open.field(slot, Slot.gen)} but its gen moved to ${gen} while open`);
      }
    }
    if (dirtySum[b] !== dirty || cachedSum[b] !== cached) {
      report('sector_sum_mismatch', b, `bucket ${b} records ${dirty} dirty / ${cached} cached sectors, its extents add up to ${dirtySum[b]} / ${cachedSum[b]}`);
    }
    for (let off = 0; off < S; off++) {
      const v = map[b * S + off]!;
      if (v === 0) {
        if (cover[off]! > 0) report('unmapped_sector', b, `sector ${off} of bucket ${b} is covered by a live extent but the sector map names none`);
        continue;
      }
      const id = v - 1;
      const ok = id >= 0 && id < X && word(id, Ext.state) === EXTENT_LIVE && word(id, Ext.bucket) === b
        && word(id, Ext.offset) <= off && off < word(id, Ext.offset) + word(id, Ext.sectors);
      if (!ok) report('orphan_backpointer', b, `sector map entry at sector ${off} of bucket ${b} names extent ${id}, which is not a live extent covering it`);
    }
  }

  if (!fs.freeSpace.summaryConsistent()) report('freespace_mismatch', -1, 'free-space index summary words hide a non-empty leaf word');
  if (!fs.needDiscard.summaryConsistent()) report('need_discard_mismatch', -1, 'need-discard index summary words hide a non-empty leaf word');

  // Slot conservation: the freelist holds exactly the slots not in use, and its count agrees.
  let freeListed = 0;
  let c = Atomics.load(fs.dev, Dev.slotFreeHead);
  const seen = new Uint8Array(O);
  for (; c !== 0 && freeListed <= O; freeListed++) {
    if (c < 1 || c >= O || seen[c] === 1 || fs.open.field(c, Slot.valid) === 1) {
      report('slot_conservation', -1, `slot freelist links slot ${c}, which is out of range, repeated, or in use`);
      break;
    }
    seen[c] = 1;
    c = fs.open.field(c, Slot.freeNext);
  }
  const freeCount = Atomics.load(fs.dev, Dev.slotFreeCount);
  if (validSlots + freeListed !== O - 1 || freeCount !== freeListed) {
    report('slot_conservation', -1, `${validSlots} slots in use + ${freeListed} on the freelist (count word says ${freeCount}) ≠ ${O - 1} slots`);
  }

  // Threads: dead members not recovered, and locks they still hold.
  const reg = core.registry;
  for (let m = 0; m < reg.members; m++) {
    const state = reg.state(m);
    if (state !== 'dead' && state !== 'recovering') continue;
    report('dead_member', -1, `thread-registry member ${m} (lock owner ${reg.ownerOf(m)}, thread ${reg.threadIdOf(m)}) is ${state} and not yet recovered: call recover()`);
    const owner = reg.ownerOf(m);
    for (let b = 0; b < n; b++) {
      if (core.recordLocks.writer(b) === owner) report('lock_held_by_dead', b, `bucket ${b}'s record lock is held for write by dead member ${m} (owner ${owner})`);
    }
    if (core.open.lock.owner() === owner) report('lock_held_by_dead', -1, `the open-bucket freelist lock is held by dead member ${m} (owner ${owner})`);
    for (const h of reg.readHoldsOf(m)) {
      report('lock_held_by_dead', h.index, `bucket ${h.index}'s record lock is read-held by dead member ${m} (owner ${owner}; domain ${h.domain})`);
    }
  }

  // Usage: the members' shares must add up to the device, and agree with a recount.
  const share = (off: number): number => {
    let sum = 0;
    for (let m = 0; m < core.counters.members; m++) sum += core.ctr[m * core.counters.stride + off]!;
    return sum;
  };
  let usageTotal = 0;
  for (let t = 0; t <= DataType.cached; t++) {
    const counted = share(usageBuckets(t));
    usageTotal += counted;
    if (counted !== usageBucketsRecount[t]) report('usage_mismatch', -1, `usage says ${counted} ${typeName(t)} buckets, recount finds ${usageBucketsRecount[t]}`);
    if (t >= DataType.user) {
      const sectors = share(usageSectors(t));
      if (sectors !== usageSectorsRecount[t]) report('usage_mismatch', -1, `usage says ${sectors} ${typeName(t)} sectors, recount finds ${usageSectorsRecount[t]}`);
    }
  }
  if (usageTotal !== n) report('bucket_conservation', -1, `usage counts ${usageTotal} buckets across all states, the device has ${n}`);

  return {
    ok: errorCount === 0,
    errors,
    errorCount,
    byKind,
    counts: { ...counts, open: openCount, extents: live, inFlightExtents: inFlight },
  };
}
