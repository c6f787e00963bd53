/**
 * What every lock shares: who the caller is (owner ids), optional statistics, the errors, and the
 * bounded spin/park primitives. Nothing here knows about buckets.
 */
import { threadId } from 'node:worker_threads';
import { ConfigError } from '../shared/validate.js';

/**
 * Owner ids are small positive integers stored in lock words (0 means "nobody"). By default a
 * thread's id is its worker_threads threadId + 1 (main thread: 1), which the spawning thread can
 * read from `worker.threadId` to name a worker in a diagnostic. Ids must fit in 28 bits.
 */
export const MAX_OWNER_ID = (1 << 28) - 1;
let ownerId = threadId + 1;

export function currentOwnerId(): number {
  return ownerId;
}

/** Override this thread's owner id (e.g. to use a torture worker's index). */
export function setOwnerId(id: number): void {
  if (!Number.isInteger(id) || id < 1 || id > MAX_OWNER_ID) {
    throw new ConfigError('owner id', `must be an integer in [1, ${MAX_OWNER_ID}], got ${String(id)}`);
  }
  ownerId = id;
}

/** Owner id of the thread that runs `worker` (for naming a lock holder in a report). */
export function ownerIdOfThread(workerThreadId: number): number {
  return workerThreadId + 1;
}

/**
 * Per-thread, per-lock statistics: plain fields on a JS object, never in shared memory, so
 * collecting them costs one null check and an increment, never an Atomics operation. Pass the same
 * object to several locks to aggregate.
 */
export class LockStats {
  acquisitions = 0;
  /** Acquisitions that did not succeed on the first attempt. */
  contended = 0;
  /** Spin iterations spent waiting (one per failed look at the lock word). */
  spins = 0;
  /** Times the thread parked in Atomics.wait. */
  parks = 0;
  /** Seqlock reads that had to start over because a writer intervened. */
  readRetries = 0;
  /** Seqlock reads that gave up on optimism and took the lock (read_seqbegin_or_lock). */
  lockedReads = 0;

  add(other: LockStats): this {
    this.acquisitions += other.acquisitions;
    this.contended += other.contended;
    this.spins += other.spins;
    this.parks += other.parks;
    this.readRetries += other.readRetries;
    this.lockedReads += other.lockedReads;
    return this;
  }

  toJSON(): Record<string, number> {
    const { acquisitions, contended, spins, parks, readRetries, lockedReads } = this;
    return { acquisitions, contended, spins, parks, readRetries, lockedReads };
  }
}

/** A lock could not be taken within the caller's timeout. Names who holds it. */
export class LockTimeoutError extends Error {
  readonly owner: number;
  readonly waitedMs: number;
  constructor(what: string, owner: number, waitedMs: number, holder?: string) {
    const by = holder ?? (owner > 0 ? `owner ${owner}` : 'no recorded owner');
    super(`${what}: not acquired within ${waitedMs} ms; held by ${by} (a holder that died keeps it held)`);
    this.name = 'LockTimeoutError';
    this.owner = owner;
    this.waitedMs = waitedMs;
  }
}

/** Unlock without holding, unlock of another's lock, recursive lock, nested seq writes. */
export class LockMisuseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LockMisuseError';
  }
}

type PauseFn = (n?: number) => void;
const atomicsPause = (Atomics as unknown as { pause?: PauseFn }).pause;
let sink = 0;

/**
 * A short CPU-friendly pause. Atomics.pause (a spin-loop hint) does not exist on Node 20; where it is
 * missing, a tiny loop with an observable side effect stands in so the optimiser cannot drop it.
 */
export const cpuRelax: (iterations: number) => void =
  typeof atomicsPause === 'function'
    ? (n) => { for (let i = 0; i < n; i++) atomicsPause.call(Atomics); }
    : (n) => { let x = sink; for (let i = 0; i < n; i++) x = (x * 31 + i) | 0; sink = x; };

/** Longest single Atomics.wait: a waiter re-checks its deadline at least this often. */
export const PARK_SLICE_MS = 50;

export function deadlineFrom(timeoutMs: number): number {
  return timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
}

/** Validates a timeout argument once, outside the hot path. */
export function checkTimeout(timeoutMs: number): void {
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
    throw new ConfigError('timeoutMs', `must be a number in [0, Infinity], got ${String(timeoutMs)}`);
  }
}

/**
 * Parks on word `index` while it still holds `expected`, for at most one slice (`sliceMs`) and never
 * past the deadline. Returns false when the deadline has passed (the caller throws its timeout error).
 */
export function parkUntil(i32: Int32Array, index: number, expected: number, deadline: number, sliceMs = PARK_SLICE_MS): boolean {
  const now = performance.now();
  if (now >= deadline) return false;
  Atomics.wait(i32, index, expected, Math.min(sliceMs, deadline - now));
  return true;
}

/** How a lock waits before parking. */
export interface SpinPolicy {
  /** Failed looks at the word before parking. */
  spinLimit: number;
  /** cpuRelax iterations after the first failed look; doubles up to backoffMax. */
  backoffStart: number;
  backoffMax: number;
}

/**
 * The waiting half of a lock's slow path, shared by every lock whose word has a waiter bit (the
 * owner-word locks and RwLock): the lock's own loop looks at the word and tries to take it; after
 * each failed look it calls `wait`, which spins with exponential backoff for the policy's first
 * looks, then sets the waiter bit and parks in finite slices. Once it has parked it never spins
 * again, and `parked` tells the loop to acquire with the waiter bit set (others may still sleep).
 * Constructing one counts the acquisition as contended.
 */
export class SpinThenPark {
  /** True once this waiter has parked: acquire with the waiter bit set. */
  parked = false;
  readonly deadline: number;
  private spun = 0;
  private backoff: number;
  private readonly policy: SpinPolicy;
  private readonly stats: LockStats | null;

  constructor(policy: SpinPolicy, stats: LockStats | null, timeoutMs: number) {
    checkTimeout(timeoutMs);
    this.policy = policy;
    this.stats = stats;
    this.deadline = deadlineFrom(timeoutMs);
    this.backoff = policy.backoffStart;
    if (stats !== null) stats.contended++;
  }

  /**
   * Call after a look that found word `index` unavailable, holding `v`. Returns true to look again,
   * false when the deadline has passed (the caller throws its LockTimeoutError).
   */
  wait(i32: Int32Array, index: number, v: number, waiterBit: number): boolean {
    const s = this.stats;
    if (this.spun < this.policy.spinLimit) {
      this.spun++;
      if (s !== null) s.spins++;
      cpuRelax(this.backoff);
      if (this.backoff < this.policy.backoffMax) this.backoff *= 2;
      return true;
    }
    // Announce the sleeper before sleeping; if the word changed meanwhile, look again first.
    if ((v & waiterBit) === 0 && Atomics.compareExchange(i32, index, v, v | waiterBit) !== v) return true;
    if (!parkUntil(i32, index, v | waiterBit, this.deadline)) return false;
    if (s !== null) s.parks++;
    this.parked = true;
    return true;
  }
}
