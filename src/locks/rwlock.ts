/**
 * RwLock: a one-word shared/exclusive lock, small enough to give every bucket record its own. It is
 * what the key-lock fix needs: allocators take a bucket's record for read while they re-check and
 * publish it, and a commit to that record takes it for write.
 *
 * Word (one int32 at `index`):
 *
 *   bit 31      NOT_RECOVERABLE: the whole word is exactly this bit (see "Robustness")
 *   bit 30      WRITER: held exclusively
 *   bit 29      WAITERS: some thread may be parked in Atomics.wait on this word
 *   bit 28      RECLAIM: a thread is releasing dead readers' holds; new readers stay out
 *   bit 27      INCONSISTENT: taken over from a dead holder, not yet marked consistent
 *   bits 0..26  when WRITER is set: the writer's owner id
 *               otherwise: the number of readers holding it
 *
 * Readers are counted, not named (one word cannot list them); a timeout names the writer, or says
 * how many readers held the lock. No fairness: readers can delay a writer; callers hold it briefly.
 * Uncontended read lock/unlock and write lock/unlock are one compareExchange each way (the read side
 * guesses the common word — 0 to lock, 1 to unlock — and uses the value a failed guess returns).
 *
 * RwLockArray is the same lock over many words at a fixed stride (one per bucket record), so a
 * million locks cost no million objects; RwLock is the single-word form.
 *
 * Robustness (option `registry`; see thread-registry.ts and owner-word.ts for the model). The write
 * side works like the owner-word lock: a waiter that finds the writer dead takes the word over with
 * one CAS and is answered 'owner-died'. A reader that takes over a dead writer gets the lock with
 * INCONSISTENT set, and while INCONSISTENT is set no other reader is admitted, so it has the record to
 * itself to check or repair before markConsistent(k). Unlocking either side unrepaired stores
 * NOT_RECOVERABLE.
 *
 * Readers are the hard part: the count does not say whose holds it contains. Each robust reader
 * therefore lists the locks it holds in its own registry member (the robust list): entry
 * ((domain + 1) << 24) | k, where `domain` tells apart the RwLockArrays sharing one registry — two
 * robust arrays on one registry MUST be given distinct domains, or one array's recovery would clear
 * the other's entries. The rules, which make the argument below work:
 *
 *   R1  a reader writes its entry before the CAS that adds it to the count, and clears it only
 *       after the CAS that removes it: whenever a member's hold is in the count, its entry is listed;
 *   R2  a reader never adds itself while RECLAIM (or WRITER, INCONSISTENT) is set, and a reader that
 *       finds the lock unavailable clears its entry before it waits;
 *   R3  only the holder of the registry's reclaim lock sets RECLAIM, and only on the lock its
 *       header names as target (written before the bit is set, cleared after the bit is gone).
 *
 * A dead member's entry cannot say whether it died before its count CAS, holding, or after its
 * release CAS. The reclaimer does not need to know. It takes the reclaim lock, sets RECLAIM, and
 * waits until no *live* member lists the lock. From then on no live thread's hold is in the count
 * (R1), and none can enter (R2, RECLAIM stays set — R3: nobody else may set it, so if it is still set
 * at the final CAS it was set throughout); so whatever count remains belongs to dead members, and
 * one CAS replaces it by the reclaimer's own hold. Dead members' entries for the lock are then stale
 * and are cleared. If the count that remained was 0, the dead entries were of the "before the CAS /
 * after the release" kind and the answer is 'acquired'; otherwise 'owner-died'.
 *
 * A reclaimer can die too. Its RECLAIM bit is then orphaned: a waiter that finds RECLAIM set while
 * the reclaim lock is free, or held by a dead owner, or by a live one with another target, clears
 * the bit (CAS on the value it saw). Should that CAS hit a bit set anew by a live reclaimer (an ABA),
 * that reclaimer's final CAS, which requires RECLAIM, fails and it starts over: an orphan check can
 * cost a retry, never soundness.
 *
 * Reclaims are serialised per registry (one reclaim lock; they are rare: only after a death), and a
 * reclaim waits for the live readers of its lock to leave. So a thread that holds a robust read lock
 * while it waits for another robust lock can hold a reclaim up — until one of the two waits times
 * out, never for ever. Keep read holds short and take robust locks in one order.
 *
 * Cost: a robust read lock is 2 Atomics ops (store the entry, CAS the count) and its unlock 2 (CAS,
 * clear the entry); a plain one 1 and 1. Write lock/unlock stay 1 and 1 either way. The registry is
 * consulted only by a waiter that has spun without luck, before each park and after each slice.
 */
import { checkInt, checkSharedWords } from '../shared/validate.js';
import {
  LockMisuseError, LockNotRecoverableError, type LockResult, LockStats, LockTimeoutError, PARK_SLICE_MS,
  ROBUST_PARK_SLICE_MS, SpinThenPark, type SpinPolicy, checkCanPark, currentOwnerId,
} from './common.js';
import { checkRegistryOption } from './owner-word.js';
import {
  MAX_DOMAIN, MAX_ROBUST_LOCK_INDEX, MEMBER_WORDS, type MemberRef, READ_HOLD_ENTRIES, type ThreadRegistry, readHoldEntry,
} from './thread-registry.js';

const NOT_RECOVERABLE = 1 << 31;
const WRITER = 1 << 30;
const WAITERS = 1 << 29;
const RECLAIM = 1 << 28;
const INCONSISTENT = 1 << 27;
const LOW = INCONSISTENT - 1;
/** Anything but a reader count and the waiter bit keeps a new reader out. */
const READ_BLOCKED = NOT_RECOVERABLE | WRITER | RECLAIM | INCONSISTENT;
/** 32 looks, relaxing 2, 4, … 64 iterations between them, then park. */
const POLICY: SpinPolicy = { spinLimit: 32, backoffStart: 2, backoffMax: 64 };
/** A reclaimer waiting for live readers to leave naps this long at first, doubling to the max. */
const RECLAIM_NAP_MS = 0.25;
const RECLAIM_NAP_MAX_MS = 8;

/** Options of RwLock and RwLockArray. */
export interface RwLockOptions {
  stats?: LockStats;
  name?: string;
  /** Makes the lock robust (see the header); readers must then have joined the registry. */
  registry?: ThreadRegistry;
  /**
   * With a registry: this array's number in the members' read-hold lists, [0, 126]; default 0.
   * Robust RwLockArrays sharing one registry must have distinct domains.
   */
  domain?: number;
}

/** Loop again at once (the word changed under a recovery step). */
const RETRY = 'retry';

/**
 * Many RwLocks, one word each at a fixed stride (the bucket records' key locks): lock k is addressed
 * by index, so a million locks cost no million objects. Robust with a ThreadRegistry.
 */
export class RwLockArray {
  readonly i32: Int32Array;
  /** Word index of lock 0; lock k lives at base + k * stride. */
  readonly base: number;
  readonly stride: number;
  readonly count: number;
  readonly name: string;
  readonly domain: number;
  private readonly stats: LockStats | null;
  private readonly registry: ThreadRegistry | null;
  /** The registry's words, and where member 0's read holds start (robust only). */
  private readonly reg32: Int32Array;
  private readonly holds: number;
  private readonly self: MemberRef;
  /** (domain + 1) << 24: OR in k for this array's read-hold entry of lock k. */
  private readonly entryHigh: number;

  constructor(i32: Int32Array, base: number, stride: number, count: number, options: RwLockOptions = {}) {
    const name = options.name ?? 'RwLock';
    checkInt(`${name} stride`, stride, 1, 1 << 20);
    const registry = checkRegistryOption(name, options.registry);
    checkInt(`${name} count`, count, 1, registry !== null ? MAX_ROBUST_LOCK_INDEX + 1 : 2 ** 31 - 1);
    checkSharedWords(name, i32, base, (count - 1) * stride + 1);
    this.domain = registry !== null ? checkInt(`${name} domain`, options.domain ?? 0, 0, MAX_DOMAIN) : 0;
    this.i32 = i32;
    this.base = base;
    this.stride = stride;
    this.count = count;
    this.stats = options.stats ?? null;
    this.name = name;
    this.registry = registry;
    this.reg32 = registry !== null ? registry.i32 : i32;
    this.holds = registry !== null ? registry.holdsAt(0) : 0;
    this.self = registry !== null ? registry.selfRef() : { member: -1 };
    this.entryHigh = readHoldEntry(this.domain, 0);
  }

  private label(k: number): string {
    return this.count === 1 ? this.name : `${this.name}[${k}]`;
  }

  /** Word index of lock k. No bounds check: callers pass indices they validated once. */
  at(k: number): number {
    return this.base + k * this.stride;
  }

  /** Resets lock k to free (also a not-recoverable one). Only while no thread uses it. */
  reset(k: number): void {
    checkInt(`${this.name} lock`, k, 0, this.count - 1);
    Atomics.store(this.i32, this.at(k), 0);
  }

  // ------------------------------------------------------------------------------------------
  // Read side

  /**
   * Takes lock k for read if no writer (or recovery) keeps readers out: one compareExchange when
   * the lock is free (robust: plus the list entry's store). Never takes over a dead writer (false);
   * throws LockNotRecoverableError on a not-recoverable lock.
   */
  tryReadLock(k: number): boolean {
    if (this.registry !== null) return this.tryReadLockRobust(k);
    const i = this.at(k);
    // Guess "free" first: the compareExchange returns the word either way, so the common
    // uncontended case costs one Atomics op instead of a load and then a compareExchange.
    const v = Atomics.compareExchange(this.i32, i, 0, 1);
    let ok = v === 0;
    if (!ok) {
      if (v === NOT_RECOVERABLE) throw new LockNotRecoverableError(this.label(k));
      if ((v & READ_BLOCKED) !== 0 || (v & LOW) === LOW) return false;
      ok = Atomics.compareExchange(this.i32, i, v, v + 1) === v;
    }
    if (ok && this.stats !== null) this.stats.acquisitions++;
    return ok;
  }

  /** Rule R1: the entry first (one store), then the count (one CAS). Never takes over. */
  private tryReadLockRobust(k: number): boolean {
    const i = this.at(k);
    const listed = this.list(k);
    const v = Atomics.compareExchange(this.i32, i, 0, 1);
    if (v !== 0 && ((v & READ_BLOCKED) !== 0 || (v & LOW) === LOW || Atomics.compareExchange(this.i32, i, v, v + 1) !== v)) {
      Atomics.store(this.reg32, listed, 0);
      if (v === NOT_RECOVERABLE) throw new LockNotRecoverableError(this.label(k));
      return false;
    }
    if (this.stats !== null) this.stats.acquisitions++;
    return true;
  }

  /**
   * Takes lock k for read. With a registry the calling thread must have joined it, and the call
   * answers 'owner-died' when it took over a dead writer's lock (the lock is then the caller's alone
   * until markConsistent(k)) or released dead members' read holds to get in.
   */
  readLock(k: number, timeoutMs = Infinity): LockResult {
    if (this.tryReadLock(k)) return 'acquired';
    return this.acquireSlow(k, false, timeoutMs);
  }

  /** Releases the caller's read hold of lock k; the last reader out wakes parked waiters. */
  readUnlock(k: number): void {
    const i = this.at(k);
    let listed = -1;
    if (this.registry !== null) {
      // The thread's own entries are written only by itself while it lives: plain reads suffice.
      listed = this.findOwn(k);
      if (listed < 0) {
        throw new LockMisuseError(`${this.label(k)}: readUnlock() by a thread that does not hold it for read (no entry in its member's read-hold list)`);
      }
    }
    // Guess "the only reader, nobody waiting" (word 1): one compareExchange, which also returns the
    // word to start from when the guess is wrong.
    const v = Atomics.compareExchange(this.i32, i, 1, 0);
    if (v !== 1) this.readUnlockSlow(k, i, v);
    // Rule R1: the entry goes only after the count has.
    if (listed >= 0) Atomics.store(this.reg32, listed, 0);
  }

  private readUnlockSlow(k: number, i: number, v: number): void {
    for (;;) {
      if ((v & (WRITER | NOT_RECOVERABLE)) !== 0 || (v & LOW) === 0) {
        throw new LockMisuseError(`${this.label(k)}: readUnlock() of a lock that is not read-held`);
      }
      if ((v & INCONSISTENT) !== 0) {
        // Only the reader that took the lock over holds it while INCONSISTENT: it leaves it unrepaired.
        if (Atomics.compareExchange(this.i32, i, v, NOT_RECOVERABLE) !== v) {
          v = Atomics.load(this.i32, i);
          continue;
        }
        Atomics.notify(this.i32, i);
        return;
      }
      const last = (v & LOW) === 1;
      // The last reader out drops the waiter bit (and wakes the sleepers); RECLAIM stays for its owner.
      const next = last ? v & RECLAIM : v - 1;
      const c = Atomics.compareExchange(this.i32, i, v, next);
      if (c !== v) {
        v = c;
        continue;
      }
      if (last && (v & WAITERS) !== 0) Atomics.notify(this.i32, i);
      return;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Write side

  /** One compareExchange. Never takes over a dead holder (false); throws on a not-recoverable lock. */
  tryWriteLock(k: number): boolean {
    const v = Atomics.compareExchange(this.i32, this.at(k), 0, WRITER | currentOwnerId());
    if (v === 0) {
      if (this.stats !== null) this.stats.acquisitions++;
      return true;
    }
    if (v === NOT_RECOVERABLE) throw new LockNotRecoverableError(this.label(k));
    return false;
  }

  /**
   * Takes lock k for write. With a registry, answers 'owner-died' when it took over from a dead
   * writer or released a dead member's read hold: repair, then markConsistent(k) before writeUnlock(k).
   */
  writeLock(k: number, timeoutMs = Infinity): LockResult {
    if (this.tryWriteLock(k)) return 'acquired';
    return this.acquireSlow(k, true, timeoutMs);
  }

  /**
   * Releases the caller's write hold of lock k. Released after an 'owner-died' takeover without
   * markConsistent(k), the lock becomes not recoverable.
   */
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
    if ((c & ~WAITERS) === (me | INCONSISTENT)) {
      Atomics.store(this.i32, i, NOT_RECOVERABLE);
      Atomics.notify(this.i32, i);
      return;
    }
    if ((c & WRITER) === 0) throw new LockMisuseError(`${this.label(k)}: writeUnlock() of a lock that is not write-held`);
    throw new LockMisuseError(`${this.label(k)}: writeUnlock() by owner ${currentOwnerId()}, but owner ${c & LOW} holds it`);
  }

  /**
   * The pthread_mutex_consistent analogue for lock k, by its holder: the writer, or the one reader
   * that took it over.
   */
  markConsistent(k: number): void {
    const i = this.at(k);
    const me = currentOwnerId();
    for (;;) {
      const v = Atomics.load(this.i32, i);
      if ((v & INCONSISTENT) === 0 || v === NOT_RECOVERABLE) {
        throw new LockMisuseError(`${this.label(k)}: markConsistent() on a lock that is not inconsistent (it was not taken over from a dead holder)`);
      }
      if ((v & WRITER) !== 0 ? (v & LOW) !== me : (v & LOW) !== 1 || this.findOwn(k) < 0) {
        throw new LockMisuseError(`${this.label(k)}: markConsistent() by owner ${me}, which does not hold it`);
      }
      // A reader holder lets the readers that waited on INCONSISTENT in: drop the waiter bit, wake them.
      const next = (v & WRITER) !== 0 ? v & ~INCONSISTENT : v & ~(INCONSISTENT | WAITERS);
      if (Atomics.compareExchange(this.i32, i, v, next) !== v) continue;
      if (next !== (v & ~INCONSISTENT)) Atomics.notify(this.i32, i);
      return;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Diagnostics

  /** Writer's owner id (0 when not write-held). Diagnostic snapshot. */
  writer(k: number): number {
    const v = Atomics.load(this.i32, this.at(k));
    return (v & WRITER) !== 0 && v !== NOT_RECOVERABLE ? v & LOW : 0;
  }

  /** Readers holding it now (0 when free or write-held). Diagnostic snapshot. */
  readers(k: number): number {
    const v = Atomics.load(this.i32, this.at(k));
    return (v & (WRITER | NOT_RECOVERABLE)) !== 0 ? 0 : v & LOW;
  }

  /** Some thread may be parked on lock k's word (its waiter bit). Diagnostic snapshot. */
  hasWaiters(k: number): boolean {
    const v = Atomics.load(this.i32, this.at(k));
    return v !== NOT_RECOVERABLE && (v & WAITERS) !== 0;
  }

  /** Lock k was taken over from a dead holder and not yet marked consistent. */
  isInconsistent(k: number): boolean {
    const v = Atomics.load(this.i32, this.at(k));
    return v !== NOT_RECOVERABLE && (v & INCONSISTENT) !== 0;
  }

  /** Lock k was released unrepaired after a takeover: unusable until reset(k). */
  isNotRecoverable(k: number): boolean {
    return Atomics.load(this.i32, this.at(k)) === NOT_RECOVERABLE;
  }

  /**
   * Lock k may be held by a dead thread (for fsck): its writer is dead, or it is read-held and a dead
   * member lists it. The second is "may": that member may have died just before its count CAS or just
   * after its release CAS; only a reclaim (writeLock) can tell. Always false without a registry.
   */
  heldByDead(k: number): boolean {
    const reg = this.registry;
    if (reg === null) return false;
    const v = Atomics.load(this.i32, this.at(k));
    if (v === NOT_RECOVERABLE) return false;
    if ((v & WRITER) !== 0) return reg.isOwnerDead(v & LOW);
    return (v & LOW) !== 0 && reg.listedBy(this.entryHigh | k, true);
  }

  // ------------------------------------------------------------------------------------------
  // Slow path and recovery

  private acquireSlow(k: number, exclusive: boolean, timeoutMs: number): LockResult {
    const i = this.at(k);
    const me = currentOwnerId();
    const reg = this.registry;
    const label = this.label(k);
    const waiter = new SpinThenPark(POLICY, this.stats, timeoutMs, label, reg !== null ? ROBUST_PARK_SLICE_MS : PARK_SLICE_MS);
    const robustReader = reg !== null && !exclusive;
    let listed = -1;
    try {
      for (;;) {
        const v = Atomics.load(this.i32, i);
        if (v === NOT_RECOVERABLE) throw new LockNotRecoverableError(label);
        const writeHeld = (v & WRITER) !== 0;
        if (writeHeld && (v & LOW) === me) {
          throw new LockMisuseError(`${label}: ${exclusive ? 'writeLock' : 'readLock'}() by owner ${me}, which already holds it for write`);
        }
        if (exclusive ? (v & ~WAITERS) === 0 : (v & READ_BLOCKED) === 0 && (v & LOW) !== LOW) {
          if (robustReader && listed < 0) listed = this.list(k);
          // A thread that has parked keeps the waiter bit on when it acquires: others may still sleep.
          const keep = waiter.parked ? WAITERS : v & WAITERS;
          const next = exclusive ? WRITER | keep | me : (v + 1) | keep;
          if (Atomics.compareExchange(this.i32, i, v, next) === v) {
            listed = -1;
            if (this.stats !== null) this.stats.acquisitions++;
            return 'acquired';
          }
          continue;
        }
        // Rule R2: a reader that is kept out is not listed while it waits.
        if (listed >= 0) {
          Atomics.store(this.reg32, listed, 0);
          listed = -1;
        }
        if (reg !== null && waiter.parking) {
          const r = this.recoverFromDead(k, i, v, exclusive, waiter, timeoutMs);
          if (r === RETRY) continue;
          if (r !== null) {
            if (this.stats !== null) {
              this.stats.acquisitions++;
              if (r === 'owner-died') this.stats.takeovers++;
            }
            return r;
          }
        }
        if (!waiter.wait(this.i32, i, v, WAITERS)) throw this.timeout(k, v, timeoutMs);
      }
    } finally {
      if (listed >= 0) Atomics.store(this.reg32, listed, 0);
    }
  }

  private timeout(k: number, v: number, timeoutMs: number): LockTimeoutError {
    const writeHeld = (v & WRITER) !== 0;
    const holder = writeHeld ? `writer owner ${v & LOW}` : `${v & LOW} reader(s)`;
    return new LockTimeoutError(this.label(k), writeHeld ? v & LOW : 0, timeoutMs, holder);
  }

  /**
   * A waiter's look at the registry (before each park): take over a dead writer, clear an orphaned
   * RECLAIM bit, or reclaim dead readers' holds. null: nothing to do, wait on.
   */
  private recoverFromDead(k: number, i: number, v: number, exclusive: boolean, waiter: SpinThenPark, timeoutMs: number): LockResult | typeof RETRY | null {
    const reg = this.registry!;
    if ((v & WRITER) !== 0) {
      if (!reg.isOwnerDead(v & LOW)) return null;
      // The dead writer cannot touch the word again: one CAS decides which waiter takes it over.
      const listed = exclusive ? -1 : this.list(k);
      const keep = (v & WAITERS) | (waiter.parked ? WAITERS : 0);
      const next = exclusive ? WRITER | INCONSISTENT | keep | currentOwnerId() : INCONSISTENT | keep | 1;
      if (Atomics.compareExchange(this.i32, i, v, next) === v) return 'owner-died';
      if (listed >= 0) Atomics.store(this.reg32, listed, 0);
      return RETRY;
    }
    const entry = this.entryHigh | k;
    if ((v & RECLAIM) !== 0) {
      if (!reg.reclaimOrphaned(entry)) return null;
      Atomics.compareExchange(this.i32, i, v, v & ~RECLAIM);
      return RETRY;
    }
    if ((v & LOW) === 0 || !reg.listedBy(entry, true)) return null;
    return this.reclaim(k, i, exclusive, waiter, timeoutMs);
  }

  /**
   * Releases every dead member's read hold of lock k and takes the lock (see the header for why this
   * is sound). null: another reclaim is under way, or the lock changed so that none is needed.
   */
  private reclaim(k: number, i: number, exclusive: boolean, waiter: SpinThenPark, timeoutMs: number): LockResult | typeof RETRY | null {
    const reg = this.registry!;
    const entry = this.entryHigh | k;
    const label = this.label(k);
    if (!reg.tryBeginReclaim(entry)) return null;
    let listed = -1;
    /** Set once this reclaim owns the RECLAIM bit; any way out but the final CAS must drop it. */
    let owned = false;
    try {
      // 1. Keep new readers out (or adopt the bit a dead reclaimer of this lock left: we hold the
      //    reclaim lock now, so nobody else can have set it).
      for (;;) {
        const v = Atomics.load(this.i32, i);
        if (v === NOT_RECOVERABLE) throw new LockNotRecoverableError(label);
        if ((v & WRITER) !== 0) return RETRY;
        if ((v & RECLAIM) === 0) {
          if ((v & LOW) === 0) return RETRY;
          if (Atomics.compareExchange(this.i32, i, v, v | RECLAIM) !== v) continue;
        }
        owned = true;
        break;
      }
      // 2. Wait until no live member lists the lock: live holders finish, live would-be readers back off.
      let nap = RECLAIM_NAP_MS;
      while (reg.listedBy(entry, false)) {
        const left = waiter.deadline - performance.now();
        if (left <= 0) {
          owned = false;
          throw this.timeout(k, this.dropReclaim(i), timeoutMs);
        }
        checkCanPark(label);
        Atomics.wait(this.i32, i, Atomics.load(this.i32, i), Math.min(nap, left));
        if (nap < RECLAIM_NAP_MAX_MS) nap *= 2;
      }
      // 3. What is left in the count is dead members' holds: replace it by ours in one CAS.
      for (;;) {
        const v = Atomics.load(this.i32, i);
        if ((v & RECLAIM) === 0) {
          owned = false; // judged orphaned meanwhile: start over
          return RETRY;
        }
        const died = (v & LOW) !== 0 || (v & INCONSISTENT) !== 0;
        const keep = (v & WAITERS) | (waiter.parked ? WAITERS : 0);
        if (!exclusive && listed < 0) listed = this.list(k);
        const flag = died ? INCONSISTENT : 0;
        const next = exclusive ? WRITER | flag | keep | currentOwnerId() : 1 | flag | keep;
        if (Atomics.compareExchange(this.i32, i, v, next) !== v) continue;
        owned = false;
        listed = -1;
        reg.clearDeadEntries(entry);
        // Readers that waited out the reclaim may join a consistent read hold.
        if (!exclusive && !died && keep !== 0) Atomics.notify(this.i32, i);
        return died ? 'owner-died' : 'acquired';
      }
    } finally {
      if (owned) this.dropReclaim(i);
      if (listed >= 0) Atomics.store(this.reg32, listed, 0);
      reg.endReclaim();
    }
  }

  /** Clears RECLAIM (a reclaim that gave up); returns the word it left. */
  private dropReclaim(i: number): number {
    for (;;) {
      const v = Atomics.load(this.i32, i);
      if ((v & RECLAIM) === 0) return v;
      if (Atomics.compareExchange(this.i32, i, v, v & ~RECLAIM) === v) {
        if ((v & WAITERS) !== 0) Atomics.notify(this.i32, i);
        return v & ~RECLAIM;
      }
    }
  }

  /**
   * Recovery of a dead member's read holds in this array (domain): for each lock k it lists, takes k
   * for write — which releases the dead holds (reclaim) — runs `repair(k, result)` under the write
   * lock, marks it consistent if it was 'owner-died', unlocks, and clears the entry, which is stale
   * once k has been write-held. Then ThreadRegistry.finishRecovery(member) can free the member.
   * Returns the locks it went through. A repair that throws leaves that lock not recoverable.
   */
  recoverReadHolds(member: number, repair: (k: number, result: LockResult) => void, timeoutMs = Infinity): number[] {
    const reg = this.registry;
    if (reg === null) throw new LockMisuseError(`${this.name}: recoverReadHolds() needs a lock built with a registry`);
    const state = reg.state(member);
    if (state !== 'dead' && state !== 'recovering') {
      throw new LockMisuseError(`${this.name}: recoverReadHolds() of member ${member}, which is ${state}, not dead or recovering`);
    }
    const done: number[] = [];
    const at = reg.holdsAt(member);
    const mine = reg.readHoldsOf(member).filter((h) => h.domain === this.domain && h.index < this.count).map((h) => h.index);
    for (const k of new Set(mine)) {
      const result = this.writeLock(k, timeoutMs);
      try {
        repair(k, result);
        if (result === 'owner-died') this.markConsistent(k);
      } finally {
        const entry = this.entryHigh | k;
        for (let j = 0; j < READ_HOLD_ENTRIES; j++) Atomics.compareExchange(this.reg32, at + j, entry, 0);
        this.writeUnlock(k);
      }
      done.push(k);
    }
    return done;
  }

  /** Frees a write lock still held by an owner known to be dead; wakes all waiters. */
  forceWriteUnlock(k: number, deadOwner: number): boolean {
    const i = this.at(k);
    const v = Atomics.load(this.i32, i);
    if ((v & WRITER) === 0 || v === NOT_RECOVERABLE || (v & LOW) !== deadOwner) return false;
    if (Atomics.compareExchange(this.i32, i, v, 0) !== v) return false;
    Atomics.notify(this.i32, i);
    return true;
  }

  // ------------------------------------------------------------------------------------------
  // The calling thread's read-hold list

  /** Writes this thread's entry for lock k into a free place of its list; returns its word index. */
  private list(k: number): number {
    const m = this.self.member;
    if (m < 0) {
      throw new LockMisuseError(`${this.label(k)}: read lock by a thread that has not joined its ThreadRegistry (a robust reader must list its holds in its member)`);
    }
    const h = this.holds + m * MEMBER_WORDS;
    const r = this.reg32;
    for (let j = 0; j < READ_HOLD_ENTRIES; j++) {
      if (r[h + j] === 0) {
        Atomics.store(r, h + j, this.entryHigh | k);
        return h + j;
      }
    }
    throw new LockMisuseError(`${this.label(k)}: read lock by member ${m}, which already holds ${READ_HOLD_ENTRIES} robust read locks (its list is full)`);
  }

  /** Word index of this thread's entry for lock k, or -1. */
  private findOwn(k: number): number {
    const m = this.self.member;
    if (m < 0) return -1;
    const h = this.holds + m * MEMBER_WORDS;
    const e = this.entryHigh | k;
    for (let j = 0; j < READ_HOLD_ENTRIES; j++) if (this.reg32[h + j] === e) return h + j;
    return -1;
  }
}

/** A single shared/exclusive lock word. */
export class RwLock {
  static readonly WORDS = 1;
  private readonly locks: RwLockArray;

  constructor(i32: Int32Array, index: number, options: RwLockOptions = {}) {
    this.locks = new RwLockArray(i32, index, 1, 1, { ...options, name: options.name ?? `RwLock@${index}` });
  }

  /** Resets the word to free (also a not-recoverable one). Only while no thread uses it. */
  static init(i32: Int32Array, index: number): void {
    checkSharedWords('RwLock', i32, index, 1);
    Atomics.store(i32, index, 0);
  }

  get name(): string { return this.locks.name; }
  /** The one-lock array underneath (its word is array.i32[array.at(0)]); async.ts waits on it. */
  get array(): RwLockArray { return this.locks; }
  get domain(): number { return this.locks.domain; }
  /** Takes it for read if no writer (or recovery) keeps readers out; never takes over a dead writer. */
  tryReadLock(): boolean { return this.locks.tryReadLock(0); }
  /** Takes it for read; 'owner-died' when it took over a dead writer or released dead readers' holds. */
  readLock(timeoutMs = Infinity): LockResult { return this.locks.readLock(0, timeoutMs); }
  /** Releases the caller's read hold. */
  readUnlock(): void { this.locks.readUnlock(0); }
  /** Takes it for write if it is free: one compareExchange; never takes over a dead holder. */
  tryWriteLock(): boolean { return this.locks.tryWriteLock(0); }
  /** Takes it for write; 'owner-died': repair, then markConsistent() before writeUnlock(). */
  writeLock(timeoutMs = Infinity): LockResult { return this.locks.writeLock(0, timeoutMs); }
  /** Releases the caller's write hold (unrepaired after a takeover: not recoverable). */
  writeUnlock(): void { this.locks.writeUnlock(0); }
  /** By the holder of a lock taken 'owner-died': what it protects is repaired (pthread_mutex_consistent). */
  markConsistent(): void { this.locks.markConsistent(0); }
  /** Writer's owner id (0 when not write-held). Diagnostic snapshot. */
  writer(): number { return this.locks.writer(0); }
  /** Readers holding it now (0 when free or write-held). Diagnostic snapshot. */
  readers(): number { return this.locks.readers(0); }
  /** Some thread may be parked on the word (its waiter bit). Diagnostic snapshot. */
  hasWaiters(): boolean { return this.locks.hasWaiters(0); }
  /** Taken over from a dead holder and not yet marked consistent. */
  isInconsistent(): boolean { return this.locks.isInconsistent(0); }
  /** Released unrepaired after a takeover: unusable until init(). */
  isNotRecoverable(): boolean { return this.locks.isNotRecoverable(0); }
  /** May be held by a dead thread (a dead writer, or a dead member listing a read hold). For fsck. */
  heldByDead(): boolean { return this.locks.heldByDead(0); }
  /**
   * Recovery of dead member `member`'s read hold, if it lists one: write-locks (releasing the hold),
   * runs `repair`, unlocks (see RwLockArray.recoverReadHolds). True if it did.
   */
  recoverReadHolds(member: number, repair: (result: LockResult) => void, timeoutMs = Infinity): boolean {
    return this.locks.recoverReadHolds(member, (_, r) => repair(r), timeoutMs).length > 0;
  }
  /** Frees a write lock still held by `deadOwner`, known to be dead; wakes all waiters. */
  forceWriteUnlock(deadOwner: number): boolean { return this.locks.forceWriteUnlock(0, deadOwner); }
}
