/**
 * The one shape every change to a bucket's record takes — commit, free, discard — so that none can
 * be half-applied again:
 *
 *     record write lock → plan (read, check, compute; throws leave nothing behind)
 *       → write the intent record and publish it → apply (sequence odd … even) → clear it → unlock
 *
 * `updateRecord` owns that shape; a path supplies only its plan, a function that reads the record
 * under the lock, throws on any failed precondition before anything shared is written, and fills the
 * thread's RecordUpdate with every value the update will store. That object is then written to the
 * member's intent record (intents.ts) and applied by `applyRecordUpdate`; a recovering thread reads a
 * dead member's intent record back into a RecordUpdate and applies it with the same function, so the
 * live path and the redo store the same values by the same code. The live path applies from the
 * object it planned into, not from the shared copy it just wrote: reading 30 words back would cost
 * more than the rest of the update's bookkeeping, and the two hold the same values by construction
 * (writeRecordIntent copies every field, readRecordIntent reads every one back, and a test round-trips
 * them).
 *
 * What a record update may change, all protected by the bucket's record lock: the record (seq,
 * state, dirty, cached, cycle words), the bucket's bits in the free-space and need-discard indexes,
 * one extent (made live or released) and the run of the bucket's sector-map entries it covers, the
 * writing open slot's sectorsFree and oracle words (only its opener writes them, always under this
 * lock), and the member's own counters.
 */
import type { FsCore, StageHook } from './fs-core.js';
import { RECORD_F64, RECORD_WORDS, REC_CYCLE_OP_F64, Rec } from './bucket-table.js';
import { EXTENT_F64, EXTENT_FREE, EXTENT_LIVE, EXTENT_WORDS, EXT_OP_F64, Ext } from './extents.js';
import { SLOT_WORDS, Slot } from './open-buckets.js';
import { ExtOp, I, IF, IntentKind, IndexOp, clearIntent, publishIntent, type IntentView } from './intents.js';

/** Counter targets a record update carries at most (a commit or a free: two bucket counts and a sector count). */
export const RECORD_COUNTERS = 3;

/** What a plan returns when, having looked, it has nothing to change. */
export const NOTHING = Symbol('nothing to change');

/**
 * One record update, planned: every value it stores, as absolute values (never "+1"), so applying
 * it twice stores the same thing twice. Each thread view keeps one (FsCore.update) and reuses it.
 */
export class RecordUpdate {
  /** The bucket, and its record's sequence before the update (applied as seq0 + 1, …, seq0 + 2). */
  b = -1;
  seq0 = 0;
  /** The record after. */
  state = 0;
  dirty = 0;
  cached = 0;
  cycleWriter = 0;
  cycleOp = 0;
  /** IndexOp bits: free-space / need-discard add and remove. */
  indexOps = 0;
  /** The extent made live (with its sector-map entries) or released (and its entries cleared). */
  extOp: number = ExtOp.none;
  extId = -1;
  extOffset = 0;
  extSectors = 0;
  extGenType = 0;
  extWriter = 0;
  extOpId = 0;
  /**
   * The open slot a commit wrote through (-1 none), and its oracle word after. Its sectorsFree after
   * is not kept: the commit took the sectors after `extOffset`, so bucketSectors − offset − sectors.
   */
  obSlot = -1;
  obOracle = 0;
  /**
   * Counter targets, at most RECORD_COUNTERS: counter `at0` of the block at `ctrBase` becomes `v0`,
   * and so on. Fields, not arrays: a commit sets three, and this is its hottest bookkeeping. The
   * values start as 0.5 so that the fields hold doubles from the start (counters are float64s) and
   * never change representation under the optimizer.
   */
  ctrBase = 0;
  counters = 0;
  at0 = 0;
  v0 = 0.5;
  at1 = 0;
  v1 = 0.5;
  at2 = 0;
  v2 = 0.5;

  /** Adds a counter target; the live path passes "current + 1": absolute, so a redo cannot count twice. */
  count(offset: number, value: number): void {
    const n = this.counters;
    if (n === 0) { this.at0 = offset; this.v0 = value; } else if (n === 1) { this.at1 = offset; this.v1 = value; } else if (n === 2) { this.at2 = offset; this.v2 = value; } else {
      throw new Error(`a record update carries at most ${RECORD_COUNTERS} counter targets`);
    }
    this.counters = n + 1;
  }
}

/**
 * Runs `plan(core, b, arg)` under bucket b's record write lock, then applies what it planned, and
 * returns the plan's result. A plan must not write shared memory before its last check; after it, the
 * only shared write it may make is to claim an extent entry (a claim a crash leaves behind is given
 * back by recovery), and then fill the update (beginRecordUpdate …), which cannot fail. It returns
 * NOTHING when there is nothing to change. The plan is a module-level function and `arg` a caller's
 * object, so no closure is made per call on the hot path.
 */
export function updateRecord<A, R>(core: FsCore, b: number, plan: (core: FsCore, b: number, arg: A) => R, arg: A): R {
  core.lockRecordWrite(b);
  try {
    const v = core.intent;
    const stage = core.stageHook;
    if (stage !== null) stage('record', 'locked', b);
    const r = plan(core, b, arg);
    if (r === NOTHING) return r;
    const u = core.update;
    writeRecordIntent(v, u);
    publishIntent(v, IntentKind.record);
    if (stage !== null) stage('record', 'published', b);
    applyRecordUpdate(core, u, stage, false);
    if (stage !== null) stage('record', 'applied', b);
    clearIntent(v);
    if (stage !== null) stage('record', 'cleared', b);
    return r;
  } finally {
    core.unlockRecordWrite(b);
  }
}

/**
 * Starts the thread's record update of bucket b: no extent, no slot change, no index op, no counter.
 * A plan calls it after its last check and then sets what its update changes.
 */
export function beginRecordUpdate(core: FsCore, b: number): RecordUpdate {
  const u = core.update;
  u.b = b;
  // Under the record's write lock, the only writer of seq: a plain read is exact.
  u.seq0 = core.records[b * RECORD_WORDS + Rec.seq]!;
  u.indexOps = 0;
  u.extOp = ExtOp.none;
  u.extId = -1;
  u.obSlot = -1;
  u.ctrBase = core.ctrBase;
  u.counters = 0;
  return u;
}

/** Sets the record's words after the update. */
export function setRecordAfter(u: RecordUpdate, state: number, dirty: number, cached: number, cycleWriter: number, cycleOp: number): void {
  u.state = state;
  u.dirty = dirty;
  u.cached = cached;
  u.cycleWriter = cycleWriter;
  u.cycleOp = cycleOp;
}

/** Copies update `u` into intent record `v` (every field; the kind is published after). */
export function writeRecordIntent(v: IntentView, u: RecordUpdate): void {
  const w = v.i32;
  const at = v.at;
  const f = v.f64;
  const atF = v.atF;
  w[at + I.target] = u.b;
  w[at + I.seq0] = u.seq0;
  w[at + I.state] = u.state;
  w[at + I.dirty] = u.dirty;
  w[at + I.cached] = u.cached;
  w[at + I.cycleWriter] = u.cycleWriter;
  w[at + I.indexOps] = u.indexOps;
  f[atF + IF.cycleOp] = u.cycleOp;
  w[at + I.extOp] = u.extOp;
  w[at + I.extId] = u.extId;
  w[at + I.extOffset] = u.extOffset;
  w[at + I.extSectors] = u.extSectors;
  w[at + I.extGenType] = u.extGenType;
  w[at + I.extWriter] = u.extWriter;
  f[atF + IF.extOpId] = u.extOpId;
  w[at + I.obSlot] = u.obSlot;
  w[at + I.obOracle] = u.obOracle;
  const n = u.counters;
  w[at + I.counterCount] = n;
  w[at + I.counterBase] = u.ctrBase;
  if (n > 0) { w[at + I.counterOffsets] = u.at0; f[atF + IF.counterValues] = u.v0; }
  if (n > 1) { w[at + I.counterOffsets + 1] = u.at1; f[atF + IF.counterValues + 1] = u.v1; }
  if (n > 2) { w[at + I.counterOffsets + 2] = u.at2; f[atF + IF.counterValues + 2] = u.v2; }
}

/** Reads a (dead member's) intent record back into an update: the inverse of writeRecordIntent. */
export function readRecordIntent(v: IntentView, u: RecordUpdate): RecordUpdate {
  const w = v.i32;
  const at = v.at;
  const f = v.f64;
  const atF = v.atF;
  u.b = w[at + I.target]!;
  u.seq0 = w[at + I.seq0]!;
  u.state = w[at + I.state]!;
  u.dirty = w[at + I.dirty]!;
  u.cached = w[at + I.cached]!;
  u.cycleWriter = w[at + I.cycleWriter]!;
  u.indexOps = w[at + I.indexOps]!;
  u.cycleOp = f[atF + IF.cycleOp]!;
  u.extOp = w[at + I.extOp]!;
  u.extId = w[at + I.extId]!;
  u.extOffset = w[at + I.extOffset]!;
  u.extSectors = w[at + I.extSectors]!;
  u.extGenType = w[at + I.extGenType]!;
  u.extWriter = w[at + I.extWriter]!;
  u.extOpId = f[atF + IF.extOpId]!;
  u.obSlot = w[at + I.obSlot]!;
  u.obOracle = w[at + I.obOracle]!;
  u.counters = Math.min(w[at + I.counterCount]!, RECORD_COUNTERS);
  u.ctrBase = w[at + I.counterBase]!;
  u.at0 = w[at + I.counterOffsets]!;
  u.v0 = f[atF + IF.counterValues]!;
  u.at1 = w[at + I.counterOffsets + 1]!;
  u.v1 = f[atF + IF.counterValues + 1]!;
  u.at2 = w[at + I.counterOffsets + 2]!;
  u.v2 = f[atF + IF.counterValues + 2]!;
  return u;
}

/**
 * Stores record update `u`. Every store is of an absolute value, index changes are set/clear of a
 * bit, and the sector-map change is conditional on the entry's value, so applying it again changes
 * nothing more — with one exception, which `redo` (a recovering thread finishing a dead member's
 * update) guards: releasing an extent. Its entry, once free, can be claimed by any thread without
 * this bucket's lock and made live in another bucket; had the dead member already released it, a
 * second release would free someone else's extent. So a redo releases the entry only while it still
 * holds this extent — live, in this bucket, of this operation — which nobody else can change while
 * this bucket's lock is held.
 */
export function applyRecordUpdate(core: FsCore, u: RecordUpdate, stage: StageHook | null, redo: boolean): void {
  const b = u.b;
  const rec = core.records;
  const r = b * RECORD_WORDS;
  const seq0 = u.seq0;
  Atomics.store(rec, r + Rec.seq, seq0 + 1);

  const extOp = u.extOp;
  if (extOp !== ExtOp.none) {
    const id = u.extId;
    const x = core.extents.words;
    const e = id * EXTENT_WORDS;
    const map = core.sectorMap;
    const first = b * core.config.bucketSectors + u.extOffset;
    const end = first + u.extSectors;
    const value = id + 1;
    if (extOp === ExtOp.live) {
      x[e + Ext.bucket] = b;
      x[e + Ext.offset] = u.extOffset;
      x[e + Ext.sectors] = u.extSectors;
      x[e + Ext.genType] = u.extGenType;
      x[e + Ext.writer] = u.extWriter;
      core.extents.f64[id * EXTENT_F64 + EXT_OP_F64] = u.extOpId;
      // Claimed → live, with Atomics although no other thread acts on a claimed entry: a redo's
      // look at an entry that was released and reclaimed (below) must see the new owner's fields.
      Atomics.store(x, e + Ext.state, EXTENT_LIVE);
      // Fill only empty entries: a sector another live extent covers keeps naming it (the overlap
      // is reported, and fsck finds this extent's missing entries).
      for (let i = first; i < end; i++) { if (map[i] === 0) map[i] = value; }
    } else {
      // Live → free: claimers look for free entries lock-free.
      if (!redo || stillHolds(core, id, b, u.extOpId)) Atomics.store(x, e + Ext.state, EXTENT_FREE);
      // Clear only our own entries (this bucket's, so even a redo after a reclaim clears right).
      for (let i = first; i < end; i++) { if (map[i] === value) map[i] = 0; }
    }
  }

  if (stage !== null) stage('record', 'half-applied', b);

  const ops = u.indexOps;
  if (ops !== 0) {
    if ((ops & IndexOp.freeSpaceRemove) !== 0) core.freeSpace.remove(b);
    if ((ops & IndexOp.needDiscardRemove) !== 0) core.needDiscard.remove(b);
    if ((ops & IndexOp.needDiscardAdd) !== 0) core.needDiscard.add(b);
    if ((ops & IndexOp.freeSpaceAdd) !== 0) core.freeSpace.add(b);
  }

  const slot = u.obSlot;
  if (slot >= 0) {
    // Written only through this slot's own commits, under this record lock. A commit takes the
    // sectors from offset onwards (offset = bucketSectors − sectorsFree before), so this is the
    // slot's sectorsFree after.
    core.open.slots[slot * SLOT_WORDS + Slot.sectorsFree] = core.config.bucketSectors - u.extOffset - u.extSectors;
    core.open.slots[slot * SLOT_WORDS + Slot.oracle] = u.obOracle;
  }

  const ctr = core.ctr;
  const base = u.ctrBase;
  const n = u.counters;
  if (n > 0) ctr[base + u.at0] = u.v0;
  if (n > 1) ctr[base + u.at1] = u.v1;
  if (n > 2) ctr[base + u.at2] = u.v2;

  rec[r + Rec.dirty] = u.dirty;
  rec[r + Rec.cached] = u.cached;
  rec[r + Rec.cycleWriter] = u.cycleWriter;
  core.recF64[b * RECORD_F64 + REC_CYCLE_OP_F64] = u.cycleOp;
  Atomics.store(rec, r + Rec.state, u.state);
  Atomics.store(rec, r + Rec.seq, seq0 + 2);
}

/** Entry `id` still holds the extent of operation `opId` in bucket b (see applyRecordUpdate's redo). */
function stillHolds(core: FsCore, id: number, b: number, opId: number): boolean {
  const x = core.extents;
  // The state first, with Atomics: a new owner's live store then makes its other fields visible.
  return x.state(id) === EXTENT_LIVE && x.get(id, Ext.bucket) === b && x.opId(id) === opId;
}
