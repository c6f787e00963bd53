/**
 * Put: drop the open bucket's pin; the last put takes it out of the open-bucket hash and returns its
 * slot. A bucket leaves the open table only after its data is committed (write commits before it
 * returns), which is what the allocator's safety rests on. A duplicate allocation is judged here:
 * what its writes broke, or latent (oracle.ts).
 */
import type { FsCore } from './fs-core.js';
import { C } from './counters.js';
import { SLOT_WORDS, Slot } from './open-buckets.js';
import { IntentKind, addCounterTarget, applyCounterTargets, clearCounterTargets, clearIntent, publishIntent } from './intents.js';
import { tallyConsequences } from './oracle.js';
import { RacePoint } from './race-points.js';
import { checkOpenBucket, requireCurrent, type OpenBucket } from './handles.js';

/** fs.put: see Filesystem.put. */
export function putOpenBucket(core: FsCore, ob: OpenBucket): void {
  core.live('put');
  checkOpenBucket(core, ob);
  if (core.hook !== null) core.hook.at(RacePoint.beforePut, ob.bucket, ob.opId, false);
  core.lockFreelist();
  try {
    // Under the lock: a put of a stale handle (put twice, or concurrently) must not free the slot again.
    requireCurrent(core, ob);
    unpinSlot(core, ob.slot, core.ctrBase);
  } finally {
    core.unlockFreelist();
  }
  if (core.hook !== null) core.hook.at(RacePoint.afterPut, ob.bucket, ob.opId, false);
}

/**
 * Drops one pin of `slot` as one intent-record update, counting into the counters at `ctrBase`
 * (this member's, or a dead member's when recovery puts its slots). Caller holds the freelist lock.
 */
export function unpinSlot(core: FsCore, slot: number, ctrBase: number): void {
  const v = core.intent;
  const stage = core.stageHook;
  if (stage !== null) stage('unpin', 'locked', slot);
  clearCounterTargets(v, ctrBase);
  const last = core.open.planUnpin(v, slot);
  const ctr = core.ctr;
  if (last) tallyConsequences(v, core.open.slots[slot * SLOT_WORDS + Slot.oracle]!, ctr, ctrBase);
  publishIntent(v, IntentKind.unpin);
  if (stage !== null) stage('unpin', 'published', slot);
  core.open.applyUnpin(v, stage === null ? null : () => stage('unpin', 'half-applied', slot));
  applyCounterTargets(v, ctr);
  if (stage !== null) stage('unpin', 'applied', slot);
  clearIntent(v);
  if (stage !== null) stage('unpin', 'cleared', slot);
  ctr[ctrBase + C.puts]!++;
}
