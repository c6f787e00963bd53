/**
 * The one shape every change to a bucket's record takes — commit, free, discard — so that none can
 * be half-applied again:
 *
 *     record write lock → plan (read, check, compute; throws leave nothing behind)
 *       → publish the intent record → apply it (sequence odd … even) → clear it → unlock (finally)
 *
 * `updateRecord` owns that shape; a path supplies only its plan, a function that reads the record
 * under the lock, throws on any failed precondition before anything shared is written, and fills the
 * member's intent record (intents.ts) with every value the update will store. `applyRecordUpdate`
 * stores them; recovery calls the same function to finish a dead member's update.
 *
 * What a record update may change, all protected by the bucket's record lock: the record (seq,
 * state, dirty, cached, cycle words), the bucket's bits in the free-space and need-discard indexes,
 * one extent (made live or released), a run of the bucket's sector-map entries, the writing open
 * slot's sectorsFree and oracle words (only its opener writes them, always under this lock), and the
 * member's own counters.
 */
import type { FsCore, StageHook } from './fs-core.js';
import { RECORD_F64, RECORD_WORDS, REC_CYCLE_OP_F64, Rec } from './bucket-table.js';
import { EXTENT_F64, EXTENT_FREE, EXTENT_LIVE, EXTENT_WORDS, EXT_OP_F64, Ext } from './extents.js';
import { SLOT_WORDS, Slot } from './open-buckets.js';
import {
  ExtOp, I, IF, IndexOp, IntentKind, MapOp, applyCounterTargets, clearCounterTargets, clearIntent, publishIntent, type IntentView,
} from './intents.js';

/** What a plan returns when, having looked, it has nothing to change. */
export const NOTHING = Symbol('nothing to change');

/**
 * Runs `plan(core, b, arg)` under bucket b's record write lock, then applies what it planned, and
 * returns the plan's result. A plan must not write shared memory before its last check; after it, the
 * only shared write it may make is to claim an extent entry (a claim a crash leaves behind is given
 * back by recovery), and then fill the intent record (beginRecordIntent …), which cannot fail. It
 * returns NOTHING when there is nothing to change. The plan is a module-level function and `arg` a caller's object,
 * so no closure is made per call on the hot path.
 */
export function updateRecord<A, R>(core: FsCore, b: number, plan: (core: FsCore, b: number, arg: A) => R, arg: A): R {
  core.lockRecordWrite(b);
  try {
    const v = core.intent;
    const stage = core.stageHook;
    if (stage !== null) stage('record', 'locked', b);
    const r = plan(core, b, arg);
    if (r === NOTHING) return r;
    publishIntent(v, IntentKind.record);
    if (stage !== null) stage('record', 'published', b);
    applyRecordUpdate(core, v, stage);
    if (stage !== null) stage('record', 'applied', b);
    clearIntent(v);
    if (stage !== null) stage('record', 'cleared', b);
    return r;
  } finally {
    core.unlockRecordWrite(b);
  }
}

/**
 * Starts a record intent for bucket b: no extent, no sector-map or slot change, no index op, no
 * counter. A plan calls it after its last check: the intent record is shared memory too, and a
 * refused call leaves every byte as it found it.
 */
export function beginRecordIntent(core: FsCore, b: number): IntentView {
  const v = core.intent;
  const w = v.i32;
  const at = v.at;
  clearCounterTargets(v, core.ctrBase);
  w[at + I.target] = b;
  // Under the record's write lock, the only writer of seq: a plain read is exact.
  w[at + I.seq0] = core.records[b * RECORD_WORDS + Rec.seq]!;
  w[at + I.indexOps] = 0;
  w[at + I.extId] = -1;
  w[at + I.extOp] = ExtOp.none;
  w[at + I.mapOp] = MapOp.none;
  w[at + I.obSlot] = -1;
  return v;
}

/** Sets the record's words after the update. */
export function setRecordAfter(v: IntentView, state: number, dirty: number, cached: number, cycleWriter: number, cycleOp: number): void {
  const w = v.i32;
  w[v.at + I.state] = state;
  w[v.at + I.dirty] = dirty;
  w[v.at + I.cached] = cached;
  w[v.at + I.cycleWriter] = cycleWriter;
  v.f64[v.atF + IF.cycleOp] = cycleOp;
}

/**
 * Stores a record update from intent record `v`. Every
 * store is of an absolute value, index changes are set/clear of a bit, and the sector-map change is
 * conditional on the entry's value, so applying it again changes nothing more.
 */
export function applyRecordUpdate(core: FsCore, v: IntentView, stage: StageHook | null = null): void {
  const w = v.i32;
  const at = v.at;
  const b = w[at + I.target]!;
  const rec = core.records;
  const r = b * RECORD_WORDS;
  const seq0 = w[at + I.seq0]!;
  Atomics.store(rec, r + Rec.seq, seq0 + 1);

  const extOp = w[at + I.extOp]!;
  if (extOp !== ExtOp.none) {
    const id = w[at + I.extId]!;
    const x = core.extents.words;
    const e = id * EXTENT_WORDS;
    if (extOp === ExtOp.live) {
      x[e + Ext.bucket] = w[at + I.extBucket]!;
      x[e + Ext.offset] = w[at + I.extOffset]!;
      x[e + Ext.sectors] = w[at + I.extSectors]!;
      x[e + Ext.genType] = w[at + I.extGenType]!;
      x[e + Ext.writer] = w[at + I.extWriter]!;
      core.extents.f64[id * EXTENT_F64 + EXT_OP_F64] = v.f64[v.atF + IF.extOpId]!;
      // Claimed → live: no other thread acts on a claimed entry, so a plain store will do.
      x[e + Ext.state] = EXTENT_LIVE;
    } else {
      // Live → free: claimers look for free entries lock-free.
      Atomics.store(x, e + Ext.state, EXTENT_FREE);
    }
  }

  const mapOp = w[at + I.mapOp]!;
  if (mapOp !== MapOp.none) {
    const map = core.sectorMap;
    const first = w[at + I.mapFirst]!;
    const end = first + w[at + I.mapCount]!;
    const value = w[at + I.mapValue]!;
    // Fill only empty entries: a sector another live extent covers keeps naming it (the overlap is
    // reported, and fsck finds this extent's missing entries); clear only our own.
    if (mapOp === MapOp.fill) for (let i = first; i < end; i++) { if (map[i] === 0) map[i] = value; }
    else for (let i = first; i < end; i++) { if (map[i] === value) map[i] = 0; }
  }

  if (stage !== null) stage('record', 'half-applied', b);

  const ops = w[at + I.indexOps]!;
  if (ops !== 0) {
    if ((ops & IndexOp.freeSpaceRemove) !== 0) core.freeSpace.remove(b);
    if ((ops & IndexOp.needDiscardRemove) !== 0) core.needDiscard.remove(b);
    if ((ops & IndexOp.needDiscardAdd) !== 0) core.needDiscard.add(b);
    if ((ops & IndexOp.freeSpaceAdd) !== 0) core.freeSpace.add(b);
  }

  const slot = w[at + I.obSlot]!;
  if (slot >= 0) {
    // Written only through this slot's own commits, under this record lock.
    core.open.slots[slot * SLOT_WORDS + Slot.sectorsFree] = w[at + I.obSectorsFree]!;
    core.open.slots[slot * SLOT_WORDS + Slot.oracle] = w[at + I.obOracle]!;
  }

  applyCounterTargets(v, core.ctr);

  rec[r + Rec.dirty] = w[at + I.dirty]!;
  rec[r + Rec.cached] = w[at + I.cached]!;
  rec[r + Rec.cycleWriter] = w[at + I.cycleWriter]!;
  core.recF64[b * RECORD_F64 + REC_CYCLE_OP_F64] = v.f64[v.atF + IF.cycleOp]!;
  Atomics.store(rec, r + Rec.state, w[at + I.state]!);
  Atomics.store(rec, r + Rec.seq, seq0 + 2);
}
