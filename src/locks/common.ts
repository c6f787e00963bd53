/**
 * What every lock shares: who the caller is (owner ids), optional statistics, the errors, and the
 * bounded spin/park primitives. Nothing here knows about buckets.
 *
 * Environment-neutral: nothing under src/locks imports a `node:*` module, so the same code runs in a
 * browser's Web Workers. What differs by runtime is looked up at run time: the thread id (Node's
 * worker_threads, reached through `process.getBuiltinModule`, Node 20.16+), and whether this thread
 * may block in `Atomics.wait` (a browser's main thread may not).
 */
import { ConfigError } from '../shared/validate.js';

/**
 * Owner ids are small positive integers stored in lock words (0 means "nobody"). They must fit in
 * 27 bits: the owner-word and RwLock words keep their robust-lock flags (owner died, not
 * recoverable, reclaiming readers) in the bits above.
 */
export const MAX_OWNER_ID = (1 << 27) - 1;

/** Lowest id the browser fallback draws, so random ids stay clear of small ids a pool sets itself. */
const RANDOM_ID_FLOOR = 1 << 16;

interface NodeProcessLike {
  getBuiltinModule?: (id: string) => unknown;
}

/**
 * This runtime's thread id: Node's worker_threads threadId (main thread 0), or -1 where there is
 * none (a browser, or Node older than 20.16, which lacks process.getBuiltinModule). Looked up
 * without a static import so that a bundler building for the web sees no `node:` import.
 */
function lookUpThreadId(): number {
  const proc = (globalThis as { process?: NodeProcessLike }).process;
  const get = proc?.getBuiltinModule;
  if (typeof get !== 'function') return -1;
  const wt = get.call(proc, 'node:worker_threads') as { threadId?: unknown } | undefined;
  return typeof wt?.threadId === 'number' ? wt.threadId : -1;
}

const runtimeThreadId = lookUpThreadId();

/**
 * The default owner id. Under Node it is threadId + 1 (main thread: 1), which the spawning thread
 * can compute from `worker.threadId` to name a worker in a diagnostic (ownerIdOfThread). Elsewhere
 * there is no thread id to derive it from, so it is a random id in [2^16, MAX_OWNER_ID] from
 * crypto.getRandomValues: two threads then collide with probability about n² / 2^28 for n threads
 * (about 1 in 4 million for 8), and a collision silently merges two owners (a recursive-lock check
 * or an unlock by the "wrong" thread would pass). Pools that must rule that out give each thread
 * its own id with setOwnerId before it takes any lock.
 */
function defaultOwnerId(): number {
  if (runtimeThreadId >= 0) return runtimeThreadId + 1;
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint32Array) => Uint32Array } }).crypto;
  const r = new Uint32Array(1);
  if (typeof c?.getRandomValues === 'function') c.getRandomValues(r);
  else r[0] = Math.floor(Math.random() * 2 ** 32);
  return RANDOM_ID_FLOOR + (r[0]! % (MAX_OWNER_ID - RANDOM_ID_FLOOR + 1));
}

let ownerId = defaultOwnerId();

/** This thread's owner id, which the locks it takes record in their words (Node: threadId + 1 unless set). */
export function currentOwnerId(): number {
  return ownerId;
}

/** This runtime's thread id (Node's worker_threads threadId), or -1 where there is none. */
export function currentThreadId(): number {
  return runtimeThreadId;
}

/**
 * Override this thread's owner id (e.g. to use a torture worker's index). Set it before the thread
 * takes a lock or joins a ThreadRegistry: both record the id.
 */
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

/** How an acquisition went: `'owner-died'` is the EOWNERDEAD analogue (see ThreadRegistry). */
export type LockResult = 'acquired' | 'owner-died';

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
  /** Acquisitions that took the lock over from a dead owner (answered 'owner-died'). */
  takeovers = 0;

  /** Adds another object's counts into this one (to sum several threads' statistics); returns this. */
  add(other: LockStats): this {
    this.acquisitions += other.acquisitions;
    this.contended += other.contended;
    this.spins += other.spins;
    this.parks += other.parks;
    this.readRetries += other.readRetries;
    this.lockedReads += other.lockedReads;
    this.takeovers += other.takeovers;
    return this;
  }

  /** The counts as a plain object (what JSON.stringify writes). */
  toJSON(): Record<string, number> {
    const { acquisitions, contended, spins, parks, readRetries, lockedReads, takeovers } = this;
    return { acquisitions, contended, spins, parks, readRetries, lockedReads, takeovers };
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

/**
 * The ENOTRECOVERABLE analogue: a lock was taken over from a dead owner ('owner-died') and then
 * released without markConsistent(), so what it protects was never declared repaired. Every later
 * acquisition, and every thread still waiting, gets this error until the lock is reset with init().
 */
export class LockNotRecoverableError extends Error {
  readonly lock: string;
  constructor(lock: string) {
    super(`${lock}: not recoverable: it was taken over from a dead owner and released without markConsistent(), ` +
      'so what it protects cannot be trusted; reset it with init() once the data is rebuilt');
    this.name = 'LockNotRecoverableError';
    this.lock = lock;
  }
}

/**
 * A blocking acquisition would have had to park in Atomics.wait on a thread that may not block (a
 * browser's main thread). Raised instead of parking; the uncontended paths never park and work there.
 */
export class LockWouldBlockError extends Error {
  readonly lock: string;
  constructor(lock: string) {
    super(`${lock}: would have to wait in Atomics.wait, which this thread may not do (a browser's main thread ` +
      'must never block); take the lock from a Web Worker, use a try* call, or await its async form ' +
      '(lockAsync, seqWriteLockAsync, seqReadAsync, readLockAsync, writeLockAsync)');
    this.name = 'LockWouldBlockError';
    this.lock = lock;
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

/**
 * Park slice of a waiter whose lock has a ThreadRegistry: it looks at the registry after every
 * slice, so a death reported while it sleeps is noticed within one slice. 25 ms keeps the promise
 * "survivors acquire within 100 ms of the report" with room for a loaded machine; the price is
 * 40 wake-ups a second for a thread that waits that long anyway.
 */
export const ROBUST_PARK_SLICE_MS = 25;

let canPark: boolean | undefined;

/**
 * Whether this thread may block in Atomics.wait. Probed once, on the first slow path that would park
 * (never on a fast path): a wait on a private word with a value that does not match returns
 * "not-equal" at once where blocking is allowed, and throws a TypeError where it is not (the
 * specification checks that the agent may block before it compares).
 *
 * A thread for which this is false throws LockWouldBlockError where it would park, and waits with
 * the async forms of async.ts (Atomics.waitAsync) instead.
 */
export function threadCanPark(): boolean {
  if (canPark === undefined) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
      canPark = true;
    } catch {
      canPark = false;
    }
  }
  return canPark;
}

/** Forget the probe's answer (tests that simulate a thread that may not block). */
export function resetParkProbe(): void {
  canPark = undefined;
}

/** Throws LockWouldBlockError naming `what` if this thread may not park. */
export function checkCanPark(what: string): void {
  if (!threadCanPark()) throw new LockWouldBlockError(what);
}

/** The performance.now() instant a wait of `timeoutMs` from now ends (Infinity stays Infinity). */
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
 * The caller has checked checkCanPark.
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
 *
 * `parking` turns true when the spinning is over: from then on every look is followed by a park, so
 * a lock with a ThreadRegistry consults the registry exactly when `parking` is true — before the
 * first park and after every slice — and never while spinning or on the fast path.
 */
export class SpinThenPark {
  /** True once this waiter has parked: acquire with the waiter bit set. */
  parked = false;
  readonly deadline: number;
  private spun = 0;
  private backoff: number;
  private readonly policy: SpinPolicy;
  private readonly stats: LockStats | null;
  private readonly sliceMs: number;
  private readonly what: string;

  constructor(policy: SpinPolicy, stats: LockStats | null, timeoutMs: number, what: string, sliceMs = PARK_SLICE_MS) {
    checkTimeout(timeoutMs);
    this.policy = policy;
    this.stats = stats;
    this.deadline = deadlineFrom(timeoutMs);
    this.backoff = policy.backoffStart;
    this.sliceMs = sliceMs;
    this.what = what;
    if (stats !== null) stats.contended++;
  }

  /** True once spinning is over: the next failed look parks. */
  get parking(): boolean {
    return this.spun >= this.policy.spinLimit;
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
    if (performance.now() >= this.deadline) return false;
    checkCanPark(this.what);
    // Announce the sleeper before sleeping; if the word changed meanwhile, look again first.
    if ((v & waiterBit) === 0 && Atomics.compareExchange(i32, index, v, v | waiterBit) !== v) return true;
    if (!parkUntil(i32, index, v | waiterBit, this.deadline, this.sliceMs)) return false;
    if (s !== null) s.parks++;
    this.parked = true;
    return true;
  }
}
