/**
 * Shared memory and lock subjects of the dead-holder runs (lock-torture-robust.ts): a holder worker
 * takes a lock and parks inside its critical section, the runner terminates it and reports the
 * death, and a survivor worker that was already waiting must take the lock over.
 *
 * Region kind "lock-torture-robust", version 1; every section starts on its own 64-byte line:
 *
 *   control   i32 × 16
 *     [0]      go: the runner sets 1 once the holder holds the lock; survivors wait for it
 *     [1]      release: a holder parks on this word (bounded); 1 lets a holder that was not killed go
 *     [2..15]  reserved, zero
 *   registry  i32 × ThreadRegistry.words(MEMBERS)   the ThreadRegistry every worker joins
 *   locks     i32 × LOCK_AREA_WORDS   the lock under test at word 0 (SeqLock: words 0, 1); the
 *              RwLockArray subject has ARRAY_LOCKS locks at stride 16 (one line each) and uses lock
 *              ARRAY_K
 *   record    i32 × RECORD_WORDS   what the lock protects: the holder writes the first half of a new
 *              version before it parks, so a taken-over record is visibly half-written
 *   phases    i32 × 16 × MAX_WORKERS  word 16·w is worker w's phase (PHASE_NAMES), one line each, for
 *              the watchdog's report
 */
import type { RegionHandle, RegionSpec } from '../shared/region.js';
import {
  type LockResult, Mutex, RwLock, RwLockArray, SeqLock, SpinLock, ThreadRegistry,
} from '../locks/index.js';

export const ROBUST_KIND = 'lock-torture-robust';
export const ROBUST_VERSION = 1;
export const MEMBERS = 8;
export const MAX_WORKERS = 4;
export const ARRAY_LOCKS = 8;
export const ARRAY_STRIDE = 16;
export const ARRAY_K = 5;
/** The RwLockArray subject's domain: not 0, so that the domain really travels through the entries. */
export const ARRAY_DOMAIN = 3;
export const LOCK_AREA_WORDS = (ARRAY_LOCKS - 1) * ARRAY_STRIDE + 1;
export const RECORD_WORDS = 8;

export const GO = 0;
export const RELEASE = 1;

export const Phase = {
  spawned: 0,
  joined: 1,
  acquiring: 2,
  holding: 3,
  waiting: 4,
  acquired: 5,
  done: 6,
  failed: 7,
  released: 8,
} as const;
export const PHASE_NAMES = [
  'spawned', 'joined the registry', 'acquiring', 'holding the lock (parked inside)', 'waiting for the lock',
  'acquired', 'done', 'failed', 'released (was not killed)',
];

/** The lock kinds of the dead-holder runs: every lock, and both sides of the RwLock. */
export const ROBUST_SUBJECTS = ['spin', 'mutex', 'rwlock-write', 'rwlock-read', 'rwlock-array', 'seqlock'] as const;
export type RobustSubject = (typeof ROBUST_SUBJECTS)[number];
/** How a worker takes the subject: exclusively, shared, or (seqlock) as an optimistic reader. */
export type Side = 'write' | 'read';

export function robustSpec(): RegionSpec {
  return {
    kind: ROBUST_KIND,
    version: ROBUST_VERSION,
    sections: [
      { name: 'control', type: 'i32', length: 16 },
      { name: 'registry', type: 'i32', length: ThreadRegistry.words(MEMBERS) },
      { name: 'locks', type: 'i32', length: LOCK_AREA_WORDS },
      { name: 'record', type: 'i32', length: RECORD_WORDS },
      { name: 'phases', type: 'i32', length: 16 * MAX_WORKERS },
    ],
  };
}

/** The side the holder takes: the read side for the read-held subjects, else write. */
export function holderSide(subject: RobustSubject): Side {
  return subject === 'rwlock-read' || subject === 'rwlock-array' ? 'read' : 'write';
}

/** One lock under test, both sides, behind one interface. */
export interface Subject {
  readonly name: string;
  acquire(side: Side, timeoutMs: number): LockResult;
  release(side: Side): void;
  markConsistent(): void;
  hasWaiters(): boolean;
  isNotRecoverable(): boolean;
  heldByDead(): boolean;
}

/** Builds the subject over the `locks` section; robust (with `registry`) or not. */
export function makeSubject(subject: RobustSubject, locks: Int32Array, registry: ThreadRegistry | null): Subject {
  const options = registry !== null ? { registry } : {};
  switch (subject) {
    case 'spin':
    case 'mutex': {
      const l = subject === 'spin' ? new SpinLock(locks, 0, options) : new Mutex(locks, 0, options);
      return {
        name: l.name,
        acquire: (_, t) => l.lock(t),
        release: () => l.unlock(),
        markConsistent: () => l.markConsistent(),
        hasWaiters: () => l.hasWaiters(),
        isNotRecoverable: () => l.isNotRecoverable(),
        heldByDead: () => l.heldByDead(),
      };
    }
    case 'rwlock-write':
    case 'rwlock-read': {
      const l = new RwLock(locks, 0, options);
      return {
        name: l.name,
        acquire: (side, t) => (side === 'write' ? l.writeLock(t) : l.readLock(t)),
        release: (side) => (side === 'write' ? l.writeUnlock() : l.readUnlock()),
        markConsistent: () => l.markConsistent(),
        hasWaiters: () => l.hasWaiters(),
        isNotRecoverable: () => l.isNotRecoverable(),
        heldByDead: () => l.heldByDead(),
      };
    }
    case 'rwlock-array': {
      const a = new RwLockArray(locks, 0, ARRAY_STRIDE, ARRAY_LOCKS, { ...options, name: 'records', domain: ARRAY_DOMAIN });
      const k = ARRAY_K;
      return {
        name: `records[${k}]`,
        acquire: (side, t) => (side === 'write' ? a.writeLock(k, t) : a.readLock(k, t)),
        release: (side) => (side === 'write' ? a.writeUnlock(k) : a.readUnlock(k)),
        markConsistent: () => a.markConsistent(k),
        hasWaiters: () => a.hasWaiters(k),
        isNotRecoverable: () => a.isNotRecoverable(k),
        heldByDead: () => a.heldByDead(k),
      };
    }
    case 'seqlock': {
      const l = new SeqLock(locks, 0, options);
      return {
        name: l.name,
        acquire: (_, t) => l.writeLock(t),
        release: () => l.writeUnlock(),
        markConsistent: () => l.markConsistent(),
        hasWaiters: () => l.writer.hasWaiters(),
        isNotRecoverable: () => l.writer.isNotRecoverable(),
        heldByDead: () => l.writer.heldByDead(),
      };
    }
  }
}

/** What a worker of a dead-holder run gets as workerData. */
export interface RobustWorkerData {
  handle: RegionHandle;
  worker: number;
  subject: RobustSubject;
  /** Build the lock with the registry (false: the negative control). */
  robust: boolean;
  role: RobustRole;
}

export type RobustRole =
  | { kind: 'hold'; parkMs: number }
  | { kind: 'survive'; side: Side; timeoutMs: number; mode: 'consistent' | 'abandon'; goTimeoutMs: number }
  | { kind: 'seq-read'; timeoutMs: number; goTimeoutMs: number };

/** What a survivor (or seqlock reader) posts back. */
export interface SurvivorReport {
  /** The first acquisition's answer, or null when it threw. */
  result: LockResult | null;
  /** Name and message of what the first acquisition threw. */
  errorName: string | null;
  message: string | null;
  startedAt: number;
  /** epochMs when the first acquisition returned or threw. */
  endedAt: number;
  /** What the follow-up acquisition did: 'acquired', or the name of the error it threw. */
  after: string | null;
  /** Seqlock writer survivors: the record was whole when the survivor unlocked it. */
  recordWhole: boolean | null;
}

/** Wall-clock milliseconds comparable across threads. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The record's version-v content: word k is v + k, so a half-written record is visibly mixed. */
export function recordWord(v: number, k: number): number {
  return (v * 1000 + k) | 0;
}
