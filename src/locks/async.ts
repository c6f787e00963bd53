/**
 * Asynchronous acquisition, for threads that may not block: a browser's main thread (and any thread
 * that would rather await than park). The rule, for every lock:
 *
 *   - What never waits works everywhere, the main thread included: an uncontended lock or unlock,
 *     every try* call, a seqlock read that finds the sequence even, and the short bounded spin a
 *     contended call does before it would park.
 *   - A blocking call (lock, writeLock, readLock, readBegin, read) that would have to park in
 *     Atomics.wait on such a thread throws LockWouldBlockError naming the lock, instead of parking
 *     (common.ts's threadCanPark decides, probing once). It never spins on instead: a main thread
 *     that spins until a worker lets go freezes the page for as long.
 *   - The functions here are the waiting forms for such a thread. Each makes bounded, non-parking
 *     attempts with the lock's own synchronous call (timeout 0: it spins its usual few looks, takes
 *     a dead owner's lock over through the registry as the blocking call would, and gives up without
 *     parking), and between attempts awaits `Atomics.waitAsync` on the lock's word — the event loop
 *     keeps running meanwhile. Where waitAsync is missing (older engines) a timer stands in.
 *
 * An async waiter never sets a lock's waiter bit: it cannot promise to be there to take the lock
 * when woken (its continuation runs when the event loop gets to it). So a release wakes it only when
 * a blocked worker's waiter bit made the release notify; otherwise it looks again after its nap,
 * which starts at NAP_START_MS and doubles to NAP_MAX_MS. If a notify meant for a parked worker woke
 * it instead, it passes the wake-up on (one more notify), so a worker never sleeps a full park slice
 * because the main thread was also waiting. The price of all this is fairness: under steady
 * contention from workers the main thread takes the lock on a free moment, not in turn, and its
 * timeout is what bounds its wait.
 */
import {
  type LockResult, LockTimeoutError, checkTimeout, deadlineFrom,
} from './common.js';
import type { OwnerWordLock } from './owner-word.js';
import type { SeqLock, SeqReadOptions } from './seqlock.js';
import type { RwLock, RwLockArray } from './rwlock.js';

/** First nap between attempts, in ms; it doubles after each failed attempt. */
export const NAP_START_MS = 0.25;
/** Longest nap between attempts, in ms: the latency an unnotified release can cost. */
export const NAP_MAX_MS = 4;

/** Options of the async acquisitions. */
export interface AsyncLockOptions {
  /** Give up with LockTimeoutError (naming the holder) after this many ms. Default: Infinity. */
  timeoutMs?: number;
  /** Abort the wait: the promise rejects with the signal's reason. */
  signal?: { readonly aborted: boolean; readonly reason?: unknown };
}

type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
type WaitAsyncFn = (i32: Int32Array, index: number, value: number, timeoutMs?: number) => WaitAsyncResult;
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsyncFn }).waitAsync;

/** Whether this engine has Atomics.waitAsync (Chromium, Node ≥ 16; without it a timer naps). */
export function hasWaitAsync(): boolean {
  return typeof waitAsync === 'function';
}

/**
 * Waits until word `index` no longer holds `value`, a notify, or `ms` passes; never blocks. A wake-up
 * by notify is passed on: it may have been meant for a worker parked on the same word.
 */
async function nap(i32: Int32Array, index: number, value: number, ms: number): Promise<void> {
  if (waitAsync === undefined) {
    await new Promise((r) => setTimeout(r, Math.max(1, ms)));
    return;
  }
  const r = waitAsync.call(Atomics, i32, index, value, ms);
  if (!r.async) return;
  if ((await r.value) === 'ok') Atomics.notify(i32, index, 1);
}

/**
 * The loop every async form shares: `attempt()` is the lock's own blocking call with timeout 0 (it
 * spins a little and may take over a dead owner, but never parks); when it times out, nap on the
 * word and try again, until the caller's deadline.
 */
async function acquire<R>(what: string, word: () => [Int32Array, number], attempt: () => R, options: AsyncLockOptions): Promise<R> {
  const timeoutMs = options.timeoutMs ?? Infinity;
  checkTimeout(timeoutMs);
  const deadline = deadlineFrom(timeoutMs);
  let ms = NAP_START_MS;
  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error(`${what}: aborted`);
    let timedOut: LockTimeoutError;
    try {
      return attempt();
    } catch (e) {
      if (!(e instanceof LockTimeoutError)) throw e;
      timedOut = e;
    }
    const left = deadline - performance.now();
    if (left <= 0) throw new LockTimeoutError(what, timedOut.owner, timeoutMs);
    const [i32, index] = word();
    await nap(i32, index, Atomics.load(i32, index), Math.min(ms, left));
    if (ms < NAP_MAX_MS) ms = Math.min(NAP_MAX_MS, ms * 2);
  }
}

/** SpinLock / Mutex: lock() without blocking. Resolves 'acquired', or 'owner-died' with a registry. */
export function lockAsync(lock: OwnerWordLock, options: AsyncLockOptions = {}): Promise<LockResult> {
  if (lock.tryLock()) return Promise.resolve('acquired');
  return acquire(lock.name, () => [lock.i32, lock.index], () => lock.lock(0), options);
}

/** SeqLock: writeLock() without blocking (then write, and writeUnlock()). */
export function seqWriteLockAsync(lock: SeqLock, options: AsyncLockOptions = {}): Promise<LockResult> {
  return acquire(lock.writer.name, () => [lock.writer.i32, lock.writer.index], () => lock.writeLock(0), options);
}

/**
 * SeqLock: read(reader) without blocking. The optimistic passes never wait; only the fallback under
 * the writer lock can, and that is what is retried asynchronously. Like read(), it throws
 * SeqWriteAbandonedError for a write that will never end.
 */
export function seqReadAsync<T>(lock: SeqLock, reader: () => T, options: AsyncLockOptions & Pick<SeqReadOptions, 'optimisticTries'> = {}): Promise<T> {
  const tries = options.optimisticTries === undefined ? {} : { optimisticTries: options.optimisticTries };
  return acquire(`${lock.name} read`, () => [lock.writer.i32, lock.writer.index], () => lock.read(reader, { ...tries, timeoutMs: 0 }), options);
}

function rwWord(lock: RwLock | RwLockArray, k: number): [Int32Array, number] {
  const a = 'array' in lock ? lock.array : lock;
  return [a.i32, a.at(k)];
}

/** RwLock (or lock k of an RwLockArray): readLock() without blocking. */
export function readLockAsync(lock: RwLock | RwLockArray, options: AsyncLockOptions & { k?: number } = {}): Promise<LockResult> {
  const k = options.k ?? 0;
  const attempt = 'array' in lock ? () => lock.readLock(0) : () => lock.readLock(k, 0);
  return acquire(lock.name, () => rwWord(lock, k), attempt, options);
}

/** RwLock (or lock k of an RwLockArray): writeLock() without blocking. */
export function writeLockAsync(lock: RwLock | RwLockArray, options: AsyncLockOptions & { k?: number } = {}): Promise<LockResult> {
  const k = options.k ?? 0;
  const attempt = 'array' in lock ? () => lock.writeLock(0) : () => lock.writeLock(k, 0);
  return acquire(lock.name, () => rwWord(lock, k), attempt, options);
}
