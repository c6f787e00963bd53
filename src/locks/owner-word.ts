/**
 * The one-word lock that SpinLock and Mutex are both built on. Keeping the owner inside the lock
 * word itself means the uncontended path is exactly two Atomics operations (a compareExchange to
 * take, a compareExchange to release) and still records who holds the lock, and unlock checks
 * ownership for free: the release CAS only succeeds for the holder.
 *
 * Word (one int32 at `index`):
 *
 *   bit 0        WAITERS: some thread may be parked in Atomics.wait on this word
 *   bits 1..27   owner id of the holder (0: free)
 *   bit 28       INCONSISTENT: the holder took the lock over from a dead owner ('owner-died') and
 *                has not yet called markConsistent()
 *   bit 29       NOT_RECOVERABLE: the whole word is exactly this bit; see below
 *   bits 30, 31  zero
 *
 *   0                           free
 *   owner << 1                  held by `owner`, nobody parked
 *   owner << 1 | 1              held by `owner`, some thread may be parked
 *   … | INCONSISTENT            held, taken over from a dead owner, not yet declared consistent
 *   NOT_RECOVERABLE             unusable until init(): a takeover was released unrepaired
 *
 * Drepper's "Futexes Are Tricky" mutex has states 0 / 1 / 2; this is the same machine with the owner
 * folded into states 1 and 2. A thread that has parked once acquires with the waiter bit set (the
 * analogue of Drepper's xchg(2)), since it cannot know whether others still sleep; an unlock that
 * finds the bit set stores 0 and wakes one sleeper. Every park is a finite slice, so even a wake-up
 * lost to a waiter that timed out costs latency, never a hang.
 *
 * Robustness (option `registry`, the POSIX robust-mutex model): a waiter that has spun without luck
 * asks the ThreadRegistry, before each park and after each park slice, whether the owner in the word
 * is dead. If so it takes the word over with one CAS — exactly one waiter wins, since the dead owner
 * can no longer change the word — marks it INCONSISTENT and returns 'owner-died' (EOWNERDEAD): what
 * the lock protects may be half-updated. The new holder repairs it and calls markConsistent()
 * (pthread_mutex_consistent); unlocking without doing so stores NOT_RECOVERABLE and wakes everyone,
 * and every acquisition from then on throws LockNotRecoverableError (ENOTRECOVERABLE). The fast
 * paths do not change: a flag bit makes the holder's release CAS miss, and the flagged cases are
 * handled on the slow path. tryLock never takes over (it would need the registry scan), so on a lock
 * held by a dead owner it returns false.
 *
 * Without a registry a dead holder is only diagnosed: the timeout names it, and forceUnlock frees it.
 */
import { ConfigError, checkSharedWords } from '../shared/validate.js';
import {
  LockMisuseError, LockNotRecoverableError, type LockResult, LockStats, LockTimeoutError, MAX_OWNER_ID,
  PARK_SLICE_MS, ROBUST_PARK_SLICE_MS, SpinThenPark, type SpinPolicy, currentOwnerId,
} from './common.js';
import { ThreadRegistry } from './thread-registry.js';

const WAITERS = 1;
const INCONSISTENT = 1 << 28;
const NOT_RECOVERABLE = 1 << 29;

/** Options of SpinLock and Mutex (the owner-word locks). */
export interface LockOptions {
  /** Per-thread statistics object to bump; omit for zero-cost. */
  stats?: LockStats;
  /** Name used in error messages. */
  name?: string;
  /** Makes the lock robust: a holder the registry reports dead is taken over (see the header). */
  registry?: ThreadRegistry;
}

/** @internal Checks a lock's `registry` option. */
export function checkRegistryOption(name: string, registry: unknown): ThreadRegistry | null {
  if (registry === undefined) return null;
  if (!(registry instanceof ThreadRegistry)) throw new ConfigError(`${name} registry`, 'must be a ThreadRegistry');
  return registry;
}

function ownerOf(v: number): number {
  return (v >>> 1) & MAX_OWNER_ID;
}

/** @internal Owner id in an owner word `v` read by the caller (SeqLock reads its writer word once). */
export function ownerWordOwner(v: number): number {
  return ownerOf(v);
}

/** @internal Whether owner word `v` is taken over and not yet consistent. */
export function ownerWordInconsistent(v: number): boolean {
  return v !== NOT_RECOVERABLE && (v & INCONSISTENT) !== 0;
}

/** @internal Whether owner word `v` is the not-recoverable state. */
export function ownerWordNotRecoverable(v: number): boolean {
  return v === NOT_RECOVERABLE;
}

/**
 * The one-word lock SpinLock and Mutex share: the holder's owner id lives in the lock word, so an
 * uncontended lock and unlock are one compareExchange each and unlock checks ownership; subclasses
 * differ only in how long they spin before parking. Robust with a ThreadRegistry (src/locks/owner-word.ts
 * explains the word and the takeover).
 */
export abstract class OwnerWordLock {
  static readonly WORDS = 1;
  readonly i32: Int32Array;
  readonly index: number;
  readonly name: string;
  protected readonly stats: LockStats | null;
  protected readonly registry: ThreadRegistry | null;
  /** How a subclass waits before parking (see SpinThenPark in common.ts). */
  protected abstract readonly policy: SpinPolicy;

  constructor(i32: Int32Array, index: number, options: LockOptions = {}) {
    checkSharedWords(options.name ?? new.target.name, i32, index, 1);
    this.i32 = i32;
    this.index = index;
    this.stats = options.stats ?? null;
    this.name = options.name ?? `${new.target.name}@${index}`;
    this.registry = checkRegistryOption(this.name, options.registry);
  }

  /**
   * Resets the word to free. Call once, before any thread uses the lock (zeroed memory is free too),
   * or to make a not-recoverable lock usable again once what it protects has been rebuilt.
   */
  static init(i32: Int32Array, index: number): void {
    checkSharedWords('lock', i32, index, 1);
    Atomics.store(i32, index, 0);
  }

  /**
   * Takes the lock if it is free: one compareExchange. Never takes over a dead owner's lock (false).
   * Throws LockNotRecoverableError on a not-recoverable lock.
   */
  tryLock(): boolean {
    const v = Atomics.compareExchange(this.i32, this.index, 0, currentOwnerId() << 1);
    if (v === 0) {
      if (this.stats !== null) this.stats.acquisitions++;
      return true;
    }
    if (v === NOT_RECOVERABLE) throw new LockNotRecoverableError(this.name);
    return false;
  }

  /**
   * Takes the lock, spinning then parking; throws LockTimeoutError naming the holder after timeoutMs.
   * With a registry, returns 'owner-died' when it took the lock over from a dead holder: repair what
   * it protects, then markConsistent() before unlock().
   */
  lock(timeoutMs = Infinity): LockResult {
    if (this.tryLock()) return 'acquired';
    return this.acquire(timeoutMs, true) as LockResult;
  }

  /**
   * @internal The slow path. With `takeOver` false a holder found dead is not taken over and the
   * call returns 'dead-owner' instead (a seqlock reader must not inherit a writer's half-done write).
   */
  acquire(timeoutMs: number, takeOver: boolean): LockResult | 'dead-owner' {
    const me = currentOwnerId() << 1;
    const reg = this.registry;
    const waiter = new SpinThenPark(this.policy, this.stats, timeoutMs, this.name, reg !== null ? ROBUST_PARK_SLICE_MS : PARK_SLICE_MS);
    for (;;) {
      const v = Atomics.load(this.i32, this.index);
      if (v === 0) {
        if (Atomics.compareExchange(this.i32, this.index, 0, waiter.parked ? me | WAITERS : me) === 0) {
          if (this.stats !== null) this.stats.acquisitions++;
          return 'acquired';
        }
        continue;
      }
      if (v === NOT_RECOVERABLE) throw new LockNotRecoverableError(this.name);
      const owner = ownerOf(v);
      if (owner === me >>> 1) {
        throw new LockMisuseError(`${this.name}: lock() by owner ${me >>> 1}, which already holds it (not recursive)`);
      }
      if (reg !== null && waiter.parking && reg.isOwnerDead(owner)) {
        if (!takeOver) return 'dead-owner';
        // Keep the waiter bit (others may sleep) and add it if this thread has slept.
        const next = me | INCONSISTENT | (v & WAITERS) | (waiter.parked ? WAITERS : 0);
        if (Atomics.compareExchange(this.i32, this.index, v, next) === v) {
          if (this.stats !== null) {
            this.stats.acquisitions++;
            this.stats.takeovers++;
          }
          return 'owner-died';
        }
        continue;
      }
      if (!waiter.wait(this.i32, this.index, v, WAITERS)) throw new LockTimeoutError(this.name, owner, timeoutMs);
    }
  }

  /**
   * Releases the lock, waking one parked waiter if the waiter bit is set. Throws LockMisuseError
   * unless the caller holds it; releasing a lock taken 'owner-died' without markConsistent() first
   * makes it not recoverable.
   */
  unlock(): void {
    const me = currentOwnerId() << 1;
    const c = Atomics.compareExchange(this.i32, this.index, me, 0);
    if (c === me) return;
    if (c === (me | WAITERS)) {
      Atomics.store(this.i32, this.index, 0);
      Atomics.notify(this.i32, this.index, 1);
      return;
    }
    if ((c & ~WAITERS) === (me | INCONSISTENT)) {
      // Released unrepaired: nobody may trust what it protects. Only the holder writes the word
      // (others only add the waiter bit), and every waiter must wake to throw.
      Atomics.store(this.i32, this.index, NOT_RECOVERABLE);
      Atomics.notify(this.i32, this.index);
      return;
    }
    if (c === 0 || c === NOT_RECOVERABLE) {
      throw new LockMisuseError(`${this.name}: unlock() of an unlocked lock (by owner ${me >>> 1})`);
    }
    throw new LockMisuseError(`${this.name}: unlock() by owner ${me >>> 1}, but it is held by owner ${ownerOf(c)}`);
  }

  /**
   * The pthread_mutex_consistent analogue: the holder of a lock acquired 'owner-died' declares what
   * it protects repaired, so that unlock() releases it normally.
   */
  markConsistent(): void {
    const me = currentOwnerId() << 1;
    for (;;) {
      const v = Atomics.load(this.i32, this.index);
      if ((v & ~WAITERS) !== (me | INCONSISTENT)) {
        throw new LockMisuseError(ownerOf(v) === me >>> 1 && v !== NOT_RECOVERABLE
          ? `${this.name}: markConsistent() by owner ${me >>> 1}, but the lock is not inconsistent (it was not taken over from a dead owner)`
          : `${this.name}: markConsistent() by owner ${me >>> 1}, which does not hold it`);
      }
      if (Atomics.compareExchange(this.i32, this.index, v, v & ~INCONSISTENT) === v) return;
    }
  }

  /** Current holder's owner id, 0 when free (or not recoverable). A diagnostic snapshot. */
  owner(): number {
    return ownerOf(Atomics.load(this.i32, this.index));
  }

  /** Held by anyone now. Diagnostic snapshot. */
  isLocked(): boolean {
    return this.owner() !== 0;
  }

  /** Some thread may be parked on the word (its waiter bit). Diagnostic snapshot. */
  hasWaiters(): boolean {
    const v = Atomics.load(this.i32, this.index);
    return v !== NOT_RECOVERABLE && (v & WAITERS) !== 0;
  }

  /** Taken over from a dead owner and not yet marked consistent. */
  isInconsistent(): boolean {
    const v = Atomics.load(this.i32, this.index);
    return v !== NOT_RECOVERABLE && (v & INCONSISTENT) !== 0;
  }

  /** Released unrepaired after a takeover: every acquisition throws LockNotRecoverableError until init(). */
  isNotRecoverable(): boolean {
    return Atomics.load(this.i32, this.index) === NOT_RECOVERABLE;
  }

  /** Held by an owner the registry reports dead (always false without a registry). For fsck. */
  heldByDead(): boolean {
    const owner = this.owner();
    return owner !== 0 && this.registry !== null && this.registry.isOwnerDead(owner);
  }

  /**
   * Recovery after a holder died: frees the lock only if `deadOwner` still holds it, and wakes every
   * waiter. Returns whether it did. Use it only for an owner known to be gone (its worker exited);
   * whatever that owner was protecting may be half-updated and needs checking (fsck). With a
   * registry, prefer lock(): it takes the lock over and says 'owner-died'.
   */
  forceUnlock(deadOwner: number): boolean {
    const v = Atomics.load(this.i32, this.index);
    if (v === 0 || v === NOT_RECOVERABLE || ownerOf(v) !== deadOwner) return false;
    if (Atomics.compareExchange(this.i32, this.index, v, 0) !== v) return false;
    Atomics.notify(this.i32, this.index);
    return true;
  }
}
