/**
 * Write: take sectors from an open bucket and commit the index update — record, extent, sector map,
 * free-space and need-discard indexes, usage — as one record update (record-update.ts). Every
 * problem the write has is detected here, online, and logged; the data lands regardless (as it would
 * on a disk) and the caller gets the extent on the AllocError:
 *
 *   duplicate_backpointer  another live extent starts at this extent's first sector
 *   extent_overlap         another live extent covers some sector this write covers (any sector:
 *                          the sector map names the covering extent of every written sector)
 *   data_type_mismatch     the bucket holds dirty data of another type
 *   gen_mismatch           the open bucket's gen is not the bucket's gen: the data is invisible
 *   write_after_empty      the bucket was emptied at this gen by another allocation and not discarded
 *                          since: the pending discard would wipe this data
 *   foreign_allocation     the bucket holds live data of another allocation at this gen
 *
 * Only one allocation may write into a bucket per gen (a bucket leaves free only through its
 * allocation, and comes back to free only with gen + 1), so the record remembers that allocation
 * (cycleOp) and any other allocation's write is one of the last two.
 */
import { ConfigError, checkInt } from '../shared/validate.js';
import type { FsCore } from './fs-core.js';
import { C, usageBuckets, usageSectors } from './counters.js';
import {
  RECORD_F64, RECORD_WORDS, REC_CYCLE_OP_F64, Rec, deriveType, packState, stateFlags, stateGen, stateOldestGen, stateType,
} from './bucket-table.js';
import { Ext, packGenType } from './extents.js';
import { SLOT_WORDS, Slot } from './open-buckets.js';
import { DATA_TYPE_NAMES, DataType, ERROR_KIND_NAMES, ErrorKind, Flag } from './types.js';
import { ExtOp, IndexOp } from './intents.js';
import { beginRecordUpdate, setRecordAfter, updateRecord } from './record-update.js';
import { OracleBit } from './oracle.js';
import { RacePoint } from './race-points.js';
import { AllocError, type ExtentInfo } from './errors.js';
import { checkOpenBucket, requireCurrent, type OpenBucket } from './handles.js';

/** Largest writer id: writer ids share an int32 word with nothing, but stay clear of the sign bit. */
export const WRITER_MAX = 0x3fffffff;

interface Problem {
  kind: number;
  otherWriter: number;
  otherOp: number;
  detail: number;
}

/**
 * One write in progress, besides its open bucket (the plan's argument); each view keeps one and
 * reuses it (FsCore.commit). Numbers only, so filling it stores no pointer (no write barrier), and
 * the extent comes back as the plan's result.
 */
export interface CommitArgs {
  sectors: number;
  writer: number;
  problems: Problem[];
}

export function newCommitArgs(): CommitArgs {
  return { sectors: 0, writer: 0, problems: [] };
}

/** fs.write: see Filesystem.write. */
export function writeExtent(core: FsCore, ob: OpenBucket, sectors: unknown, writer: unknown): ExtentInfo {
  core.live('write');
  checkOpenBucket(core, ob);
  if (typeof sectors !== 'number' || !Number.isInteger(sectors) || sectors < 1) {
    throw new ConfigError('sectors', `must be an integer in [1, ${ob.sectorsFree}] (sectors left in open bucket ${ob.bucket}; buckets hold ${core.config.bucketSectors}), got ${String(sectors)}`);
  }
  const w = writer === undefined ? ob.writer : checkInt('writer', writer, 0, WRITER_MAX);
  if (core.hook !== null) core.hook.at(RacePoint.beforeCommit, ob.bucket, ob.opId, false);
  const args = core.commit;
  args.sectors = sectors;
  args.writer = w;
  if (args.problems.length > 0) args.problems = [];
  const extent = updateRecord(core, ob.bucket, planCommit, ob);
  core.ctr[core.ctrBase + C.commits]!++;
  const failure = args.problems.length === 0 ? null : reportProblems(core, extent, args.problems);
  if (core.hook !== null) {
    try {
      core.hook.at(RacePoint.afterCommit, ob.bucket, ob.opId, false);
      if (failure !== null) core.hook.at(RacePoint.commitFailed, ob.bucket, ob.opId, false);
    } catch (e) {
      // The commit stands (it is the write's point of no return): the error carries the extent, as
      // an AllocError does, so the data is not lost to its writer.
      if (typeof e === 'object' && e !== null && !('extent' in e)) Object.defineProperty(e, 'extent', { value: extent, enumerable: true });
      throw e;
    }
  }
  if (failure !== null) throw failure;
  return extent;
}

/** The commit's plan, under bucket b's record lock: every check, then every value it will store. */
function planCommit(core: FsCore, b: number, ob: OpenBucket): ExtentInfo {
  const a = core.commit;
  const sectors = a.sectors;
  // First, under the lock: the slot still holds this allocation (the handle was not put).
  requireCurrent(core, ob);
  const S = core.config.bucketSectors;
  const slotAt = ob.slot * SLOT_WORDS;
  // The slot's own commits write sectorsFree, under this record lock: plain reads are exact.
  const free = core.open.slots[slotAt + Slot.sectorsFree]!;
  if (sectors > free) {
    throw new ConfigError('sectors', `must be an integer in [1, ${free}] (sectors left in open bucket ${ob.bucket}; buckets hold ${S}), got ${sectors}`);
  }
  const offset = S - free;
  const dt = ob.dataTypeCode;
  const rec = core.records;
  const at = b * RECORD_WORDS;
  const st = rec[at + Rec.state]!;
  const type = stateType(st);
  const flags = stateFlags(st);
  const gen = stateGen(st);
  let dirty = rec[at + Rec.dirty]!;
  let cached = rec[at + Rec.cached]!;
  const cycleOp = core.recF64[b * RECORD_F64 + REC_CYCLE_OP_F64]!;
  const cycleWriter = cycleOp !== 0 ? rec[at + Rec.cycleWriter]! : -1;

  // Problems, most direct first.
  const problems = a.problems;
  let consequences = 0;
  const map = core.sectorMap;
  const first = b * S + offset;
  for (let i = 0; i < sectors; i++) {
    const v = map[first + i]!;
    if (v === 0) continue;
    const other = v - 1;
    const startsHere = i === 0 && core.extents.get(other, Ext.offset) === offset;
    problems.push({
      kind: startsHere ? ErrorKind.duplicate_backpointer : ErrorKind.extent_overlap,
      otherWriter: core.extents.get(other, Ext.writer), otherOp: core.extents.opId(other), detail: offset + i,
    });
    consequences |= OracleBit.overwrote;
    break;
  }
  if (dt !== DataType.cached && dirty > 0 && type !== dt) {
    problems.push({ kind: ErrorKind.data_type_mismatch, otherWriter: cycleWriter, otherOp: cycleOp, detail: type });
    consequences |= OracleBit.mixedTypes;
  }
  if (gen !== ob.gen) {
    problems.push({ kind: ErrorKind.gen_mismatch, otherWriter: cycleWriter, otherOp: cycleOp, detail: gen });
    consequences |= OracleBit.staleGen;
  }
  if (cycleOp !== 0 && cycleOp !== ob.opId) {
    const emptied = (flags & Flag.emptied) !== 0 && dirty === 0 && cached === 0;
    problems.push({ kind: emptied ? ErrorKind.write_after_empty : ErrorKind.foreign_allocation, otherWriter: cycleWriter, otherOp: cycleOp, detail: gen });
    consequences |= emptied ? OracleBit.awaitingDiscard : OracleBit.shared;
  }

  // The record after: it keeps the type of the dirty data it already holds.
  const dirtyType = dirty > 0 ? type : dt;
  if (dt === DataType.cached) cached += sectors;
  else dirty += sectors;
  let newFlags = flags;
  let indexOps = type === DataType.free ? IndexOp.freeSpaceRemove : 0;
  if ((flags & Flag.need_discard) !== 0) {
    // Data landed in a bucket waiting for discard: no discard now (its data would be lost).
    newFlags &= ~(Flag.need_discard | Flag.need_inc_gen);
    indexOps |= IndexOp.needDiscardRemove;
  }
  const newType = deriveType(dirty, cached, newFlags, dirtyType);
  const startsCycle = cycleOp === 0;

  // The last check: a full extent table throws here, with nothing written. From here on nothing can fail.
  const id = core.extents.claim(core.member);
  const ctr = core.ctr;
  const base = core.ctrBase;
  const u = beginRecordUpdate(core, b);
  if (newType !== type) {
    u.count(usageBuckets(type), ctr[base + usageBuckets(type)]! - 1);
    u.count(usageBuckets(newType), ctr[base + usageBuckets(newType)]! + 1);
  }
  const sectorType = dt === DataType.cached ? DataType.cached : newType;
  u.count(usageSectors(sectorType), ctr[base + usageSectors(sectorType)]! + sectors);
  setRecordAfter(u, packState(gen, stateOldestGen(st), newType, newFlags), dirty, cached,
    startsCycle ? a.writer : cycleWriter, startsCycle ? ob.opId : cycleOp);
  u.indexOps = indexOps;
  u.obSlot = ob.slot;
  const oracle = core.open.slots[slotAt + Slot.oracle]!;
  u.obOracle = (oracle & OracleBit.duplicate) !== 0 ? oracle | consequences : oracle;
  u.extOp = ExtOp.live;
  u.extId = id;
  u.extOffset = offset;
  u.extSectors = sectors;
  u.extGenType = packGenType(ob.gen, dt);
  u.extWriter = a.writer;
  u.extOpId = ob.opId;
  return { id, bucket: b, gen: ob.gen, offset, sectors, dataType: ob.dataType, writer: a.writer, opId: ob.opId, fs: core.identity };
}

/** Logs each problem (after the record lock is released) and builds the error the caller gets. */
function reportProblems(core: FsCore, e: ExtentInfo, problems: Problem[]): AllocError {
  for (const p of problems) {
    core.errorLog.append(p.kind, { bucket: e.bucket, writer: e.writer, otherWriter: p.otherWriter, member: core.member, opId: e.opId, otherOpId: p.otherOp, detail: p.detail });
  }
  const p = problems[0]!;
  const why = problems.map((q) => describe(q, e)).join('; ');
  return new AllocError(problems.map((q) => ERROR_KIND_NAMES[q.kind - 1]!), e, p.otherWriter, p.otherOp, why);
}

function describe(q: Problem, e: ExtentInfo): string {
  switch (q.kind) {
    case ErrorKind.duplicate_backpointer: return `a backpointer already exists at offset ${e.offset}`;
    case ErrorKind.extent_overlap: return `sector ${q.detail} already belongs to a live extent of op ${q.otherOp}`;
    case ErrorKind.data_type_mismatch: return `bucket holds ${DATA_TYPE_NAMES[q.detail]} data, write is ${e.dataType}`;
    case ErrorKind.gen_mismatch: return `open bucket has gen ${e.gen}, bucket has gen ${q.detail}`;
    case ErrorKind.write_after_empty: return `the bucket was emptied by op ${q.otherOp} and not discarded since`;
    default: return `the bucket holds data of op ${q.otherOp} at gen ${q.detail}`;
  }
}
