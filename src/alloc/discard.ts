/**
 * Discard: up to `max` need_discard buckets each get gen + 1 and go back to the free-space index.
 * Buckets still open are skipped (their gen must not move) and stay for a later pass. The step
 * resumes where the previous one stopped (a device word), so repeated small steps cover the device.
 */
import { checkInt } from '../shared/validate.js';
import type { FsCore } from './fs-core.js';
import { C, usageBuckets } from './counters.js';
import { RECORD_F64, RECORD_WORDS, REC_CYCLE_OP_F64, Rec, packState, stateFlags, stateGen, stateType } from './bucket-table.js';
import { Dev } from './device.js';
import { DataType, Flag } from './types.js';
import { IndexOp } from './intents.js';
import { NOTHING, beginRecordUpdate, setRecordAfter, updateRecord } from './record-update.js';
import { RacePoint } from './race-points.js';

/** fs.discard: see Filesystem.discard. */
export function discardBuckets(core: FsCore, max: unknown): number {
  core.live('discard');
  const limit = max === undefined || max === Infinity ? Infinity : checkInt('max', max, 0, 2 ** 31 - 1);
  const n = core.config.buckets;
  const start = Atomics.load(core.dev, Dev.discardCursor) % n;
  let done = 0;
  let last = start;
  try {
    for (let pass = 0; pass < 2 && done < limit; pass++) {
      const lo = pass === 0 ? start : 0;
      const hi = pass === 0 ? n : start;
      let b = lo;
      while (done < limit) {
        const cand = core.needDiscard.next(b, hi);
        if (cand < 0) break;
        if (core.hook !== null) core.hook.at(RacePoint.beforeDiscard, cand, 0, false);
        if (updateRecord(core, cand, planDiscard, null) === true) done++;
        b = cand + 1;
        last = b;
      }
    }
  } catch (e) {
    // Each bucket's discard is its own all-or-nothing update: those before the failure stand (and
    // are counted, and the cursor moves past them); the failed one changed nothing. The caller is
    // told how many were done.
    if (typeof e === 'object' && e !== null && !('discarded' in e)) Object.defineProperty(e, 'discarded', { value: done, enumerable: true });
    throw e;
  } finally {
    Atomics.store(core.dev, Dev.discardCursor, last % n);
    core.ctr[core.ctrBase + C.discards]! += done;
  }
  return done;
}

/** True: discarded. False: only a stale index bit removed. NOTHING: not discardable now. */
function planDiscard(core: FsCore, b: number): boolean | typeof NOTHING {
  const rec = core.records;
  const at = b * RECORD_WORDS;
  const st = Atomics.load(rec, at + Rec.state);
  const flags = stateFlags(st);
  if ((flags & Flag.need_discard) === 0) {
    // Not flagged (a commit cancelled it): only the index bit is stale.
    if (!core.needDiscard.has(b)) return NOTHING;
    const u = beginRecordUpdate(core, b);
    setRecordAfter(u, st, rec[at + Rec.dirty]!, rec[at + Rec.cached]!, rec[at + Rec.cycleWriter]!, core.recF64[b * RECORD_F64 + REC_CYCLE_OP_F64]!);
    u.indexOps = IndexOp.needDiscardRemove;
    return false;
  }
  if (rec[at + Rec.dirty]! > 0 || rec[at + Rec.cached]! > 0) return NOTHING;
  if (core.isOpenSafe(b)) return NOTHING;
  const gen = (stateGen(st) + 1) & 0xff;
  const type = stateType(st);
  const ctr = core.ctr;
  const base = core.ctrBase;
  const u = beginRecordUpdate(core, b);
  if (type !== DataType.free) {
    u.count(usageBuckets(type), ctr[base + usageBuckets(type)]! - 1);
    u.count(usageBuckets(DataType.free), ctr[base + usageBuckets(DataType.free)]! + 1);
  }
  setRecordAfter(u, packState(gen, gen, DataType.free, 0), 0, 0, 0, 0);
  u.indexOps = IndexOp.needDiscardRemove | IndexOp.freeSpaceAdd;
  return true;
}
