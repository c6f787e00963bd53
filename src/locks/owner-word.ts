/**
 * The one-word lock that SpinLock and Mutex are both built on. Keeping the owner inside the lock
 * word itself means the uncontended path is exactly two Atomics operations (a compareExchange to
 * take, a compareExchange to release) and still records who holds the lock, and unlock checks
 * ownership for free: the release CAS only succeeds for the holder.
 *
 * Word (one int32 at `index`):
 *
 *   0                      free
 *   owner << 1             held by `owner`, nobody parked
 *   owner << 1 | 1         held by `owner`, some thread may be parked in Atomics.wait on this word
 *
 * Drepper's "Futexes Are Tricky" mutex has states 0 / 1 / 2; this is the same machine with the owner
 * folded into states 1 and 2. A thread that has parked once acquires with the waiter bit set (the
 * analogue of Drepper's xchg(2)), since it cannot know whether others still sleep; an unlock that
 * finds the bit set stores 0 and wakes one sleeper. Every park is a finite slice, so even a wake-up
 * lost to a waiter that timed out costs latency, never a hang.
 */
import { checkSharedWords } from '../shared/validate.js';
import { LockMisuseError, LockStats, LockTimeoutError, SpinThenPark, type SpinPolicy, currentOwnerId } from './common.js';

export interface LockOptions {
  /** Per-thread statistics object to bump; omit for zero-cost. */
  stats?: LockStats;
  /** Name used in error messages. */
  name?: string;
}

export abstract class OwnerWordLock {
  static readonly WORDS = 1;
  readonly i32: Int32Array;
  readonly index: number;
  readonly name: string;
  protected readonly stats: LockStats | null;
  /** How a subclass waits before parking (see SpinThenPark in common.ts). */
  protected abstract readonly policy: SpinPolicy;

  constructor(i32: Int32Array, index: number, options: LockOptions = {}) {
    checkSharedWords(options.name ?? new.target.name, i32, index, 1);
    this.i32 = i32;
    this.index = index;
    this.stats = options.stats ?? null;
    this.name = options.name ?? `${new.target.name}@${index}`;
  }

  /** Resets the word to free. Call once, before any thread uses the lock (zeroed memory is free too). */
  static init(i32: Int32Array, index: number): void {
    checkSharedWords('lock', i32, index, 1);
    Atomics.store(i32, index, 0);
  }

  tryLock(): boolean {
    const ok = Atomics.compareExchange(this.i32, this.index, 0, currentOwnerId() << 1) === 0;
    if (ok && this.stats !== null) this.stats.acquisitions++;
    return ok;
  }

  /** Takes the lock, spinning then parking; throws LockTimeoutError naming the holder after timeoutMs. */
  lock(timeoutMs = Infinity): void {
    if (!this.tryLock()) this.lockSlow(timeoutMs);
  }

  private lockSlow(timeoutMs: number): void {
    const me = currentOwnerId() << 1;
    const waiter = new SpinThenPark(this.policy, this.stats, timeoutMs, this.name);
    for (;;) {
      const v = Atomics.load(this.i32, this.index);
      if (v === 0) {
        if (Atomics.compareExchange(this.i32, this.index, 0, waiter.parked ? me | 1 : me) === 0) {
          if (this.stats !== null) this.stats.acquisitions++;
          return;
        }
        continue;
      }
      if ((v >>> 1) === (me >>> 1)) {
        throw new LockMisuseError(`${this.name}: lock() by owner ${me >>> 1}, which already holds it (not recursive)`);
      }
      if (!waiter.wait(this.i32, this.index, v, 1)) throw new LockTimeoutError(this.name, v >>> 1, timeoutMs);
    }
  }

  unlock(): void {
    const me = currentOwnerId() << 1;
    const c = Atomics.compareExchange(this.i32, this.index, me, 0);
    if (c === me) return;
    if (c === (me | 1)) {
      Atomics.store(this.i32, this.index, 0);
      Atomics.notify(this.i32, this.index, 1);
      return;
    }
    if (c === 0) throw new LockMisuseError(`${this.name}: unlock() of an unlocked lock (by owner ${me >>> 1})`);
    throw new LockMisuseError(`${this.name}: unlock() by owner ${me >>> 1}, but it is held by owner ${c >>> 1}`);
  }

  /** Current holder's owner id, 0 when free. A diagnostic snapshot: it may change at once. */
  owner(): number {
    return Atomics.load(this.i32, this.index) >>> 1;
  }

  isLocked(): boolean {
    return Atomics.load(this.i32, this.index) !== 0;
  }

  /**
   * Recovery after a holder died: frees the lock only if `deadOwner` still holds it, and wakes every
   * waiter. Returns whether it did. Use it only for an owner known to be gone (its worker exited);
   * whatever that owner was protecting may be half-updated and needs checking (fsck).
   */
  forceUnlock(deadOwner: number): boolean {
    const v = Atomics.load(this.i32, this.index);
    if (v === 0 || (v >>> 1) !== deadOwner) return false;
    if (Atomics.compareExchange(this.i32, this.index, v, 0) !== v) return false;
    Atomics.notify(this.i32, this.index);
    return true;
  }
}
