/**
 * Mutex: the three-state futex mutex of Drepper's "Futexes Are Tricky" (free / locked / locked with
 * waiters), with the owner id folded into the locked states (see owner-word.ts).
 *
 * One int32 word. An uncontended lock is one compareExchange, an uncontended unlock one
 * compareExchange and no Atomics.notify: notify is paid only when the waiter bit says someone may be
 * parked. A contended lock spins briefly (a handful of looks) and then parks; `lock(timeoutMs)` gives
 * up with a LockTimeoutError naming the holder, and unlock by anyone but the holder is an error.
 *
 * Use it by default, and always when threads may outnumber cores or the critical section is long.
 */
import type { SpinPolicy } from './common.js';
import { OwnerWordLock } from './owner-word.js';

/** Owner-word lock that parks after a handful of looks: the default choice, and the open-bucket freelist lock. */
export class Mutex extends OwnerWordLock {
  protected readonly policy: SpinPolicy = { spinLimit: 24, backoffStart: 4, backoffMax: 16 };
}
