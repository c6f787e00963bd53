/**
 * Check and publish one candidate bucket — bcachefs's __try_alloc_bucket — with the configured fix.
 * This is where the race lives. A scan (alloc-scan.ts: the early and freelist scans) read the
 * candidate's record and saw it free; between that read and the publish below, another thread may open the
 * bucket, commit data into it and put it again, and then "is it open?" — all that the unfixed
 * allocator checks under the freelist lock — says no, and the bucket is handed out a second time.
 *
 *   none     under the freelist lock only "is it open?" is checked: the 2023 bug
 *   seqlock  the record's sequence count the scan saw is re-checked under the freelist lock: any
 *            committed change to the record since the scan moved it, and the candidate is skipped
 *   keylock  the record is read-locked and re-read, and the read lock is held across the open check
 *            and the publish: a commit needs the write lock, so the record cannot change in between
 *
 * The key lock (and the freelist allocator's locked lookup, the same shape) only ever *tries* the
 * read lock: a record whose lock is busy is being updated — written into, freed or discarded — and
 * is therefore not a free bucket right now; skipping it loses nothing the fix promises (the
 * candidates it does publish are still checked and published under the read lock), and a scan
 * never waits behind one busy bucket, or behind a thread that died holding one.
 *
 * The allocation oracle (when configured) sits beside the fix and decides nothing: at the publish,
 * under the freelist lock, it reads the record's state word and records whether the bucket was in
 * truth free at the gen being published. The state word is the single store by which every record
 * update commits, and any update of a not-open bucket leaves it "not free at this gen" whether read
 * before or after that store, so the one load gives the truth without the record lock.
 */
import type { FsCore } from './fs-core.js';
import { C } from './counters.js';
import { RECORD_WORDS, Rec, stateGen, stateType } from './bucket-table.js';
import { Dev } from './device.js';
import { DataType } from './types.js';
import { IntentKind, addCounterTarget, applyCounterTargets, clearCounterTargets, clearIntent, publishIntent } from './intents.js';
import { RacePoint } from './race-points.js';
import { OracleBit } from './oracle.js';
import { unpinSlot } from './put.js';

/**
 * One allocation in progress: what it asks for (validated, request.ts) and, once a candidate is
 * published, where. Each view keeps one and reuses it, so an allocation makes no garbage.
 */
export interface AllocAttempt {
  dataType: number;
  watermark: number;
  writer: number;
  opId: number;
  /** Set by a successful publish. */
  slot: number;
  gen: number;
}

/**
 * Tries to open candidate `b`, whose state word the scan read as `st` (and sequence as `seq`,
 * seqlock fix only). Returns false to skip it; sets core.reserveHit when the open-bucket reserve
 * refused (the scan then stops). On true, the attempt's slot and gen say what was published.
 */
export function tryAllocBucket(core: FsCore, b: number, st: number, seq: number, p: AllocAttempt): boolean {
  const ctr = core.ctr;
  const base = core.ctrBase;
  const locked = core.lockCandidate;
  const rec = core.records;
  const at = b * RECORD_WORDS;
  let gen = stateGen(st);
  if (locked) {
    if (!core.tryLockRecordRead(b)) {
      ctr[base + C.skippedBusy]!++;
      return false;
    }
    const again = Atomics.load(rec, at + Rec.state);
    if (stateType(again) !== DataType.free) {
      core.unlockRecordRead(b);
      ctr[base + C.keylockRefusals]!++;
      if (core.hook !== null) core.hook.at(RacePoint.lockedRereadRefused, b, p.opId, false);
      return false;
    }
    gen = stateGen(again);
  }
  let slot = 0;
  let refused: number = -1;
  try {
    if (core.hook !== null) core.hook.at(RacePoint.beforeFreelistLock, b, p.opId, locked);
    const open = core.open;
    core.lockFreelist();
    try {
      if (!open.reserveAllows(p.watermark, open.freeSlotsLocked())) {
        ctr[base + C.reserveRefusals]!++;
        core.reserveHit = true;
        return false;
      }
      if (open.isOpenLocked(b)) {
        ctr[base + C.skippedOpen]!++;
        refused = RacePoint.foundOpen;
      } else if (core.seqlockFix && Atomics.load(rec, at + Rec.seq) !== seq) {
        ctr[base + C.revalidationRetries]!++;
        refused = RacePoint.revalidateFailed;
      } else {
        const v = core.intent;
        clearCounterTargets(v, base);
        let oracle = 0;
        if (core.oracle) {
          const now = Atomics.load(rec, at + Rec.state);
          if (stateType(now) !== DataType.free || stateGen(now) !== gen) {
            oracle = OracleBit.duplicate;
            addCounterTarget(v, C.duplicateAllocations, ctr[base + C.duplicateAllocations]! + 1);
          }
        }
        p.gen = gen;
        const stage = core.stageHook;
        if (stage !== null) stage('publish', 'locked', b);
        slot = open.planPublish(v, b, p, core.config.bucketSectors, core.member, oracle);
        publishIntent(v, IntentKind.publish);
        if (stage !== null) stage('publish', 'published', b);
        open.applyPublish(v, stage === null ? null : () => stage('publish', 'half-applied', b));
        applyCounterTargets(v, ctr);
        if (stage !== null) stage('publish', 'applied', b);
        clearIntent(v);
        if (stage !== null) stage('publish', 'cleared', b);
        ctr[base + C.allocs]!++;
      }
    } finally {
      core.unlockFreelist();
    }
  } finally {
    if (locked) core.unlockRecordRead(b);
  }
  if (slot === 0) {
    if (core.hook !== null) core.hook.at(refused, b, p.opId, false);
    return false;
  }
  p.slot = slot;
  if (core.config.cursorFix) Atomics.store(core.dev, Dev.cursor, b + 1 < core.config.buckets ? b + 1 : 0);
  if (core.hook !== null) {
    try {
      core.hook.at(RacePoint.afterPublish, b, p.opId, false);
    } catch (e) {
      // The caller will not get the open bucket: put it back, so no slot is left pinned for ever.
      unpublish(core, slot);
      throw e;
    }
  }
  return true;
}

/** Puts a just-published slot back (no race points: this is the undo of a publish). */
function unpublish(core: FsCore, slot: number): void {
  core.lockFreelist();
  try {
    unpinSlot(core, slot, core.ctrBase);
  } finally {
    core.unlockFreelist();
  }
}
