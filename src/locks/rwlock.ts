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
 * Uncontended read lock/unlock and write lock/unlock are one compareExchange each way (the read side
 * guesses the common word — 0 to lock, 1 to unlock — and uses the value a failed guess returns).
 *
 * RwLockArray is the same lock over many words at a fixed stride (one per bucket record), so a
 * million locks cost no million objects; RwLock is the single-word form.
 */
import { checkInt, checkSharedWords } from '../shared/validate.js';
import { LockMisuseError, LockStats, LockTimeoutError, SpinThenPark, type SpinPolicy, currentOwnerId } from './common.js';

const WRITER = 1 << 30;
const WAITERS = 1 << 29;
const LOW = WAITERS - 1;
/** 32 looks, relaxing 2, 4, … 64 iterations between them, then park. */
const POLICY: SpinPolicy = { spinLimit: 32, backoffStart: 2, backoffMax: 64 };

export interface RwLockOptions {
  stats?: LockStats;
  name?: string;
}

export class RwLockArray {
  readonly i32: Int32Array;
  /** Word index of lock 0; lock k lives at base + k * stride. */
  readonly base: number;
  readonly stride: number;
  readonly count: number;
  readonly name: string;
  private readonly stats: LockStats | null;

  constructor(i32: Int32Array, base: number, stride: number, count: number, options: RwLockOptions = {}) {
    const name = options.name ?? 'RwLock';
    checkInt(`${name} stride`, stride, 1, 1 << 20);
    checkInt(`${name} count`, count, 1, 2 ** 31 - 1);
    checkSharedWords(name, i32, base, (count - 1) * stride + 1);
    this.i32 = i32;
    this.base = base;
    this.stride = stride;
    this.count = count;
    this.stats = options.stats ?? null;
    this.name = name;
  }

  private label(k: number): string {
    return this.count === 1 ? this.name : `${this.name}[${k}]`;
  }

  /** Word index of lock k. No bounds check: callers pass indices they validated once. */
  at(k: number): number {
    return this.base + k * this.stride;
  }

  tryReadLock(k: number): boolean {
    const i = this.at(k);
    // Guess "free" first: the compareExchange returns the word either way, so the common
    // uncontended case costs one Atomics op instead of a load and then a compareExchange.
    const v = Atomics.compareExchange(this.i32, i, 0, 1);
    let ok = v === 0;
    if (!ok) {
      if ((v & WRITER) !== 0 || (v & LOW) === LOW) return false;
      ok = Atomics.compareExchange(this.i32, i, v, v + 1) === v;
    }
    if (ok && this.stats !== null) this.stats.acquisitions++;
    return ok;
  }

  readLock(k: number, timeoutMs = Infinity): void {
    if (!this.tryReadLock(k)) this.acquireSlow(k, false, timeoutMs);
  }

  readUnlock(k: number): void {
    const i = this.at(k);
    // Guess "the only reader, nobody waiting" (word 1): one compareExchange, which also returns the
    // word to start from when the guess is wrong.
    let v = Atomics.compareExchange(this.i32, i, 1, 0);
    if (v === 1) return;
    for (;;) {
      if ((v & WRITER) !== 0 || (v & LOW) === 0) {
        throw new LockMisuseError(`${this.label(k)}: readUnlock() of a lock that is not read-held`);
      }
      const last = (v & LOW) === 1;
      const next = last ? 0 : v - 1;
      const c = Atomics.compareExchange(this.i32, i, v, next);
      if (c !== v) {
        v = c;
        continue;
      }
      if (last && (v & WAITERS) !== 0) Atomics.notify(this.i32, i);
      return;
    }
  }

  tryWriteLock(k: number): boolean {
    const ok = Atomics.compareExchange(this.i32, this.at(k), 0, WRITER | currentOwnerId()) === 0;
    if (ok && this.stats !== null) this.stats.acquisitions++;
    return ok;
  }

  writeLock(k: number, timeoutMs = Infinity): void {
    if (!this.tryWriteLock(k)) this.acquireSlow(k, true, timeoutMs);
  }

  writeUnlock(k: number): void {
    const i = this.at(k);
    const me = WRITER | currentOwnerId();
    const c = Atomics.compareExchange(this.i32, i, me, 0);
    if (c === me) return;
    if (c === (me | WAITERS)) {
      Atomics.store(this.i32, i, 0);
      Atomics.notify(this.i32, i);
      return;
    }
    if ((c & WRITER) === 0) throw new LockMisuseError(`${this.label(k)}: writeUnlock() of a lock that is not write-held`);
    throw new LockMisuseError(`${this.label(k)}: writeUnlock() by owner ${currentOwnerId()}, but owner ${c & LOW} holds it`);
  }

  /** Writer's owner id (0 when not write-held). Diagnostic snapshot. */
  writer(k: number): number {
    const v = Atomics.load(this.i32, this.at(k));
    return (v & WRITER) !== 0 ? v & LOW : 0;
  }

  /** Readers holding it now (0 when free or write-held). Diagnostic snapshot. */
  readers(k: number): number {
    const v = Atomics.load(this.i32, this.at(k));
    return (v & WRITER) !== 0 ? 0 : v & LOW;
  }

  private acquireSlow(k: number, exclusive: boolean, timeoutMs: number): void {
    const i = this.at(k);
    const me = currentOwnerId();
    const waiter = new SpinThenPark(POLICY, this.stats, timeoutMs, this.label(k));
    for (;;) {
      const v = Atomics.load(this.i32, i);
      const writeHeld = (v & WRITER) !== 0;
      if (writeHeld && (v & LOW) === me) {
        throw new LockMisuseError(`${this.label(k)}: ${exclusive ? 'writeLock' : 'readLock'}() by owner ${me}, which already holds it for write`);
      }
      if (exclusive ? (v & ~WAITERS) === 0 : !writeHeld && (v & LOW) !== LOW) {
        // A thread that has parked keeps the waiter bit on when it acquires: others may still sleep.
        const keep = waiter.parked ? WAITERS : v & WAITERS;
        const next = exclusive ? WRITER | keep | me : (v + 1) | keep;
        if (Atomics.compareExchange(this.i32, i, v, next) === v) {
          if (this.stats !== null) this.stats.acquisitions++;
          return;
        }
        continue;
      }
      if (!waiter.wait(this.i32, i, v, WAITERS)) {
        const holder = writeHeld ? `writer owner ${v & LOW}` : `${v & LOW} reader(s)`;
        throw new LockTimeoutError(this.label(k), writeHeld ? v & LOW : 0, timeoutMs, holder);
      }
    }
  }

  /** Frees a write lock still held by an owner known to be dead; wakes all waiters. */
  forceWriteUnlock(k: number, deadOwner: number): boolean {
    const i = this.at(k);
    const v = Atomics.load(this.i32, i);
    if ((v & WRITER) === 0 || (v & LOW) !== deadOwner) return false;
    if (Atomics.compareExchange(this.i32, i, v, 0) !== v) return false;
    Atomics.notify(this.i32, i);
    return true;
  }
}

/** A single shared/exclusive lock word. */
export class RwLock {
  static readonly WORDS = 1;
  private readonly locks: RwLockArray;

  constructor(i32: Int32Array, index: number, options: RwLockOptions = {}) {
    this.locks = new RwLockArray(i32, index, 1, 1, { ...options, name: options.name ?? `RwLock@${index}` });
  }

  static init(i32: Int32Array, index: number): void {
    checkSharedWords('RwLock', i32, index, 1);
    Atomics.store(i32, index, 0);
  }

  get name(): string { return this.locks.name; }
  tryReadLock(): boolean { return this.locks.tryReadLock(0); }
  readLock(timeoutMs = Infinity): void { this.locks.readLock(0, timeoutMs); }
  readUnlock(): void { this.locks.readUnlock(0); }
  tryWriteLock(): boolean { return this.locks.tryWriteLock(0); }
  writeLock(timeoutMs = Infinity): void { this.locks.writeLock(0, timeoutMs); }
  writeUnlock(): void { this.locks.writeUnlock(0); }
  writer(): number { return this.locks.writer(0); }
  readers(): number { return this.locks.readers(0); }
  forceWriteUnlock(deadOwner: number): boolean { return this.locks.forceWriteUnlock(0, deadOwner); }
}
