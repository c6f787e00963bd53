/**
 * ThreadRegistry and the robust side of every lock, in one thread. Other threads are simulated the
 * way test/locks.test.ts does it — with setOwnerId, since owner ids are what lock words record — and
 * with registry.useMember for the member whose read-hold list a robust reader writes. The same rules
 * with real workers that really die are in locks-robust-workers.test.ts.
 *
 * Every robust behaviour has its control beside it: the same lock without a registry waits out its
 * timeout.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  LockMisuseError, LockNotRecoverableError, LockTimeoutError, LockWouldBlockError, MEMBER_WORDS, Mutex, OwnerWordLock,
  REGISTRY_HEADER_WORDS, RwLock, RwLockArray, SeqCount, SeqLock, SeqWriteAbandonedError, SpinLock, ThreadRegistry,
  currentThreadId, resetParkProbe, setOwnerId,
} from '../src/locks/index.js';
import { ME, words } from './support/owners.js';
import { ConfigError } from '../src/shared/validate.js';
import { countAtomics } from '../src/bench/atomics-count.js';

const A = ME + 100;
const B = ME + 200;

/** Every acquisition in this file is bounded: a broken lock must fail the test, not hang the worker. */
const T = 2_000;

function registry(members = 4): ThreadRegistry {
  const w = words(ThreadRegistry.words(members));
  ThreadRegistry.init(w, 0, members);
  return new ThreadRegistry(w, 0, members);
}

/** Runs `fn` as owner `id` (and, for robust readers, as `member`), then switches back. */
function as<T>(id: number, fn: () => T, reg?: ThreadRegistry, member?: number): T {
  const before = reg?.selfMember ?? -1;
  setOwnerId(id);
  if (reg !== undefined && member !== undefined) reg.useMember(member);
  try {
    return fn();
  } finally {
    setOwnerId(ME);
    if (reg !== undefined && member !== undefined) reg.useMember(before);
  }
}

/** Joins `reg` as owner `id` with a made-up thread id; returns the member. */
function joinAs(reg: ThreadRegistry, id: number, threadId: number): number {
  const before = reg.selfMember;
  const m = as(id, () => reg.join({ threadId }));
  reg.useMember(before);
  return m;
}

function timed<T>(fn: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t0 };
}

afterEach(() => setOwnerId(ME));

describe('ThreadRegistry', () => {
  it('lays out a 16-word header and one 16-word line per member; validates its arguments', () => {
    expect(MEMBER_WORDS).toBe(16);
    expect(ThreadRegistry.words(1)).toBe(REGISTRY_HEADER_WORDS + 16);
    expect(ThreadRegistry.words(8)).toBe(16 + 8 * 16);
    expect(() => ThreadRegistry.words(0)).toThrow('ThreadRegistry members: must be an integer in [1, 4096], got 0');
    const w = words(ThreadRegistry.words(2));
    expect(() => new ThreadRegistry(w, 0, 2)).toThrow(/no registry at word 0: call ThreadRegistry.init first/);
    ThreadRegistry.init(w, 0, 2);
    expect(() => new ThreadRegistry(w, 0, 1)).toThrow('ThreadRegistry members: must match the table laid out at word 0 (2), got 1');
    expect(() => ThreadRegistry.init(words(10), 0, 2)).toThrow(ConfigError);
    expect(() => new ThreadRegistry(new Int32Array(48), 0, 2)).toThrow(/non-shared/);
    const r = new ThreadRegistry(w, 0, 2);
    expect(() => r.state(2)).toThrow('member: must be an integer in [0, 1], got 2');
    expect(() => r.markThreadDead(-1)).toThrow(/threadId: must be an integer/);
  });

  it('join claims free members with this thread\'s owner id, thread id and a new epoch; -1 when full', () => {
    const r = registry(3);
    expect(r.selfMember).toBe(-1);
    const m0 = r.join();
    expect(m0).toBe(0);
    expect(r.selfMember).toBe(0);
    expect(r.state(0)).toBe('alive');
    expect(r.ownerOf(0)).toBe(ME);
    expect(r.threadIdOf(0)).toBe(currentThreadId());
    expect(r.epochOf(0)).toBe(1);
    expect(joinAs(r, A, 7)).toBe(1);
    expect(r.ownerOf(1)).toBe(A);
    expect(r.threadIdOf(1)).toBe(7);
    expect(joinAs(r, B, 8)).toBe(2);
    expect(r.join()).toBe(-1);
    expect(r.membersOf(A)).toEqual([1]);
    expect(r.state(2)).toBe('alive');
    // Another object over the same table in this thread sees the same "self".
    const again = new ThreadRegistry(r.i32, r.index, 3);
    expect(again.selfMember).toBe(0);
  });

  it('leave frees a live member (reusable, epoch bumped); leave of a member that is not alive is misuse', () => {
    const r = registry(2);
    const m = r.join();
    r.leave(m);
    expect(r.state(m)).toBe('free');
    expect(r.ownerOf(m)).toBe(0);
    expect(r.threadIdOf(m)).toBe(-1);
    expect(r.selfMember).toBe(-1);
    expect(() => r.leave(m)).toThrow(LockMisuseError);
    expect(() => r.leave(m)).toThrow('ThreadRegistry member 0: leave() of a member that is free, not alive');
    expect(r.join()).toBe(m);
    expect(r.epochOf(m)).toBe(2);
  });

  it('markDead / markThreadDead / markOwnerDead move alive members to dead, each once', () => {
    const r = registry(4);
    const a1 = joinAs(r, A, 11);
    const a2 = joinAs(r, A, 11);
    const b = joinAs(r, B, 12);
    expect(r.isOwnerDead(A)).toBe(false);
    expect(r.markThreadDead(11)).toEqual([a1, a2]);
    expect(r.markThreadDead(11)).toEqual([]);
    expect(r.state(a1)).toBe('dead');
    expect(r.isOwnerDead(A)).toBe(true);
    expect(r.isOwnerDead(B)).toBe(false);
    expect(r.deadMembers()).toEqual([a1, a2]);
    expect(r.markDead(b)).toBe(true);
    expect(r.markDead(b)).toBe(false);
    expect(r.markOwnerDead(B)).toEqual([]);
    const c = joinAs(r, ME + 300, 13);
    expect(r.markOwnerDead(ME + 300)).toEqual([c]);
  });

  it('recovery: exactly one beginRecovery wins; finishRecovery frees the member for reuse', () => {
    const r = registry(2);
    const a = joinAs(r, A, 21);
    expect(r.beginRecovery(a)).toBe(false); // alive: nothing to recover
    expect(() => r.finishRecovery(a)).toThrow(/not recovering \(call beginRecovery first\)/);
    r.markDead(a);
    expect(r.beginRecovery(a)).toBe(true);
    expect(r.beginRecovery(a)).toBe(false);
    expect(r.state(a)).toBe('recovering');
    expect(r.isOwnerDead(A)).toBe(true);
    r.finishRecovery(a);
    expect(r.state(a)).toBe('free');
    expect(r.isOwnerDead(A)).toBe(false);
    expect(r.deadMembers()).toEqual([]);
    expect(joinAs(r, B, 22)).toBe(a);
    expect(r.epochOf(a)).toBe(2);
  });

  it('refuses a join with the owner id of a dead member not yet recovered (its locks would look dead)', () => {
    const r = registry(3);
    const a = joinAs(r, A, 23);
    r.markDead(a);
    expect(() => joinAs(r, A, 24)).toThrow(`ThreadRegistry: join() by owner id ${A}, which dead member(s) ${a} still have (not yet recovered)`);
    expect(r.state(1)).toBe('free');
    r.beginRecovery(a);
    r.finishRecovery(a);
    expect(joinAs(r, A, 24)).toBe(0);
  });
});

const OWNER_WORD_LOCKS = [['SpinLock', SpinLock], ['Mutex', Mutex]] as const;

for (const [name, Lock] of OWNER_WORD_LOCKS) {
  describe(`robust ${name}`, () => {
    function deadHolder(): { reg: ThreadRegistry; l: OwnerWordLock; member: number } {
      const reg = registry();
      reg.join();
      const member = joinAs(reg, A, 31);
      const l = new Lock(words(2), 0, { registry: reg });
      as(A, () => l.lock(T));
      return { reg, l, member };
    }

    it('a waiter takes over from a dead holder at once and is told owner-died; control: without a registry it times out', () => {
      const { reg, l, member } = deadHolder();
      expect(l.heldByDead()).toBe(false);
      expect(() => l.lock(40)).toThrow(LockTimeoutError); // alive: waits out its timeout
      reg.markDead(member);
      expect(l.heldByDead()).toBe(true);
      expect(l.tryLock()).toBe(false); // try never takes over
      const { value, ms } = timed(() => l.lock(5_000));
      expect(value).toBe('owner-died');
      expect(ms).toBeLessThan(1_000);
      expect(l.owner()).toBe(ME);
      expect(l.isInconsistent()).toBe(true);
      expect(l.heldByDead()).toBe(false);
      // Negative control: the same word through a lock built without the registry.
      const plain = new Lock(l.i32, 0);
      as(B, () => expect(() => plain.lock(40)).toThrow(LockTimeoutError));
    });

    it('markConsistent then unlock: the lock works normally again', () => {
      const { l, reg, member } = deadHolder();
      reg.markDead(member);
      expect(l.lock(T)).toBe('owner-died');
      l.markConsistent();
      expect(l.isInconsistent()).toBe(false);
      l.unlock();
      expect(l.lock(T)).toBe('acquired');
      expect(() => l.markConsistent()).toThrow(/not inconsistent/);
      l.unlock();
      expect(l.i32[0]).toBe(0);
    });

    it('unlock without markConsistent makes it not recoverable: every acquire throws until init()', () => {
      const { l, reg, member } = deadHolder();
      reg.markDead(member);
      expect(l.lock(T)).toBe('owner-died');
      l.unlock();
      expect(l.isNotRecoverable()).toBe(true);
      expect(l.isLocked()).toBe(false);
      expect(() => l.lock(T)).toThrow(LockNotRecoverableError);
      expect(() => l.lock(T)).toThrow(`${l.name}: not recoverable`);
      expect(() => l.tryLock()).toThrow(LockNotRecoverableError);
      expect(() => as(B, () => l.lock(10))).toThrow(LockNotRecoverableError);
      expect(() => l.unlock()).toThrow(LockMisuseError);
      expect(l.forceUnlock(A)).toBe(false);
      Lock.init(l.i32, 0);
      expect(l.lock(T)).toBe('acquired');
      l.unlock();
    });

    it('markConsistent by anyone but the holder is misuse; forceUnlock still frees a dead owner\'s lock', () => {
      const { l, reg, member } = deadHolder();
      expect(() => l.markConsistent()).toThrow(`${l.name}: markConsistent() by owner ${ME}, which does not hold it`);
      reg.markDead(member);
      expect(l.forceUnlock(A)).toBe(true);
      expect(l.lock(T)).toBe('acquired');
      l.unlock();
    });

    it('rejects a registry option that is not a ThreadRegistry', () => {
      expect(() => new Lock(words(1), 0, { registry: {} as never })).toThrow(`${name}@0 registry: must be a ThreadRegistry`);
    });
  });
}

describe('robust RwLock, write side', () => {
  it('a writer or a reader takes over a dead writer; the reader then has the lock alone until markConsistent', () => {
    const reg = registry();
    const me = reg.join();
    const a = joinAs(reg, A, 41);
    const b = joinAs(reg, B, 42);
    const l = new RwLock(words(1), 0, { registry: reg });
    as(A, () => l.writeLock(T));
    reg.markDead(a);
    expect(l.heldByDead()).toBe(true);
    expect(l.readLock(5_000)).toBe('owner-died');
    expect(l.readers()).toBe(1);
    expect(l.isInconsistent()).toBe(true);
    expect(reg.readHoldsOf(me)).toEqual([{ domain: 0, index: 0 }]);
    // Nobody else gets in while it is inconsistent, not even a reader.
    expect(as(B, () => l.tryReadLock(), reg, b)).toBe(false);
    expect(() => as(B, () => l.readLock(30), reg, b)).toThrow(LockTimeoutError);
    expect(reg.readHoldsOf(b)).toEqual([]);
    expect(() => as(B, () => l.markConsistent(), reg, b)).toThrow(/which does not hold it/);
    l.markConsistent();
    expect(as(B, () => l.tryReadLock(), reg, b)).toBe(true);
    as(B, () => l.readUnlock(), reg, b);
    l.readUnlock();
    expect(reg.readHoldsOf(me)).toEqual([]);
    expect(l.writeLock(T)).toBe('acquired');
    l.writeUnlock();
  });

  it('write unlock of a takeover without markConsistent: not recoverable for both sides', () => {
    const reg = registry();
    reg.join();
    const a = joinAs(reg, A, 43);
    const w = words(1);
    const l = new RwLock(w, 0, { registry: reg });
    as(A, () => l.writeLock(T));
    reg.markDead(a);
    expect(l.writeLock(T)).toBe('owner-died');
    l.writeUnlock();
    expect(l.isNotRecoverable()).toBe(true);
    expect(() => l.readLock(T)).toThrow(LockNotRecoverableError);
    expect(() => l.tryReadLock()).toThrow(LockNotRecoverableError);
    expect(() => l.writeLock(T)).toThrow(LockNotRecoverableError);
    expect(() => l.tryWriteLock()).toThrow(LockNotRecoverableError);
    expect(l.writer()).toBe(0);
    expect(l.readers()).toBe(0);
    RwLock.init(w, 0);
    expect(l.readLock(T)).toBe('acquired');
    l.readUnlock();
  });
});

describe('robust RwLock, read side (the robust list)', () => {
  function setUp(): { reg: ThreadRegistry; me: number; a: number; b: number; l: RwLockArray } {
    const reg = registry();
    const me = reg.join();
    const a = joinAs(reg, A, 51);
    const b = joinAs(reg, B, 52);
    const l = new RwLockArray(words(64), 0, 16, 4, { registry: reg, name: 'records', domain: 5 });
    return { reg, me, a, b, l };
  }

  it('a reader lists its hold in its member while it holds; readers must have joined', () => {
    const { reg, me, a, l } = setUp();
    expect(l.readLock(2, T)).toBe('acquired');
    expect(reg.readHoldsOf(me)).toEqual([{ domain: 5, index: 2 }]);
    as(A, () => l.readLock(2, T), reg, a);
    expect(l.readers(2)).toBe(2);
    l.readUnlock(2);
    expect(reg.readHoldsOf(me)).toEqual([]);
    expect(() => l.readUnlock(2)).toThrow(/does not hold it for read/);
    as(A, () => l.readUnlock(2), reg, a);
    reg.useMember(-1);
    expect(() => l.readLock(1, T)).toThrow(/has not joined its ThreadRegistry/);
    reg.useMember(me);
    for (let i = 0; i < 12; i++) l.readLock(3, T);
    expect(() => l.readLock(3, T)).toThrow(/already holds 12 robust read locks/);
    expect(l.readers(3)).toBe(12);
    for (let i = 0; i < 12; i++) l.readUnlock(3);
    expect(l.readers(3)).toBe(0);
  });

  it('a writer blocked by a dead reader releases its hold and is told owner-died; control: without a registry it times out', () => {
    const { reg, a, l } = setUp();
    as(A, () => l.readLock(1, T), reg, a);
    expect(() => l.writeLock(1, 40)).toThrow(LockTimeoutError);
    reg.markDead(a);
    expect(l.heldByDead(1)).toBe(true);
    const plain = new RwLockArray(l.i32, 0, 16, 4);
    expect(() => as(B, () => plain.writeLock(1, 40))).toThrow(/held by 1 reader/);
    const { value, ms } = timed(() => l.writeLock(1, 5_000));
    expect(value).toBe('owner-died');
    expect(ms).toBeLessThan(1_000);
    expect(l.writer(1)).toBe(ME);
    expect(reg.readHoldsOf(a)).toEqual([]); // the stale entry is cleared
    l.markConsistent(1);
    l.writeUnlock(1);
    expect(l.readLock(1, T)).toBe('acquired');
    l.readUnlock(1);
  });

  it('a dead member listed but not counted (died before its count CAS or after its release CAS) gives acquired, not owner-died', () => {
    const { reg, a, l } = setUp();
    // Died between writing its entry and the count CAS: the entry is there, the count is not.
    const at = reg.holdsAt(a);
    Atomics.store(reg.i32, at, ((5 + 1) << 24) | 2);
    reg.markDead(a);
    // Free lock: the fast path takes it; the stale entry stays until recovery.
    expect(l.writeLock(2, T)).toBe('acquired');
    l.writeUnlock(2);
    // Read-held by a live reader: the writer reclaims, waits that reader out — here it cannot, so it
    // times out and leaves the word as it found it (RECLAIM dropped, count intact).
    const word = l.at(2);
    l.readLock(2, T);
    expect(() => as(B, () => l.writeLock(2, 60))).toThrow(LockTimeoutError);
    expect(l.i32[word]).toBe(1);
    expect(reg.i32[reg.index + 4]).toBe(0); // the reclaim lock is free again
    l.readUnlock(2);
    expect(as(B, () => l.writeLock(2, T))).toBe('acquired');
    as(B, () => l.writeUnlock(2));
  });

  it('a live reader beside a dead one: the writer waits for the live one, then takes the dead hold', () => {
    const { reg, a, b, l } = setUp();
    as(A, () => l.readLock(0, T), reg, a);
    l.readLock(0, T);
    reg.markDead(a);
    expect(() => as(B, () => l.writeLock(0, 60))).toThrow(/held by 2 reader/);
    // While a reclaim waits it keeps new readers out; after giving up, readers are welcome again.
    expect(as(B, () => l.tryReadLock(0), reg, b)).toBe(true);
    as(B, () => l.readUnlock(0), reg, b);
    l.readUnlock(0);
    expect(as(B, () => l.writeLock(0, 5_000))).toBe('owner-died');
    expect(reg.readHoldsOf(a)).toEqual([]);
    as(B, () => { l.markConsistent(0); l.writeUnlock(0); });
  });

  it('read unlock of a takeover (a reader that reclaimed) without markConsistent makes it not recoverable', () => {
    const { reg, a, b, l } = setUp();
    as(A, () => l.writeLock(3, T));
    reg.markDead(a);
    expect(as(B, () => l.readLock(3, T), reg, b)).toBe('owner-died');
    as(B, () => l.readUnlock(3), reg, b);
    expect(l.isNotRecoverable(3)).toBe(true);
    expect(() => l.readLock(3, T)).toThrow(`records[3]: not recoverable`);
    l.reset(3);
    expect(l.readLock(3, T)).toBe('acquired');
    l.readUnlock(3);
  });

  it('an orphaned RECLAIM bit (its reclaimer died) is cleared by the next waiter', () => {
    const { reg, a, l } = setUp();
    // A reclaimer (owner A) took the reclaim lock, named lock 1, set RECLAIM over one dead hold, died.
    const d = joinAs(reg, ME + 400, 53);
    as(ME + 400, () => l.readLock(1, T), reg, d);
    Atomics.store(reg.i32, reg.index + 4, A);
    Atomics.store(reg.i32, reg.index + 5, ((5 + 1) << 24) | 1);
    Atomics.or(l.i32, l.at(1), 1 << 28);
    expect(l.tryReadLock(1)).toBe(false); // RECLAIM keeps readers out
    reg.markDead(a);
    reg.markDead(d);
    expect(l.writeLock(1, 5_000)).toBe('owner-died');
    l.markConsistent(1);
    l.writeUnlock(1);
    expect(l.i32[l.at(1)]).toBe(0);
  });

  it('recovery: recoverReadHolds takes every listed lock, repairs, clears the list; then finishRecovery', () => {
    const { reg, a, l } = setUp();
    const other = new RwLockArray(words(4), 0, 1, 4, { registry: reg, name: 'other', domain: 6 });
    as(A, () => { l.readLock(0, T); l.readLock(3, T); other.readLock(1, T); }, reg, a);
    reg.markDead(a);
    expect(reg.beginRecovery(a)).toBe(true);
    expect(() => reg.finishRecovery(a)).toThrow(/still lists 3 read hold\(s\) \(domain 5 lock 0, domain 5 lock 3, domain 6 lock 1\)/);
    const repaired: string[] = [];
    expect(l.recoverReadHolds(a, (k, result) => repaired.push(`${k}:${result}`), T)).toEqual([0, 3]);
    expect(repaired).toEqual(['0:owner-died', '3:owner-died']);
    expect(reg.readHoldsOf(a)).toEqual([{ domain: 6, index: 1 }]);
    expect(other.recoverReadHolds(a, () => {}, T)).toEqual([1]);
    reg.finishRecovery(a);
    expect(reg.state(a)).toBe('free');
    for (const k of [0, 3]) {
      expect(l.readers(k)).toBe(0);
      expect(l.writeLock(k, T)).toBe('acquired');
      l.writeUnlock(k);
    }
    expect(() => l.recoverReadHolds(0, () => {}, T)).toThrow(/which is alive, not dead or recovering/);
  });

  it('validates domain and count of robust arrays', () => {
    const reg = registry();
    expect(() => new RwLockArray(words(4), 0, 1, 4, { registry: reg, domain: 127 })).toThrow('RwLock domain: must be an integer in [0, 126], got 127');
    expect(() => new RwLockArray(words(4), 0, 1, 2 ** 24 + 1, { registry: reg })).toThrow(/RwLock count: must be an integer in \[1, 16777216\]/);
  });
});

describe('robust SeqLock', () => {
  it('a writer takes over a dead writer mid-write and continues its write; readers are told at once', () => {
    const reg = registry();
    reg.join();
    const a = joinAs(reg, A, 61);
    const w = words(4);
    const l = new SeqLock(w, 0, { registry: reg });
    as(A, () => l.writeLock(T));
    expect(l.seq.value()).toBe(1);
    reg.markDead(a);
    const read = timed(() => { try { l.readBegin(5_000); return null; } catch (e) { return e; } });
    expect(read.value).toBeInstanceOf(SeqWriteAbandonedError);
    expect((read.value as SeqWriteAbandonedError).owner).toBe(A);
    expect(read.ms).toBeLessThan(1_000);
    expect(() => l.read(() => 1, { timeoutMs: 5_000 })).toThrow(`the writer (owner ${A}) died mid-write`);
    expect(l.writer.owner()).toBe(A); // a reader never takes over
    expect(l.writeLock(T)).toBe('owner-died');
    expect(l.seq.value()).toBe(1); // the same write, now ours
    l.markConsistent();
    l.writeUnlock();
    expect(l.seq.value()).toBe(2);
    expect(l.read(() => 7, { timeoutMs: T })).toBe(7);
    // Negative control: without a registry the reader waits out its timeout.
    as(B, () => new SeqLock(w, 0).writeLock(T));
    expect(() => new SeqLock(w, 0).readBegin(40)).toThrow(LockTimeoutError);
  });

  it('writeUnlock of a takeover without markConsistent leaves the sequence odd and the lock not recoverable', () => {
    const reg = registry();
    reg.join();
    const a = joinAs(reg, A, 62);
    const l = new SeqLock(words(2), 0, { registry: reg });
    as(A, () => l.writeLock(T));
    reg.markDead(a);
    expect(l.writeLock(T)).toBe('owner-died');
    l.writeUnlock();
    expect(l.seq.value() & 1).toBe(1);
    expect(() => l.readBegin(5_000)).toThrow(LockNotRecoverableError);
    expect(() => l.read(() => 1, { timeoutMs: T })).toThrow(LockNotRecoverableError);
    expect(() => l.writeLock(T)).toThrow(LockNotRecoverableError);
    SeqLock.init(l.seq.i32, 0);
    expect(l.read(() => 3, { timeoutMs: T })).toBe(3);
  });

  it('recover(repair) takes over a dead writer, repairs with the sequence odd, and only then makes it even', () => {
    const reg = registry();
    reg.join();
    const a = joinAs(reg, A, 63);
    const w = words(4);
    const l = new SeqLock(w, 0, { registry: reg });
    as(A, () => { l.writeLock(T); Atomics.store(w, 2, 111); });
    reg.markDead(a);
    const seen: unknown[] = [];
    expect(l.recover((info) => {
      seen.push(info, l.seq.value(), l.writer.isInconsistent());
      Atomics.store(w, 2, 100);
      Atomics.store(w, 3, 100);
    }, T)).toBe('owner-died');
    expect(seen).toEqual([{ ownerDied: true, midWrite: true }, 1, true]);
    expect(l.seq.value()).toBe(2);
    expect(l.writer.isLocked()).toBe(false);
    expect(l.read(() => [Atomics.load(w, 2), Atomics.load(w, 3)], { timeoutMs: T })).toEqual([100, 100]);
    // Nothing wrong: the repair still runs, inside a write of its own.
    expect(l.recover((info) => seen.push(info), T)).toBe('acquired');
    expect(seen.at(-1)).toEqual({ ownerDied: false, midWrite: false });
    expect(l.seq.value()).toBe(4);
  });
});

describe('seqlock integrity (issue 8)', () => {
  it('regression: a dead mid-write writer whose lock was force-unlocked no longer yields a torn snapshot from read()', () => {
    const w = words(4);
    const l = new SeqLock(w, 0);
    // Record (w[2], w[3]) must be equal. Owner A dies half-way through writing version 5.
    as(A, () => { l.writeLock(T); Atomics.store(w, 2, 5); });
    expect(l.writer.forceUnlock(A)).toBe(true);
    const reader = (): number[] => [Atomics.load(w, 2), Atomics.load(w, 3)];
    // Before the fix this returned [5, 0] as consistent.
    expect(() => l.read(reader, { timeoutMs: T })).toThrow(SeqWriteAbandonedError);
    expect(() => l.read(reader, { timeoutMs: T })).toThrow(/the sequence is odd but no writer holds the lock/);
    const t = timed(() => { try { l.readBegin(5_000); return null; } catch (e) { return e; } });
    expect(t.value).toBeInstanceOf(SeqWriteAbandonedError);
    expect(t.ms).toBeLessThan(1_000);
    expect(() => l.writeLock(T)).toThrow(SeqWriteAbandonedError);
    expect(l.writer.isLocked()).toBe(false);
    // Recovery without a registry: the lock is free, the write is still open.
    expect(l.recover((info) => {
      expect(info).toEqual({ ownerDied: false, midWrite: true });
      Atomics.store(w, 3, 5);
    }, T)).toBe('acquired');
    expect(l.read(reader, { timeoutMs: T })).toEqual([5, 5]);
  });

  it('a repair that throws leaves the write open', () => {
    const l = new SeqLock(words(2), 0);
    expect(() => l.recover(() => { throw new Error('disk on fire'); }, T)).toThrow('disk on fire');
    expect(l.seq.value()).toBe(1);
    expect(l.writer.isLocked()).toBe(false);
    expect(() => l.read(() => 1, { timeoutMs: T })).toThrow(SeqWriteAbandonedError);
    l.recover(() => {}, T);
    expect(l.seq.value()).toBe(2);
  });

  it('an unserialised writeBegin changes nothing: the sequence never leaves odd mid-write', () => {
    const w = words(1);
    const mine = new SeqCount(w, 0);
    const theirs = new SeqCount(w, 0);
    mine.writeBegin();
    // Watch every value the word takes while the second writer tries (the counting wrapper sees
    // each Atomics call; an add-then-undo would show an even value in between).
    const values: number[] = [];
    const c = countAtomics(() => {
      try { theirs.writeBegin(); } catch { /* misuse, expected */ }
      values.push(Atomics.load(w, 0));
    }, 100);
    expect(c.byMethod.add ?? 0).toBe(0);
    expect(c.byMethod.sub ?? 0).toBe(0);
    expect(new Set(values)).toEqual(new Set([1]));
    mine.writeEnd();
    expect(mine.value()).toBe(2);
  });

  it('wraps past 2^31 and 2^32 with parity intact', () => {
    const w = words(1);
    const s = new SeqCount(w, 0);
    Atomics.store(w, 0, 2 ** 31 - 2);
    s.writeBegin();
    expect(s.value()).toBe(2 ** 31 - 1);
    s.writeEnd();
    expect(s.value()).toBe(-(2 ** 31));
    Atomics.store(w, 0, -2);
    s.writeBegin();
    expect(s.value()).toBe(-1);
    s.writeEnd();
    expect(s.value()).toBe(0);
    expect(s.readBegin()).toBe(0);
  });
});

describe('fast paths (Atomics operations per call)', () => {
  it('owner-word and RwLock write lock/unlock stay one compareExchange each way, with a registry too', () => {
    const reg = registry();
    reg.join();
    for (const l of [new Mutex(words(1), 0), new Mutex(words(1), 0, { registry: reg }), new SpinLock(words(1), 0, { registry: reg })]) {
      expect(countAtomics(() => { l.lock(T); l.unlock(); })).toMatchObject({ total: 2, byMethod: { compareExchange: 2 } });
    }
    for (const l of [new RwLock(words(1), 0), new RwLock(words(1), 0, { registry: reg })]) {
      expect(countAtomics(() => { l.writeLock(T); l.writeUnlock(); })).toMatchObject({ total: 2, byMethod: { compareExchange: 2 } });
    }
  });

  it('RwLock read lock/unlock: 1 + 1 plain, 2 + 2 robust (the list entry store and clear)', () => {
    const reg = registry();
    reg.join();
    const plain = new RwLock(words(1), 0);
    expect(countAtomics(() => { plain.readLock(T); plain.readUnlock(); })).toMatchObject({ total: 2, byMethod: { compareExchange: 2 } });
    const robust = new RwLock(words(1), 0, { registry: reg });
    expect(countAtomics(() => { robust.readLock(T); robust.readUnlock(); })).toMatchObject({ total: 4, byMethod: { compareExchange: 2, store: 2 } });
  });

  it('SeqLock: write 2 + 3 (as before), read 2 loads; writeBegin and writeEnd one compareExchange each', () => {
    const l = new SeqLock(words(2), 0);
    expect(countAtomics(() => { l.writeLock(T); l.writeUnlock(); })).toMatchObject({ total: 5, byMethod: { compareExchange: 4, load: 1 } });
    expect(countAtomics(() => l.read(() => 0, { timeoutMs: T }))).toMatchObject({ total: 2, byMethod: { load: 2 } });
    const s = new SeqCount(words(1), 0);
    expect(countAtomics(() => { s.writeBegin(); s.writeEnd(); })).toMatchObject({ total: 2, byMethod: { compareExchange: 2 } });
  });
});

describe('environment', () => {
  it('src/locks imports nothing from node:*', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const dir = new URL('../src/locks/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const text = readFileSync(new URL(f, dir), 'utf8');
      expect(text, f).not.toMatch(/from\s+['"]node:|import\(\s*['"]node:|require\(/);
    }
  });

  it('a thread that may not block (a browser main thread) gets a clear error instead of parking', () => {
    const l = new Mutex(words(1), 0, { name: 'freelist lock' });
    as(A, () => l.lock(T));
    const wait = vi.spyOn(Atomics, 'wait').mockImplementation(() => { throw new TypeError('Atomics.wait cannot be called in this context'); });
    resetParkProbe();
    try {
      const t = timed(() => { try { l.lock(5_000); return null; } catch (e) { return e; } });
      expect(t.value).toBeInstanceOf(LockWouldBlockError);
      expect((t.value as Error).message).toMatch(/^freelist lock: would have to wait in Atomics.wait, which this thread may not do \(a browser's main thread must never block\)/);
      expect(t.ms).toBeLessThan(1_000);
      expect(l.tryLock()).toBe(false); // the non-blocking calls work there
      const s = new SeqLock(words(2), 0);
      as(A, () => s.writeLock(T));
      expect(() => s.readBegin(5_000)).toThrow(LockWouldBlockError);
    } finally {
      wait.mockRestore();
      resetParkProbe();
    }
    expect(() => l.lock(20)).toThrow(LockTimeoutError);
  });
});
