/**
 * SeqCount and SeqLock: optimistic readers, serialised writers.
 *
 * SeqCount — one int32 word at `index`:
 *
 *   [index]     sequence: even = stable, odd = a write is in progress; +1 at writeBegin, +1 at writeEnd
 *
 * SeqLock — two words at `index`:
 *
 *   [index]     sequence (a SeqCount)
 *   [index+1]   writer lock (a SpinLock word, see owner-word.ts) that serialises writers
 *
 * A reader takes `s = readBegin()`, reads the protected words, and accepts what it read only if
 * `readRetry(s)` is false. Protected words must be written and read with Atomics: plain racy reads
 * are not ordered by the JS memory model, so the sequence check would prove nothing about them. A
 * reader must also bounds-check anything it read before the re-check, since a torn snapshot may
 * hold garbage.
 *
 * JS cannot disable preemption, so a writer can be descheduled between writeBegin and writeEnd for a
 * whole time slice. Readers therefore never spin without bound: readBegin spins a little, then parks
 * in short timed waits (the writer does not notify; that would tax every write), and gives up with a
 * LockTimeoutError after its timeout. SeqLock.read() goes further, as Linux's read_seqbegin_or_lock
 * does: after a few failed optimistic passes it takes the writer lock and reads under it.
 */
import { checkSharedWords } from '../shared/validate.js';
import {
  LockMisuseError, LockStats, LockTimeoutError, checkCanPark, checkTimeout, cpuRelax, currentOwnerId, deadlineFrom, parkUntil,
} from './common.js';
import { SpinLock } from './spinlock.js';

const READ_SPINS = 64;
const FIRST_NAP_MS = 0.05;
const LONGEST_NAP_MS = 2;

export interface SeqOptions {
  stats?: LockStats;
  name?: string;
}

export class SeqCount {
  static readonly WORDS = 1;
  readonly i32: Int32Array;
  readonly index: number;
  readonly name: string;
  private readonly stats: LockStats | null;

  constructor(i32: Int32Array, index: number, options: SeqOptions = {}) {
    checkSharedWords(options.name ?? 'SeqCount', i32, index, 1);
    this.i32 = i32;
    this.index = index;
    this.stats = options.stats ?? null;
    this.name = options.name ?? `SeqCount@${index}`;
  }

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

  private waitStable(timeoutMs: number): number {
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

  /** The caller must already exclude other writers (a lock, or being the only writer). */
  writeBegin(): void {
    const before = Atomics.add(this.i32, this.index, 1);
    if ((before & 1) !== 0) {
      Atomics.sub(this.i32, this.index, 1);
      throw new LockMisuseError(`${this.name}: writeBegin() while a write is already in progress (writers not serialised?)`);
    }
  }

  writeEnd(): void {
    const before = Atomics.add(this.i32, this.index, 1);
    if ((before & 1) === 0) {
      Atomics.sub(this.i32, this.index, 1);
      throw new LockMisuseError(`${this.name}: writeEnd() without writeBegin()`);
    }
  }

  /** Raw sequence value (diagnostics). */
  value(): number {
    return Atomics.load(this.i32, this.index);
  }
}

export interface SeqReadOptions {
  /** Optimistic passes before falling back to reading under the writer lock. */
  optimisticTries?: number;
  timeoutMs?: number;
}

export class SeqLock {
  static readonly WORDS = 2;
  readonly seq: SeqCount;
  readonly writer: SpinLock;
  private readonly stats: LockStats | null;

  constructor(i32: Int32Array, index: number, options: SeqOptions = {}) {
    checkSharedWords(options.name ?? 'SeqLock', i32, index, 2);
    const name = options.name ?? `SeqLock@${index}`;
    this.stats = options.stats ?? null;
    const stats = options.stats;
    this.seq = new SeqCount(i32, index, { name, ...(stats ? { stats } : {}) });
    this.writer = new SpinLock(i32, index + 1, { name: `${name} writer lock`, ...(stats ? { stats } : {}) });
  }

  static init(i32: Int32Array, index: number): void {
    checkSharedWords('SeqLock', i32, index, 2);
    Atomics.store(i32, index, 0);
    Atomics.store(i32, index + 1, 0);
  }

  writeLock(timeoutMs = Infinity): void {
    this.writer.lock(timeoutMs);
    try {
      this.seq.writeBegin();
    } catch (e) {
      // Someone bumped the sequence without the lock; do not keep the lock on the way out.
      this.writer.unlock();
      throw e;
    }
  }

  writeUnlock(): void {
    // Ownership first: writeEnd by a thread that does not hold the writer lock would make the
    // sequence even in the middle of the real writer's update, and readers would accept a torn
    // snapshot. The owner check is one Atomics.load.
    const me = currentOwnerId();
    const holder = this.writer.owner();
    if (holder !== me) {
      throw new LockMisuseError(holder === 0
        ? `${this.writer.name}: writeUnlock() by owner ${me}, but the lock is not held`
        : `${this.writer.name}: writeUnlock() by owner ${me}, but it is held by owner ${holder}`);
    }
    this.seq.writeEnd();
    this.writer.unlock();
  }

  /** Like SeqCount.readBegin; on timeout the error names the writer that holds the writer lock. */
  readBegin(timeoutMs = Infinity): number {
    const s = Atomics.load(this.seq.i32, this.seq.index);
    if ((s & 1) === 0) return s;
    return this.readBeginSlow(timeoutMs);
  }

  private readBeginSlow(timeoutMs: number): number {
    try {
      return this.seq.readBegin(timeoutMs);
    } catch (e) {
      const owner = this.writer.owner();
      if (!(e instanceof LockTimeoutError) || owner === 0) throw e;
      throw new LockTimeoutError(`${this.seq.name} read`, owner, e.waitedMs, `writer owner ${owner}, whose write has not finished (odd sequence)`);
    }
  }

  readRetry(seq: number): boolean {
    return this.seq.readRetry(seq);
  }

  /**
   * Runs `reader` until it sees a consistent snapshot and returns its result. After
   * `optimisticTries` passes spoilt by writers it takes the writer lock and reads under it, so a
   * stream of writers cannot starve the reader. `reader` must only read.
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
    this.writer.lock(timeoutMs);
    try {
      return reader();
    } finally {
      this.writer.unlock();
    }
  }
}
