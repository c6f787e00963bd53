/**
 * Recovery: what happens to shared state when a thread dies anywhere — between two updates, or half
 * way through one, holding a lock.
 *
 * Every multi-word update is planned into the member's intent record before its first shared store
 * (intents.ts), under the one lock that protects everything it stores. So at any instant a dead
 * member has at most one valid intent record, the lock it names is held by the dead member, and
 * finishing the update is applying that record again — the same function the live path applied it
 * with, storing the same absolute values. Nothing is ever undone: an update whose record was never
 * published stored nothing shared, so there is nothing to undo.
 *
 * Two ways in, both safe to run at once (every step is under the lock it repairs):
 *
 *   on demand  a thread that takes over a lock from a dead holder (the robust lock says the owner
 *              died) finishes the dead holder's update before it goes on — repairRecordHolder and
 *              repairFreelistHolder, called from FsCore's lock methods. Survivors never wait for
 *              anyone to notice the death.
 *   recover    `Filesystem.recover()` (or `watchWorker`, when the thread that owns the Worker learns
 *              of its exit) recovers each dead member completely: finishes its update, takes over and
 *              releases every lock it still holds (record locks for write or read, the freelist
 *              lock), gives back extent entries it had claimed but not committed, puts its open
 *              buckets, and frees its registry member for another thread. It returns what it did.
 *
 * What survives a crash: every update that published its intent record happens, whole (its writes
 * are "indeterminate" to the dead thread's caller: they happened or not, never half); data whose
 * write returned stays until someone frees it; the dead thread's open buckets are put (a duplicate
 * among them is tallied by the oracle like any other).
 */
import type { FsCore } from './fs-core.js';
import { SLOT_WORDS, Slot } from './open-buckets.js';
import { I, IntentKind, applyCounterTargets, clearIntent, intentKind, type IntentView } from './intents.js';
import { RecordUpdate, applyRecordUpdate, readRecordIntent } from './record-update.js';
import { unpinSlot } from './put.js';

/** What recovering one dead member did (`recover()`, `watchWorker`). */
export interface RecoveryReport {
  /** The registry member recovered, and the lock owner id and runtime thread id it had. */
  member: number;
  ownerId: number;
  threadId: number;
  /** The update found half-done and finished from its intent record, if any. */
  finished: { kind: 'record' | 'publish' | 'unpin'; bucket: number | null } | null;
  /** Locks the dead member still held (write or exclusive), taken over and released. */
  locksReleased: number;
  /** Record read holds (key lock, locked lookup) of the dead member released. */
  readHoldsReleased: number;
  /** Extent entries claimed by the dead member and never committed, given back. */
  extentsReleased: number;
  /** Open buckets the dead member had not put, put. */
  openBucketsPut: number;
}

function isDead(core: FsCore, m: number): boolean {
  const s = core.registry.state(m);
  return s === 'dead' || s === 'recovering';
}

/** Applies a dead member's published intent record, if it is one of `kinds` (and for bucket `b`). */
function finishIntent(core: FsCore, v: IntentView, kinds: readonly number[], b: number | null): number {
  const kind = intentKind(v);
  if (!kinds.includes(kind)) return IntentKind.none;
  if (kind === IntentKind.record) {
    if (b !== null && v.i32[v.at + I.target] !== b) return IntentKind.none;
    applyRecordUpdate(core, readRecordIntent(v, new RecordUpdate()), null, true);
  } else {
    if (kind === IntentKind.publish) core.open.applyPublish(v);
    else core.open.applyUnpin(v);
    applyCounterTargets(v, core.ctr);
  }
  clearIntent(v);
  return kind;
}

/** Bucket b's record lock was just taken over from a dead holder: finish that holder's update of b. */
export function repairRecordHolder(core: FsCore, b: number): void {
  for (let m = 0; m < core.registry.members; m++) {
    if (m !== core.member && isDead(core, m)) finishIntent(core, core.intentOf(m), [IntentKind.record], b);
  }
}

/** The freelist lock was just taken over from a dead holder: finish that holder's publish or put. */
export function repairFreelistHolder(core: FsCore): void {
  for (let m = 0; m < core.registry.members; m++) {
    if (m !== core.member && isDead(core, m)) finishIntent(core, core.intentOf(m), [IntentKind.publish, IntentKind.unpin], null);
  }
}

/**
 * Recovers dead member m completely (see the header). Returns null when m is not dead or another
 * thread is already recovering it. Run by a live member of the same filesystem (`core`).
 */
export function recoverMember(core: FsCore, m: number): RecoveryReport | null {
  const reg = core.registry;
  if (m === core.member || !reg.beginRecovery(m)) return null;
  const deadOwner = reg.ownerOf(m);
  const report: RecoveryReport = {
    member: m, ownerId: deadOwner, threadId: reg.threadIdOf(m), finished: null,
    locksReleased: 0, readHoldsReleased: 0, extentsReleased: 0, openBucketsPut: 0,
  };
  const v = core.intentOf(m);

  // 1. The update in flight, under its lock (taking the lock over finishes it; this is a fallback).
  const kind = intentKind(v);
  if (kind === IntentKind.record) {
    const b = v.i32[v.at + I.target]!;
    if (core.recordLocks.writer(b) === deadOwner) report.locksReleased++;
    core.lockRecordWrite(b);
    try {
      finishIntent(core, v, [IntentKind.record], b);
    } finally {
      core.unlockRecordWrite(b);
    }
    report.finished = { kind: 'record', bucket: b };
  } else if (kind === IntentKind.publish || kind === IntentKind.unpin) {
    if (core.open.lock.owner() === deadOwner) report.locksReleased++;
    core.lockFreelist();
    try {
      finishIntent(core, v, [IntentKind.publish, IntentKind.unpin], null);
    } finally {
      core.unlockFreelist();
    }
    report.finished = { kind: kind === IntentKind.publish ? 'publish' : 'unpin', bucket: null };
  }

  // 2. Locks it still holds: taking each over (and finding nothing to finish) releases it. The
  // registry lists read holds, not exclusive ones: those are found by the owner in the lock word,
  // and must be released before the member is freed (a word naming a freed owner looks alive).
  const n = core.config.buckets;
  for (let b = 0; b < n; b++) {
    if (core.recordLocks.writer(b) !== deadOwner) continue;
    core.lockRecordWrite(b);
    core.unlockRecordWrite(b);
    report.locksReleased++;
  }
  report.readHoldsReleased = core.recordLocks.recoverReadHolds(m, (b, result) => {
    // Its write lock was dead too (another thread died updating it): finish that update.
    if (result === 'owner-died') repairRecordHolder(core, b);
  }, core.timeout).length;
  if (core.open.lock.owner() === deadOwner) {
    core.lockFreelist();
    core.unlockFreelist();
    report.locksReleased++;
  }

  // 3. Extent entries it claimed and never committed.
  for (let id = 0; id < core.config.extents; id++) {
    if (core.extents.claimedBy(id) === m && core.extents.unclaim(id, m)) report.extentsReleased++;
  }

  // 4. Its open buckets, put (their writes are committed: only a commit writes into a bucket).
  const deadBase = core.counters.base(m);
  core.lockFreelist();
  try {
    const slots = core.open.slots;
    for (let s = 1; s < core.config.openBuckets; s++) {
      const at = s * SLOT_WORDS;
      if (Atomics.load(slots, at + Slot.valid) !== 1 || Atomics.load(slots, at + Slot.member) !== m) continue;
      while (Atomics.load(slots, at + Slot.valid) === 1 && Atomics.load(slots, at + Slot.pin) > 0) unpinSlot(core, s, deadBase);
      report.openBucketsPut++;
    }
  } finally {
    core.unlockFreelist();
  }

  reg.finishRecovery(m);
  return report;
}

/** The robust-lock domain of the record locks (distinct from any other RwLockArray on the registry). */
export const RECORD_LOCK_DOMAIN = 1;
