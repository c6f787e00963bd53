/**
 * Crash torture: workers terminated at random moments — uniform in time, so inside critical
 * sections too, not only at race points — then recovered, replaced, and the history checked.
 *
 * A kill is `worker.terminate()` from the main thread: the worker stops wherever its JavaScript is
 * at that instant (a lock held, an intent record half-written, an update half-applied). Then, as
 * the owner of a Worker should: report the death (the thread registry marks its member dead; robust
 * locks let any waiter take over at once), recover it (finish its update from its intent record,
 * release its locks, give back its claims, put its open buckets, free its member), decide its
 * in-flight operation, and start a replacement that takes over its journal block — the data it
 * had acknowledged — and goes on. Survivors never stop.
 *
 * At the end, with every worker stopped, the history is checked (Jepsen-style): every extent whose
 * write a worker saw return is still in place, exactly, unless that worker freed it and saw the
 * free return; every live extent was acknowledged by someone, or is the indeterminate write of a
 * killed worker (it happened; that is allowed, as not happening is). Nothing half.
 */
import { Rng } from '../shared/prng.js';
import type { Filesystem, RecoveryReport } from '../alloc/filesystem.js';
import { EXTENT_LIVE, Ext } from '../alloc/extents.js';
import type { Journal } from './journal.js';
import { IntentKind, intentKind } from '../alloc/intents.js';

/** One kill of a crash run: who, when, where it landed, what recovery did. */
export interface CrashEvent {
  worker: number;
  /** Which of the workers at this index it was (1: the original). */
  generation: number;
  /** Milliseconds into the run. */
  atMs: number;
  /** The operation the worker had in flight, and what became of it. */
  inFlight: { kind: string; outcome: 'happened' | 'did not happen' | 'decided at the end' | 'none' };
  /** Where the kill landed, read before the death was reported (nobody had taken anything over yet). */
  at: DeathSnapshot;
  /** What recovery did (a survivor may have finished the update first, taking its lock over). */
  recovery: RecoveryReport | null;
  /** Milliseconds from the kill to the replacement running. */
  replacedInMs: number;
}

/** What a dead thread left: the update it was in (by its intent record) and the locks it held. */
export interface DeathSnapshot {
  /** 'record', 'publish' or 'unpin' when its intent record was published; null otherwise. */
  update: 'record' | 'publish' | 'unpin' | null;
  /** Locks it held (the freelist lock, record locks for write, record read holds). */
  locksHeld: number;
}

/**
 * Reads what the thread `threadId` left behind. Call right after it stopped: once its death is
 * reported a waiting survivor may take a lock over and finish the update within a park slice.
 */
export function deathSnapshot(fs: Filesystem, threadId: number): DeathSnapshot {
  const reg = fs.registry;
  const core = fs.core;
  let update: DeathSnapshot['update'] = null;
  let locksHeld = 0;
  for (let m = 0; m < reg.members; m++) {
    // Alive, or already reported dead by the pool's exit watch; not yet recovered either way.
    const state = reg.state(m);
    if ((state !== 'alive' && state !== 'dead') || reg.threadIdOf(m) !== threadId) continue;
    const kind = intentKind(core.intentOf(m));
    if (kind !== IntentKind.none) update = kind === IntentKind.record ? 'record' : kind === IntentKind.publish ? 'publish' : 'unpin';
    const owner = reg.ownerOf(m);
    if (core.open.lock.owner() === owner) locksHeld++;
    for (let b = 0; b < fs.config.buckets; b++) if (core.recordLocks.writer(b) === owner) locksHeld++;
    locksHeld += reg.readHoldsOf(m).length;
  }
  return { update, locksHeld };
}

/** Kill moments, uniform over the run's `durationMs`, sorted. */
export function crashMoments(count: number, durationMs: number, rng: Rng): number[] {
  const out = Array.from({ length: count }, () => rng.float() * durationMs);
  return out.sort((a, b) => a - b);
}

/** An in-flight write of a killed worker: whether it happened is decided at the end. */
export interface IndeterminateWrite {
  worker: number;
  opId: number;
}

/**
 * Decides a dead worker's in-flight operation from shared memory (its thread has stopped and its
 * member was recovered, so nothing of it moves any more): a free happened iff the extent its
 * pending record names (id and op id) is no longer live — then its entry is dropped, as the worker
 * would have (finishing a removeLive the kill may have stopped half-way). A write is decided at the end (its extent, if it landed, is the only one of its allocation
 * nobody acknowledged). Everything else leaves nothing to decide.
 */
export function decideInFlight(fs: Filesystem, journal: Journal, w: number, writes: IndeterminateWrite[]): CrashEvent['inFlight'] {
  const p = journal.pending(w);
  journal.clearPending(w);
  if (p.kind === 'none') return { kind: 'none', outcome: 'none' };
  if (p.kind === 'write') {
    writes.push({ worker: w, opId: p.opId });
    return { kind: 'write', outcome: 'decided at the end' };
  }
  if (p.kind === 'free') {
    // By the extent's identity, not the entry's index: a kill inside removeLive may have copied
    // another entry, or part of one, into that index.
    const x = fs.extents;
    const stillLive = x.state(p.extent) === EXTENT_LIVE && x.opId(p.extent) === p.opId;
    if (!stillLive) journal.finishRemove(w);
    return { kind: 'free', outcome: stillLive ? 'did not happen' : 'happened' };
  }
  // allocate, put, discard: recovery put the open buckets; no data is acknowledged by them.
  return { kind: p.kind, outcome: 'none' };
}

/** The Jepsen-style check of a crash run's history (see the header above). */
export interface HistoryCheck {
  ok: boolean;
  /** Extents whose write returned and that no returned free removed. */
  acknowledged: number;
  /** Acknowledged extents not in place (lost or changed): must be none. */
  lost: string[];
  /** Live extents nobody acknowledged and no killed worker had in flight: must be none. */
  phantoms: string[];
  /** Killed workers' in-flight writes, by outcome. */
  indeterminateWrites: { happened: number; didNotHappen: number };
}

/** The history check, run quiescent (every worker stopped, every dead member recovered). */
export function checkHistory(fs: Filesystem, journal: Journal, writes: IndeterminateWrite[]): HistoryCheck {
  const x = fs.extents;
  const listed = new Set<number>();
  const lost: string[] = [];
  let acknowledged = 0;
  for (let w = 0; w < journal.config.workers; w++) {
    for (let i = 0; i < journal.liveCount(w); i++) {
      const e = journal.entry(w, i, fs.identity);
      acknowledged++;
      listed.add(e.id);
      const ok = x.state(e.id) === EXTENT_LIVE && x.get(e.id, Ext.bucket) === e.bucket && x.get(e.id, Ext.offset) === e.offset
        && x.get(e.id, Ext.sectors) === e.sectors && x.opId(e.id) === e.opId && x.get(e.id, Ext.writer) === e.writer;
      if (!ok && lost.length < 20) lost.push(`worker ${w}: extent ${e.id} (bucket ${e.bucket}, offset ${e.offset}, op ${e.opId}) acknowledged but not in place`);
    }
  }
  const pendingOps = new Map<number, number>(writes.map((p) => [p.opId, 0]));
  const phantoms: string[] = [];
  for (let id = 0; id < fs.config.extents; id++) {
    if (x.state(id) !== EXTENT_LIVE || listed.has(id)) continue;
    const op = x.opId(id);
    const seen = pendingOps.get(op);
    // One in-flight write lands at most one extent.
    if (seen === 0) pendingOps.set(op, 1);
    else if (phantoms.length < 20) phantoms.push(`extent ${id} (bucket ${x.get(id, Ext.bucket)}, op ${op}, writer ${x.get(id, Ext.writer)}) is live but nobody acknowledged it`);
  }
  const happened = [...pendingOps.values()].filter((v) => v === 1).length;
  return {
    ok: lost.length === 0 && phantoms.length === 0,
    acknowledged,
    lost,
    phantoms,
    indeterminateWrites: { happened, didNotHappen: writes.length - happened },
  };
}
