/**
 * RwLock: a one-word shared/exclusive lock, small enough to give every bucket record its own. It is
 * what the key-lock fix needs: allocators take a bucket's record for read while they re-check and
 * publish it, and a commit to that record takes it for write.
 *
 * Word (one int32 at `index`):
 *
 *   bit 30      WRITER: held exclusively
 *   bit 29      WAITERS: some thread may be parked in Atomics.wait on this word
 *   bits 0..28  when WRITER is set: the writer's owner id
 *               otherwise: the number of readers holding it
 *
 * Readers are counted, not named (one word cannot list them); a timeout names the writer, or says
 * how many readers held the lock. No fairness: readers can delay a writer; callers hold it briefly.
 * Uncontended read lock/unlock and write lock/unlock are one compareExchange each way.
 */
import { checkSharedWords } from '../shared/validate.js';
import {
  LockMisuseError, LockStats, LockTimeoutError, checkTimeout, cpuRelax, currentOwnerId, deadlineFrom, parkUntil,
} from './common.js';

const WRITER = 1 << 30;
const WAITERS = 1 << 29;
const LOW = WAITERS - 1;
const SPIN_LIMIT = 32;

export interface RwLockOptions {
  stats?: LockStats;
  name?: string;
}

export class RwLock {
  static readonly WORDS = 1;
  readonly i32: Int32Array;
  readonly index: number;
  readonly name: string;
  private readonly stats: LockStats | null;

  constructor(i32: Int32Array, index: number, options: RwLockOptions = {}) {
    checkSharedWords(options.name ?? 'RwLock', i32, index, 1);
    this.i32 = i32;
    this.index = index;
    this.stats = options.stats ?? null;
    this.name = options.name ?? `RwLock@${index}`;
  }

  static init(i32: Int32Array, index: number): void {
    checkSharedWords('RwLock', i32, index, 1);
    Atomics.store(i32, index, 0);
  }

  tryReadLock(): boolean {
    const v = Atomics.load(this.i32, this.index);
    if ((v & WRITER) !== 0 || (v & LOW) === LOW) return false;
    const ok = Atomics.compareExchange(this.i32, this.index, v, v + 1) === v;
    if (ok && this.stats !== null) this.stats.acquisitions++;
    return ok;
  }

  readLock(timeoutMs = Infinity): void {
    if (!this.tryReadLock()) this.acquireSlow(false, timeoutMs);
  }

  readUnlock(): void {
    for (;;) {
      const v = Atomics.load(this.i32, this.index);
      if ((v & WRITER) !== 0 || (v & LOW) === 0) {
        throw new LockMisuseError(`${this.name}: readUnlock() of a lock that is not read-held`);
      }
      const last = (v & LOW) === 1;
      const next = last ? 0 : v - 1;
      if (Atomics.compareExchange(this.i32, this.index, v, next) !== v) continue;
      if (last && (v & WAITERS) !== 0) Atomics.notify(this.i32, this.index);
      return;
    }
  }

  tryWriteLock(): boolean {
    const ok = Atomics.compareExchange(this.i32, this.index, 0, WRITER | currentOwnerId()) === 0;
    if (ok && this.stats !== null) this.stats.acquisitions++;
    return ok;
  }

  writeLock(timeoutMs = Infinity): void {
    if (!this.tryWriteLock()) this.acquireSlow(true, timeoutMs);
  }

  writeUnlock(): void {
    const me = WRITER | currentOwnerId();
    const c = Atomics.compareExchange(this.i32, this.index, me, 0);
    if (c === me) return;
    if (c === (me | WAITERS)) {
      Atomics.store(this.i32, this.index, 0);
      Atomics.notify(this.i32, this.index);
      return;
    }
    if ((c & WRITER) === 0) throw new LockMisuseError(`${this.name}: writeUnlock() of a lock that is not write-held`);
    throw new LockMisuseError(`${this.name}: writeUnlock() by owner ${currentOwnerId()}, but owner ${c & LOW} holds it`);
  }

  /** Writer's owner id (0 when not write-held). Diagnostic snapshot. */
  writer(): number {
    const v = Atomics.load(this.i32, this.index);
    return (v & WRITER) !== 0 ? v & LOW : 0;
  }

  /** Readers holding it now (0 when free or write-held). Diagnostic snapshot. */
  readers(): number {
    const v = Atomics.load(this.i32, this.index);
    return (v & WRITER) !== 0 ? 0 : v & LOW;
  }

  private acquireSlow(exclusive: boolean, timeoutMs: number): void {
    checkTimeout(timeoutMs);
    const deadline = deadlineFrom(timeoutMs);
    const me = currentOwnerId();
    const s = this.stats;
    if (s !== null) s.contended++;
    let spun = 0;
    let parked = false;
    for (;;) {
      const v = Atomics.load(this.i32, this.index);
      const writeHeld = (v & WRITER) !== 0;
      if (writeHeld && (v & LOW) === me) {
        throw new LockMisuseError(`${this.name}: ${exclusive ? 'writeLock' : 'readLock'}() by owner ${me}, which already holds it for write`);
      }
      // Free for us? A thread that has parked keeps the waiter bit on, as others may still sleep.
      const keep = parked ? (v & WAITERS) | WAITERS : v & WAITERS;
      if (exclusive ? (v & ~WAITERS) === 0 : !writeHeld && (v & LOW) !== LOW) {
        const next = exclusive ? WRITER | keep | me : v + 1 | keep;
        if (Atomics.compareExchange(this.i32, this.index, v, next) === v) {
          if (s !== null) s.acquisitions++;
          return;
        }
        continue;
      }
      if (spun < SPIN_LIMIT) {
        spun++;
        if (s !== null) s.spins++;
        cpuRelax(1 << Math.min(spun, 6));
        continue;
      }
      if ((v & WAITERS) === 0 && Atomics.compareExchange(this.i32, this.index, v, v | WAITERS) !== v) continue;
      if (!parkUntil(this.i32, this.index, v | WAITERS, deadline)) {
        const holder = writeHeld ? `writer owner ${v & LOW}` : `${v & LOW} reader(s)`;
        throw new LockTimeoutError(this.name, writeHeld ? v & LOW : 0, timeoutMs, holder);
      }
      if (s !== null) s.parks++;
      parked = true;
    }
  }

  /** Frees a write lock still held by an owner known to be dead; wakes all waiters. */
  forceWriteUnlock(deadOwner: number): boolean {
    const v = Atomics.load(this.i32, this.index);
    if ((v & WRITER) === 0 || (v & LOW) !== deadOwner) return false;
    if (Atomics.compareExchange(this.i32, this.index, v, 0) !== v) return false;
    Atomics.notify(this.i32, this.index);
    return true;
  }
}
