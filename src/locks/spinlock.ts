/**
 * SpinLock: test-and-test-and-set with bounded exponential backoff, then parking.
 *
 * One int32 word (see owner-word.ts for its states). A waiter first re-reads the word with plain
 * Atomics.load — cheap, and it keeps the cache line shared — and only tries the compareExchange when
 * the word reads free; between looks it backs off exponentially so that spinners do not hammer the
 * line. After a bounded number of looks it parks in Atomics.wait: with more workers than cores (the
 * normal case on 2-core machines) the holder may be descheduled, and spinning on would only burn the
 * core it needs.
 *
 * Use it for very short critical sections where the holder almost never sleeps. For anything longer,
 * or with more threads than cores, prefer Mutex, which parks sooner.
 */
import type { SpinPolicy } from './common.js';
import { OwnerWordLock } from './owner-word.js';

/** Owner-word lock that spins long (up to 200 looks, with backoff) before parking: for tiny critical sections. */
export class SpinLock extends OwnerWordLock {
  protected readonly policy: SpinPolicy = { spinLimit: 200, backoffStart: 1, backoffMax: 64 };
}
