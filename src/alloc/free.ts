/**
 * Free: drop an extent (an overwrite or a delete). Its sector-map entries and its sectors go; a
 * bucket left empty goes to need_discard, or with discards off straight back to free with gen + 1 —
 * unless it is still open, whose gen must not move: it then waits in need_discard for the discard
 * step. Either way the record remembers that this gen's data was emptied (Flag.emptied), so that a
 * later write by another allocation is seen for what it is.
 */
import type { FsCore } from './fs-core.js';
import { C, usageBuckets, usageSectors } from './counters.js';
import { RECORD_F64, RECORD_WORDS, REC_CYCLE_OP_F64, Rec, deriveType, packState, stateFlags, stateGen, stateOldestGen, stateType } from './bucket-table.js';
import { EXTENT_LIVE, EXTENT_WORDS, Ext, extentType } from './extents.js';
import { DataType, Flag, writeTypeCode } from './types.js';
import { ExtOp, IndexOp } from './intents.js';
import { beginRecordUpdate, setRecordAfter, updateRecord } from './record-update.js';
import { RacePoint } from './race-points.js';
import { StaleHandleError } from './errors.js';
import { checkExtentHandle, type Extent } from './handles.js';

/** fs.free: see Filesystem.free. */
export function freeExtent(core: FsCore, e: Extent): void {
  core.live('free');
  checkExtentHandle(core, e);
  if (core.hook !== null) core.hook.at(RacePoint.beforeFree, e.bucket, e.opId, false);
  updateRecord(core, e.bucket, planFree, e);
  core.ctr[core.ctrBase + C.frees]!++;
}

/**
 * The handle against the stored extent; the caller holds the bucket's record lock. An extent of this
 * bucket changes state only under that lock, so a plain read of its state is exact; for an entry that
 * is not (or no longer) this bucket's, whatever a racing claimer left there fails the check.
 */
function checkExtentLive(core: FsCore, e: Extent): void {
  const x = core.extents;
  if (x.words[e.id * EXTENT_WORDS + Ext.state] !== EXTENT_LIVE || x.get(e.id, Ext.bucket) !== e.bucket || x.get(e.id, Ext.offset) !== e.offset
    || x.opId(e.id) !== e.opId || x.get(e.id, Ext.sectors) !== e.sectors
    // The sectors come off dirty or cached by the handle's dataType: it must be the stored one.
    || extentType(x.get(e.id, Ext.genType)) !== writeTypeCode(e.dataType)) {
    throw new StaleHandleError('extent', `extent ${e.id} (bucket ${e.bucket}, offset ${e.offset}) is not live: already freed?`);
  }
}

function planFree(core: FsCore, b: number, e: Extent): void {
  checkExtentLive(core, e);
  const rec = core.records;
  const at = b * RECORD_WORDS;
  const st = rec[at + Rec.state]!;
  const type = stateType(st);
  let dirty = rec[at + Rec.dirty]!;
  let cached = rec[at + Rec.cached]!;
  const isCached = e.dataType === 'cached';
  if (isCached) cached = Math.max(0, cached - e.sectors);
  else dirty = Math.max(0, dirty - e.sectors);
  let gen = stateGen(st);
  let oldest = stateOldestGen(st);
  let flags = stateFlags(st);
  let cycleWriter = rec[at + Rec.cycleWriter]!;
  let cycleOp = core.recF64[b * RECORD_F64 + REC_CYCLE_OP_F64]!;
  let indexOps = 0;
  if (dirty === 0 && cached === 0 && type !== DataType.free && type !== DataType.need_discard) {
    // The freelist lock is taken (and released) here, before anything is written: a failure to
    // take it leaves the bucket exactly as it was.
    if (core.config.discard || core.isOpenSafe(b)) {
      flags |= Flag.need_discard | Flag.emptied | (core.config.discard ? 0 : Flag.need_inc_gen);
      indexOps = IndexOp.needDiscardAdd;
    } else {
      gen = (gen + 1) & 0xff;
      oldest = gen;
      flags = 0;
      cycleWriter = 0;
      cycleOp = 0;
      indexOps = IndexOp.freeSpaceAdd;
    }
  }
  const newType = deriveType(dirty, cached, flags, type);
  const ctr = core.ctr;
  const base = core.ctrBase;
  const u = beginRecordUpdate(core, b);
  const sectorType = isCached ? DataType.cached : type;
  u.count(usageSectors(sectorType), ctr[base + usageSectors(sectorType)]! - e.sectors);
  if (newType !== type) {
    u.count(usageBuckets(type), ctr[base + usageBuckets(type)]! - 1);
    u.count(usageBuckets(newType), ctr[base + usageBuckets(newType)]! + 1);
  }
  setRecordAfter(u, packState(gen, oldest, newType, flags), dirty, cached, cycleWriter, cycleOp);
  u.indexOps = indexOps;
  u.extOp = ExtOp.release;
  u.extId = e.id;
  u.extOffset = e.offset;
  u.extSectors = e.sectors;
  u.extOpId = e.opId;
}
