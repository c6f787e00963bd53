/**
 * SeqCount and SeqLock: optimistic readers, serialised writers.
 *
 * SeqCount — one int32 word at `index`:
 *
 *   [index]     sequence: even = stable, odd = a write is in progress; +1 at writeBegin, +1 at
 *               writeEnd (wrapping past 2^31 is harmless: readers only compare for equality)
 *
 * SeqLock — two words at `index`:
 *
 *   [index]     sequence (a SeqCount)
 *   [index+1]   writer lock (a SpinLock word, see owner-word.ts) that serialises writers
 *
 * The rules, in the manner of Linux's seqlock.h:
 *
 *  1. A reader takes `s = readBegin()`, reads the protected words, and accepts what it read only if
 *     `readRetry(s)` is false. Protected words are written and read with Atomics: plain racy reads
 *     are not ordered by the JS memory model, so the sequence check would prove nothing about them.
 *     A reader bounds-checks anything it read before the re-check: a torn snapshot may hold garbage.
 *  2. Writers must be serialised (SeqLock's writer lock does it; bare SeqCount users bring their
 *     own). The sequence only ever moves by compareExchange: even → odd at writeBegin, odd → even at
 *     writeEnd. A second, unserialised writer's writeBegin therefore fails and changes nothing — it
 *     can never make the sequence even in the middle of someone else's write (an add-then-undo could,
 *     for a moment, and a reader looking then would accept a torn record).
 *  3. No reader ever accepts a snapshot taken while the sequence was odd — not even the fallback of
 *     SeqLock.read(fn) that reads under the writer lock: holding that lock, it checks that the
 *     sequence is even; an odd one there means a writer stopped mid-write and nobody is finishing.
 *  4. A sequence left odd by a writer that died stays odd: the write is "in progress" for ever, and
 *     readers are told so (SeqWriteAbandonedError) instead of getting its half-written record. With a
 *     ThreadRegistry they are told as soon as they would park and the registry reports the writer
 *     dead; without one, an odd sequence whose writer lock is free (forceUnlock) tells the same.
 *  5. Only recover(repair) ends such a write: it takes the writer lock (taking over a dead writer),
 *     runs the repair callback, and only then makes the sequence even, marks the lock consistent
 *     and unlocks. A writer that acquired 'owner-died' through writeLock() continues the dead
 *     writer's write and must markConsistent() before writeUnlock(); a writeUnlock without it leaves
 *     the sequence odd and the writer lock not recoverable, so no reader ever accepts that record.
 *
 * JS cannot disable preemption, so a writer can be descheduled between writeBegin and writeEnd for a
 * whole time slice. Readers therefore never spin without bound: readBegin spins a little, then parks
 * in short timed waits (the writer does not notify; that would tax every write), and gives up with a
 * LockTimeoutError after its timeout. SeqLock.read() goes further, as Linux's read_seqbegin_or_lock
 * does: after a few failed optimistic passes it takes the writer lock and reads under it.
 *
 * Cost: writeBegin and writeEnd are one compareExchange each (writeBegin two when another thread's
 * object wrote since this object last did: the first CAS guesses the sequence and learns it). A
 * SeqLock write is 2 Atomics ops to lock (CAS writer word, CAS sequence) and 3 to unlock (load the
 * writer word to check the caller holds it, CAS sequence, CAS writer word): as before.
 */
import { checkSharedWords } from '../shared/validate.js';
import {
  type LockResult, LockMisuseError, LockNotRecoverableError, LockStats, LockTimeoutError, checkCanPark, checkTimeout,
  cpuRelax, currentOwnerId, deadlineFrom, parkUntil,
} from './common.js';
import { ownerWordInconsistent, ownerWordNotRecoverable, ownerWordOwner } from './owner-word.js';
import { SpinLock } from './spinlock.js';
import type { ThreadRegistry } from './thread-registry.js';

const READ_SPINS = 64;
const FIRST_NAP_MS = 0.05;
const LONGEST_NAP_MS = 2;

/** Options of SeqCount and SeqLock. */
export interface SeqOptions {
  stats?: LockStats;
  name?: string;
  /** SeqLock only: makes the writer lock robust and lets readers see a dead writer at once. */
  registry?: ThreadRegistry;
}

/**
 * A seqlock write that will never finish: its writer died mid-write (owner > 0: the registry says
 * so), or the sequence is odd while nobody holds the writer lock (owner 0: its writer died and the
 * lock was force-unlocked). What the seqlock protects is half-written until recover(repair) runs.
 */
export class SeqWriteAbandonedError extends Error {
  readonly lock: string;
  readonly owner: number;
  constructor(lock: string, owner: number) {
    super(owner > 0
      ? `${lock}: the writer (owner ${owner}) died mid-write; the record is half-written: call recover(repair)`
      : `${lock}: the sequence is odd but no writer holds the lock: a writer died mid-write (its lock was force-unlocked), ` +
        'or a write began without the writer lock (writers not serialised?); call recover(repair)');
    this.name = 'SeqWriteAbandonedError';
    this.lock = lock;
    this.owner = owner;
  }
}

/**
 * A bare sequence count (one word): optimistic readers retry when a write began or ended meanwhile.
 * Writers must be serialised by the caller; SeqLock adds the writer lock.
 */
export class SeqCount {
  static readonly WORDS = 1;
  readonly i32: Int32Array;
  readonly index: number;
  readonly name: string;
  private readonly stats: LockStats | null;
  /** The last even sequence this object saw or made: writeBegin's guess (right when it wrote last). */
  private even = 0;
  /** The odd sequence of the write this object began (0: none). */
  private pending = 0;

  constructor(i32: Int32Array, index: number, options: SeqOptions = {}) {
    checkSharedWords(options.name ?? 'SeqCount', i32, index, 1);
    this.i32 = i32;
    this.index = index;
    this.stats = options.stats ?? null;
    this.name = options.name ?? `SeqCount@${index}`;
  }

  /** Resets the sequence to 0 (stable). Only while no thread uses it. */
  static init(i32: Int32Array, index: number): void {
    checkSharedWords('SeqCount', i32, index, 1);
    Atomics.store(i32, index, 0);
  }

  /** An even sequence to validate against. Waits (bounded) while a write is in progress. */
  readBegin(timeoutMs = Infinity): number {
    const s = Atomics.load(this.i32, this.index);
    if ((s & 1) === 0) return s;
    return this.waitStable(timeoutMs);
  }

  /**
   * @internal Waits for an even sequence. `beforePark(s)` runs before each park with the odd value
   * seen, and may throw to end the wait (SeqLock: the writer is dead).
   */
  waitStable(timeoutMs: number, beforePark?: (odd: number) => void): number {
    checkTimeout(timeoutMs);
    const deadline = deadlineFrom(timeoutMs);
    let nap = FIRST_NAP_MS;
    for (let spins = 0; ; spins++) {
      const s = Atomics.load(this.i32, this.index);
      if ((s & 1) === 0) return s;
      if (this.stats !== null) this.stats.spins++;
      if (spins < READ_SPINS) {
        cpuRelax(8);
        continue;
      }
      if (beforePark !== undefined) beforePark(s);
      if (performance.now() < deadline) checkCanPark(`${this.name} read`);
      // The writer never notifies (that would tax every write), so naps are short and grow.
      if (!parkUntil(this.i32, this.index, s, deadline, nap)) {
        throw new LockTimeoutError(`${this.name} read`, 0, timeoutMs, 'a writer that has not finished (odd sequence)');
      }
      if (this.stats !== null) this.stats.parks++;
      if (nap < LONGEST_NAP_MS) nap *= 2;
    }
  }

  /** True when a write began or ended since `readBegin` returned `seq`: discard what was read. */
  readRetry(seq: number): boolean {
    const retry = Atomics.load(this.i32, this.index) !== seq;
    if (retry && this.stats !== null) this.stats.readRetries++;
    return retry;
  }

  /**
   * Even → odd with one compareExchange. The caller must already exclude other writers (a lock, or
   * being the only writer); if it does not, this fails with LockMisuseError and changes nothing.
   */
  writeBegin(): void {
    let s = this.even;
    let c = Atomics.compareExchange(this.i32, this.index, s, (s + 1) | 0);
    if (c !== s) {
      if ((c & 1) !== 0) {
        throw new LockMisuseError(`${this.name}: writeBegin() while a write is already in progress (writers not serialised, or a writer died mid-write?)`);
      }
      // Another object wrote since this one last did: the failed CAS told us the sequence.
      s = c;
      c = Atomics.compareExchange(this.i32, this.index, s, (s + 1) | 0);
      if (c !== s) throw new LockMisuseError(`${this.name}: the sequence moved during writeBegin() (writers not serialised?)`);
    }
    this.pending = (s + 1) | 0;
  }

  /** Odd → even with one compareExchange. */
  writeEnd(): void {
    let s = this.pending;
    if (s === 0) {
      // Not begun through this object (another object of this thread began it): end the write in progress.
      s = Atomics.load(this.i32, this.index);
      if ((s & 1) === 0) throw new LockMisuseError(`${this.name}: writeEnd() without writeBegin()`);
    }
    const c = Atomics.compareExchange(this.i32, this.index, s, (s + 1) | 0);
    this.pending = 0;
    if (c !== s) {
      throw new LockMisuseError((c & 1) === 0
        ? `${this.name}: writeEnd() without writeBegin() (the write was already ended)`
        : `${this.name}: the sequence moved during the write (writers not serialised?)`);
    }
    this.even = (s + 1) | 0;
  }

  /** @internal Continue the write in progress at odd sequence `s` (recovery of a dead writer's write). */
  adopt(s: number): void {
    this.pending = s;
  }

  /** Raw sequence value (diagnostics). */
  value(): number {
    return Atomics.load(this.i32, this.index);
  }
}

/** Options of SeqLock.read. */
export interface SeqReadOptions {
  /** Optimistic passes before falling back to reading under the writer lock. */
  optimisticTries?: number;
  timeoutMs?: number;
}

/** What recover(repair) tells the repair callback. */
export interface SeqRepairInfo {
  /** The writer lock was taken over from a dead writer. */
  ownerDied: boolean;
  /** The sequence was odd: a write had begun and not ended, so the record may be half-written. */
  midWrite: boolean;
}

/**
 * A sequence count and the writer lock that serialises its writers (two words). Readers read
 * optimistically and retry; read(fn) takes the writer lock only after a few spoilt passes.
 */
export class SeqLock {
  static readonly WORDS = 2;
  readonly seq: SeqCount;
  readonly writer: SpinLock;
  private readonly stats: LockStats | null;
  private readonly registry: ThreadRegistry | null;

  constructor(i32: Int32Array, index: number, options: SeqOptions = {}) {
    checkSharedWords(options.name ?? 'SeqLock', i32, index, 2);
    const name = options.name ?? `SeqLock@${index}`;
    this.stats = options.stats ?? null;
    const stats = options.stats;
    this.seq = new SeqCount(i32, index, { name, ...(stats ? { stats } : {}) });
    this.writer = new SpinLock(i32, index + 1, {
      name: `${name} writer lock`, ...(stats ? { stats } : {}), ...(options.registry ? { registry: options.registry } : {}),
    });
    this.registry = options.registry ?? null;
  }

  get name(): string {
    return this.seq.name;
  }

  /** Resets both words: the sequence to 0 and the writer lock to free (also a not-recoverable one). */
  static init(i32: Int32Array, index: number): void {
    checkSharedWords('SeqLock', i32, index, 2);
    Atomics.store(i32, index, 0);
    Atomics.store(i32, index + 1, 0);
  }

  /**
   * Takes the writer lock and begins a write. 'owner-died' (with a registry): the previous writer
   * died holding the lock; if it died mid-write the sequence is still odd and this write continues
   * it. Repair the record, markConsistent(), then writeUnlock().
   */
  writeLock(timeoutMs = Infinity): LockResult {
    const r = this.writer.lock(timeoutMs);
    if (r === 'owner-died') {
      const s = Atomics.load(this.seq.i32, this.seq.index);
      if ((s & 1) !== 0) {
        this.seq.adopt(s);
        return r;
      }
    }
    try {
      this.seq.writeBegin();
    } catch (e) {
      // Do not keep the lock on the way out. An odd sequence with the writer lock free is a write
      // nobody is finishing (rule 4): say so.
      this.writer.unlock();
      if (e instanceof LockMisuseError && (Atomics.load(this.seq.i32, this.seq.index) & 1) !== 0) {
        throw new SeqWriteAbandonedError(this.name, 0);
      }
      throw e;
    }
    return r;
  }

  /**
   * Ends the write and releases the writer lock; throws LockMisuseError unless the caller holds it.
   * After an 'owner-died' writeLock without markConsistent(), the write stays open and the lock
   * becomes not recoverable.
   */
  writeUnlock(): void {
    // Ownership first: writeEnd by a thread that does not hold the writer lock would make the
    // sequence even in the middle of the real writer's update, and readers would accept a torn
    // snapshot. The owner check is one Atomics.load, which also says whether the lock is inconsistent.
    const me = currentOwnerId();
    const w = Atomics.load(this.writer.i32, this.writer.index);
    const holder = ownerWordOwner(w);
    if (holder !== me) {
      throw new LockMisuseError(holder === 0
        ? `${this.writer.name}: writeUnlock() by owner ${me}, but the lock is not held`
        : `${this.writer.name}: writeUnlock() by owner ${me}, but it is held by owner ${holder}`);
    }
    // Rule 5: unrepaired, the write stays open (odd) and the unlock makes the lock not recoverable.
    if (!ownerWordInconsistent(w)) this.seq.writeEnd();
    this.writer.unlock();
  }

  /** By the writer that acquired 'owner-died': the record is repaired (pthread_mutex_consistent). */
  markConsistent(): void {
    this.writer.markConsistent();
  }

  /**
   * Rule 5: ends a write that will never finish otherwise. Takes the writer lock (taking over a dead
   * writer when there is a registry), runs `repair` with the sequence odd (readers keep retrying),
   * and only then makes the sequence even, marks the lock consistent and unlocks. Also fine when
   * nothing is wrong (repair then sees ownerDied and midWrite false). If `repair` throws, the write
   * stays open and the error propagates; a lock that was taken over is then not recoverable.
   */
  recover(repair: (info: SeqRepairInfo) => void, timeoutMs = Infinity): LockResult {
    const r = this.writer.lock(timeoutMs);
    const s = Atomics.load(this.seq.i32, this.seq.index);
    const midWrite = (s & 1) !== 0;
    try {
      if (midWrite) this.seq.adopt(s);
      else this.seq.writeBegin();
      repair({ ownerDied: r === 'owner-died', midWrite });
    } catch (e) {
      this.writer.unlock();
      throw e;
    }
    if (r === 'owner-died') this.writer.markConsistent();
    this.seq.writeEnd();
    this.writer.unlock();
    return r;
  }

  /** Like SeqCount.readBegin; fails at once, not at the timeout, when the write will never end (rule 4). */
  readBegin(timeoutMs = Infinity): number {
    const s = Atomics.load(this.seq.i32, this.seq.index);
    if ((s & 1) === 0) return s;
    return this.readBeginSlow(timeoutMs);
  }

  private readBeginSlow(timeoutMs: number): number {
    try {
      return this.seq.waitStable(timeoutMs, (odd) => this.checkWriter(odd));
    } catch (e) {
      const owner = this.writer.owner();
      if (!(e instanceof LockTimeoutError) || owner === 0) throw e;
      throw new LockTimeoutError(`${this.seq.name} read`, owner, e.waitedMs, `writer owner ${owner}, whose write has not finished (odd sequence)`);
    }
  }

  /** Before a reader parks on odd sequence `odd`: is anyone going to finish this write? */
  private checkWriter(odd: number): void {
    const w = Atomics.load(this.writer.i32, this.writer.index);
    if (ownerWordNotRecoverable(w)) throw new LockNotRecoverableError(this.writer.name);
    const owner = ownerWordOwner(w);
    if (owner === 0) {
      // Writers begin after locking and end before unlocking: odd with the lock free, and still the
      // same odd value after we saw the lock free, is a write that nobody is doing.
      if (Atomics.load(this.seq.i32, this.seq.index) === odd) throw new SeqWriteAbandonedError(this.name, 0);
      return;
    }
    if (this.registry !== null && this.registry.isOwnerDead(owner)) throw new SeqWriteAbandonedError(this.name, owner);
  }

  /** True when a write began or ended since `readBegin` returned `seq`: discard what was read. */
  readRetry(seq: number): boolean {
    return this.seq.readRetry(seq);
  }

  /**
   * Runs `reader` until it sees a consistent snapshot and returns its result. After
   * `optimisticTries` passes spoilt by writers it takes the writer lock and reads under it, so a
   * stream of writers cannot starve the reader. `reader` must only read. Throws
   * SeqWriteAbandonedError rather than return a record a dead writer left half-written (rule 3).
   */
  read<T>(reader: () => T, options: SeqReadOptions = {}): T {
    const tries = options.optimisticTries ?? 3;
    const timeoutMs = options.timeoutMs ?? Infinity;
    for (let i = 0; i < tries; i++) {
      const s = Atomics.load(this.seq.i32, this.seq.index);
      if ((s & 1) !== 0) {
        cpuRelax(16);
        continue;
      }
      const value = reader();
      if (!this.seq.readRetry(s)) return value;
    }
    if (this.stats !== null) this.stats.lockedReads++;
    // A reader never takes over a dead writer: it could not repair what the writer left.
    if (!this.writer.tryLock() && this.writer.acquire(timeoutMs, false) === 'dead-owner') {
      throw new SeqWriteAbandonedError(this.name, this.writer.owner());
    }
    try {
      const s = Atomics.load(this.seq.i32, this.seq.index);
      if ((s & 1) !== 0) throw new SeqWriteAbandonedError(this.name, 0);
      const value = reader();
      if (Atomics.load(this.seq.i32, this.seq.index) !== s) {
        throw new LockMisuseError(`${this.name}: the sequence moved while read(fn) held the writer lock (a write without the writer lock?)`);
      }
      return value;
    } finally {
      this.writer.unlock();
    }
  }
}
