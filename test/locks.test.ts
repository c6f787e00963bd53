/**
 * Single-thread behaviour and misuse of every lock. A second "thread" is simulated with setOwnerId:
 * owner ids are what the lock words record, so switching the id is exactly what another thread's
 * calls look like to the lock. Cross-thread behaviour is in lock-torture.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  LockMisuseError, LockStats, LockTimeoutError, MAX_OWNER_ID, Mutex, PARK_SLICE_MS, RwLock, SeqCount, SeqLock, SpinLock,
  currentOwnerId, ownerIdOfThread, setOwnerId,
} from '../src/locks/index.js';
import { ME, as, words } from './support/owners.js';
import { ConfigError } from '../src/shared/validate.js';

const OTHER = ME + 100;

afterEach(() => setOwnerId(ME));

const OWNER_WORD_LOCKS = [
  ['SpinLock', SpinLock],
  ['Mutex', Mutex],
] as const;

describe('owner ids', () => {
  it('default to threadId + 1 and can be overridden within [1, 2^27 - 1]', () => {
    expect(ME).toBe(ownerIdOfThread(0));
    expect(() => setOwnerId(0)).toThrow(ConfigError);
    expect(() => setOwnerId(0)).toThrow(`owner id: must be an integer in [1, ${MAX_OWNER_ID}], got 0`);
    expect(() => setOwnerId(MAX_OWNER_ID + 1)).toThrow(/owner id/);
    expect(() => setOwnerId(1.5)).toThrow(/owner id/);
    // 27 bits: the lock words keep their robust-lock flags above the owner id.
    expect(MAX_OWNER_ID).toBe(2 ** 27 - 1);
    expect(() => setOwnerId(2 ** 27)).toThrow(`owner id: must be an integer in [1, ${2 ** 27 - 1}], got ${2 ** 27}`);
    setOwnerId(MAX_OWNER_ID);
    expect(currentOwnerId()).toBe(MAX_OWNER_ID);
  });
});

for (const [name, Lock] of OWNER_WORD_LOCKS) {
  describe(name, () => {
    it('tryLock takes a free lock once and records the owner; unlock frees it', () => {
      const w = words();
      const l = new Lock(w, 1);
      expect(l.isLocked()).toBe(false);
      expect(l.tryLock()).toBe(true);
      expect(l.owner()).toBe(ME);
      expect(w[1]).toBe(ME << 1);
      expect(l.tryLock()).toBe(false);
      expect(as(OTHER, () => l.tryLock())).toBe(false);
      l.unlock();
      expect(l.isLocked()).toBe(false);
      expect(w[1]).toBe(0);
      expect(w[0]).toBe(0);
      expect(w[2]).toBe(0);
    });

    it('lock/unlock round trips and never touches neighbouring words', () => {
      const w = words();
      w[0] = 7;
      w[2] = 9;
      const l = new Lock(w, 1);
      for (let i = 0; i < 1000; i++) {
        l.lock();
        l.unlock();
      }
      expect([w[0], w[1], w[2]]).toEqual([7, 0, 9]);
    });

    it('unlock of an unlocked lock is misuse', () => {
      const l = new Lock(words(), 0);
      expect(() => l.unlock()).toThrow(LockMisuseError);
      expect(() => l.unlock()).toThrow(/unlock\(\) of an unlocked lock/);
    });

    it('unlock by a non-owner is misuse naming the holder, and leaves the lock held', () => {
      const l = new Lock(words(), 0);
      l.lock();
      expect(() => as(OTHER, () => l.unlock())).toThrow(LockMisuseError);
      expect(() => as(OTHER, () => l.unlock())).toThrow(`unlock() by owner ${OTHER}, but it is held by owner ${ME}`);
      expect(l.owner()).toBe(ME);
      l.unlock();
    });

    it('recursive lock is misuse, not a deadlock', () => {
      const l = new Lock(words(), 0);
      l.lock();
      expect(() => l.lock(1000)).toThrow(LockMisuseError);
      expect(() => l.lock()).toThrow(/already holds it \(not recursive\)/);
      expect(l.owner()).toBe(ME);
      l.unlock();
    });

    it('lock(timeout) on a lock held by another fails after about the timeout, naming the holder', () => {
      const l = new Lock(words(), 0);
      as(OTHER, () => l.lock());
      const t0 = performance.now();
      let err: unknown;
      try {
        l.lock(120);
      } catch (e) {
        err = e;
      }
      const took = performance.now() - t0;
      expect(err).toBeInstanceOf(LockTimeoutError);
      const e = err as LockTimeoutError;
      expect(e.owner).toBe(OTHER);
      expect(e.waitedMs).toBe(120);
      expect(e.message).toContain(`held by owner ${OTHER}`);
      expect(took).toBeGreaterThanOrEqual(115);
      expect(took).toBeLessThan(120 + PARK_SLICE_MS + 500);
      // The failed waiter set the waiter bit; the holder's unlock clears it.
      expect(l.owner()).toBe(OTHER);
      as(OTHER, () => l.unlock());
      expect(l.isLocked()).toBe(false);
      expect(() => l.lock(0)).not.toThrow();
      l.unlock();
    });

    it('lock(0) on a held lock fails at once', () => {
      const l = new Lock(words(), 0);
      as(OTHER, () => l.lock());
      const t0 = performance.now();
      expect(() => l.lock(0)).toThrow(LockTimeoutError);
      expect(performance.now() - t0).toBeLessThan(100);
    });

    it('rejects a bad timeout naming the parameter and its range', () => {
      const l = new Lock(words(), 0);
      as(OTHER, () => l.lock());
      expect(() => l.lock(-1)).toThrow(ConfigError);
      expect(() => l.lock(Number.NaN)).toThrow(/timeoutMs: must be a number in \[0, Infinity\], got NaN/);
    });

    it('forceUnlock frees a lock only for the named owner', () => {
      const w = words();
      const l = new Lock(w, 0);
      as(OTHER, () => l.lock());
      expect(l.forceUnlock(ME)).toBe(false);
      expect(l.owner()).toBe(OTHER);
      expect(l.forceUnlock(OTHER)).toBe(true);
      expect(l.isLocked()).toBe(false);
      expect(l.forceUnlock(OTHER)).toBe(false);
      expect(l.tryLock()).toBe(true);
      l.unlock();
    });

    it('counts acquisitions, contention, spins and parks in LockStats', () => {
      const stats = new LockStats();
      const l = new Lock(words(), 0, { stats });
      for (let i = 0; i < 5; i++) {
        l.lock();
        l.unlock();
      }
      expect(l.tryLock()).toBe(true);
      l.unlock();
      expect(stats.toJSON()).toEqual({ acquisitions: 6, contended: 0, spins: 0, parks: 0, readRetries: 0, lockedReads: 0, takeovers: 0 });
      // Another thread has its own lock object over the same word (and its own stats).
      const theirs = new Lock(l.i32, 0);
      as(OTHER, () => theirs.lock());
      expect(() => l.lock(30)).toThrow(LockTimeoutError);
      expect(stats.contended).toBe(1);
      expect(stats.spins).toBeGreaterThan(0);
      expect(stats.parks).toBeGreaterThan(0);
      expect(stats.acquisitions).toBe(6);
      const total = new LockStats().add(stats).add(stats);
      expect(total.acquisitions).toBe(12);
    });

    it('rejects non-shared buffers, out-of-range and non-integer indexes, naming the parameter and range', () => {
      expect(() => new Lock(new Int32Array(4), 0)).toThrow(ConfigError);
      expect(() => new Lock(new Int32Array(4), 0)).toThrow(/non-shared ArrayBuffer/);
      expect(() => new Lock(words(4), 4)).toThrow(`${name} index: must be in [0, 3] (the structure needs 1 word of 4), got 4`);
      expect(() => new Lock(words(4), -1)).toThrow(/index: must be in \[0, 3\]/);
      expect(() => new Lock(words(4), 1.5)).toThrow(/index: is misaligned: must be a whole word index in \[0, 3\], got 1.5/);
      expect(() => new Lock(new Uint32Array(new SharedArrayBuffer(16)) as never, 0)).toThrow(/must be an Int32Array/);
      expect(() => new Lock(words(), 9, { name: 'bucket lock' })).toThrow(/^bucket lock index: /);
      try {
        new Lock(words(4), 4);
      } catch (e) {
        expect((e as ConfigError).param).toBe(`${name} index`);
      }
    });
  });
}

describe('SeqCount', () => {
  it('readBegin returns an even sequence and readRetry detects a write in between', () => {
    const w = words();
    const stats = new LockStats();
    const s = new SeqCount(w, 0, { stats });
    const seq = s.readBegin();
    expect(seq % 2).toBe(0);
    expect(s.readRetry(seq)).toBe(false);
    s.writeBegin();
    expect(s.value() % 2).toBe(1);
    s.writeEnd();
    expect(s.value()).toBe(seq + 2);
    expect(s.readRetry(seq)).toBe(true);
    expect(stats.readRetries).toBe(1);
  });

  it('writeEnd without writeBegin is misuse and leaves the sequence unchanged', () => {
    const s = new SeqCount(words(), 0);
    expect(() => s.writeEnd()).toThrow(LockMisuseError);
    expect(() => s.writeEnd()).toThrow(/writeEnd\(\) without writeBegin\(\)/);
    expect(s.value()).toBe(0);
  });

  it('nested writeBegin is misuse and leaves the write in progress', () => {
    const s = new SeqCount(words(), 0);
    s.writeBegin();
    expect(() => s.writeBegin()).toThrow(/writeBegin\(\) while a write is already in progress/);
    expect(s.value()).toBe(1);
    s.writeEnd();
    expect(s.value()).toBe(2);
  });

  it('readBegin during a write waits, then fails after its timeout', () => {
    const s = new SeqCount(words(), 0);
    s.writeBegin();
    const t0 = performance.now();
    expect(() => s.readBegin(60)).toThrow(LockTimeoutError);
    expect(() => s.readBegin(10)).toThrow(/odd sequence/);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(60);
    expect(() => s.readBegin(-5)).toThrow(ConfigError);
    s.writeEnd();
    expect(s.readBegin(0)).toBe(2);
  });

  it('validates its buffer and index', () => {
    expect(() => new SeqCount(new Int32Array(2), 0)).toThrow(/SeqCount: is backed by a non-shared ArrayBuffer/);
    expect(() => new SeqCount(words(2), 2)).toThrow('SeqCount index: must be in [0, 1] (the structure needs 1 word of 2), got 2');
  });
});

describe('SeqLock', () => {
  it('writeLock/writeUnlock bump the sequence by two and hold the writer lock in between', () => {
    const w = words();
    const l = new SeqLock(w, 1);
    l.writeLock();
    expect(w[1]).toBe(1);
    expect(l.writer.owner()).toBe(ME);
    l.writeUnlock();
    expect(w[1]).toBe(2);
    expect(w[2]).toBe(0);
    expect(w[0]).toBe(0);
    expect(w[3]).toBe(0);
  });

  it('writeUnlock by a non-owner is misuse and does not end the real writer\'s write', () => {
    const l = new SeqLock(words(), 0);
    as(OTHER, () => l.writeLock());
    expect(() => l.writeUnlock()).toThrow(LockMisuseError);
    expect(() => l.writeUnlock()).toThrow(`writeUnlock() by owner ${ME}, but it is held by owner ${OTHER}`);
    // Regression: this used to bump the sequence to even mid-write, letting readers accept a torn record.
    expect(l.seq.value()).toBe(1);
    as(OTHER, () => l.writeUnlock());
    expect(l.seq.value()).toBe(2);
  });

  it('writeUnlock without writeLock is misuse and changes nothing', () => {
    const l = new SeqLock(words(), 0);
    expect(() => l.writeUnlock()).toThrow(/not held/);
    expect(l.seq.value()).toBe(0);
  });

  it('recursive writeLock is misuse', () => {
    const l = new SeqLock(words(), 0);
    l.writeLock();
    expect(() => l.writeLock()).toThrow(LockMisuseError);
    l.writeUnlock();
  });

  it('writeLock releases the writer lock if the sequence was left odd by an unserialised writer', () => {
    const l = new SeqLock(words(), 0);
    l.seq.writeBegin();
    expect(() => l.writeLock()).toThrow(/writers not serialised/);
    expect(l.writer.isLocked()).toBe(false);
  });

  it('read(fn) returns the reader\'s value, and takes the lock after optimistic passes fail', () => {
    const w = words();
    const stats = new LockStats();
    const l = new SeqLock(w, 0, { stats });
    expect(l.read(() => 42)).toBe(42);
    expect(stats.lockedReads).toBe(0);
    // A reader that sees a write begin during every optimistic pass ends up reading under the lock.
    let passes = 0;
    const value = l.read(() => {
      passes++;
      if (!l.writer.isLocked()) {
        as(OTHER, () => { l.writeLock(); l.writeUnlock(); });
      }
      return passes;
    }, { optimisticTries: 2 });
    expect(value).toBe(3);
    expect(stats.readRetries).toBe(2);
    expect(stats.lockedReads).toBe(1);
    expect(l.writer.isLocked()).toBe(false);
  });

  it('readBegin times out naming the writer that holds the lock mid-write', () => {
    const l = new SeqLock(words(), 0);
    as(OTHER, () => l.writeLock());
    let err: unknown;
    try {
      l.readBegin(30);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect((err as LockTimeoutError).owner).toBe(OTHER);
    expect((err as LockTimeoutError).message).toContain(`writer owner ${OTHER}`);
  });

  it('read(fn) with a timeout fails naming the writer when a write never ends', () => {
    const l = new SeqLock(words(), 0);
    as(OTHER, () => l.writeLock());
    expect(() => l.read(() => 1, { timeoutMs: 30 })).toThrow(`held by owner ${OTHER}`);
  });

  it('needs two words', () => {
    expect(() => new SeqLock(words(2), 1)).toThrow('SeqLock index: must be in [0, 0] (the structure needs 2 words of 2), got 1');
  });
});

describe('RwLock', () => {
  it('admits many readers, excludes the writer while any reader holds it', () => {
    const l = new RwLock(words(), 0);
    expect(l.tryReadLock()).toBe(true);
    expect(as(OTHER, () => l.tryReadLock())).toBe(true);
    expect(l.readers()).toBe(2);
    expect(l.tryWriteLock()).toBe(false);
    expect(() => as(OTHER + 1, () => l.writeLock(20))).toThrow(/held by 2 reader\(s\)/);
    l.readUnlock();
    expect(l.tryWriteLock()).toBe(false);
    l.readUnlock();
    expect(l.readers()).toBe(0);
    expect(l.tryWriteLock()).toBe(true);
    expect(l.writer()).toBe(ME);
    l.writeUnlock();
  });

  it('a writer excludes readers and other writers, and a timeout names it', () => {
    const l = new RwLock(words(), 0);
    as(OTHER, () => l.writeLock());
    expect(l.tryReadLock()).toBe(false);
    expect(l.tryWriteLock()).toBe(false);
    expect(() => l.readLock(20)).toThrow(`held by writer owner ${OTHER}`);
    let err: unknown;
    try {
      l.writeLock(20);
    } catch (e) {
      err = e;
    }
    expect((err as LockTimeoutError).owner).toBe(OTHER);
    as(OTHER, () => l.writeUnlock());
    expect(l.writer()).toBe(0);
    l.readLock();
    l.readUnlock();
  });

  it('misuse: unlocks of a lock not held that way, non-owner writeUnlock, recursive lock', () => {
    const l = new RwLock(words(), 0);
    expect(() => l.readUnlock()).toThrow(/readUnlock\(\) of a lock that is not read-held/);
    expect(() => l.writeUnlock()).toThrow(/writeUnlock\(\) of a lock that is not write-held/);
    l.writeLock();
    expect(() => l.readUnlock()).toThrow(LockMisuseError);
    expect(() => as(OTHER, () => l.writeUnlock())).toThrow(`writeUnlock() by owner ${OTHER}, but owner ${ME} holds it`);
    expect(() => l.writeLock(100)).toThrow(/already holds it for write/);
    expect(() => l.readLock(100)).toThrow(/already holds it for write/);
    l.writeUnlock();
    l.readLock();
    expect(() => l.writeUnlock()).toThrow(LockMisuseError);
    l.readUnlock();
  });

  it('forceWriteUnlock frees only a write lock held by the named owner', () => {
    const l = new RwLock(words(), 0);
    as(OTHER, () => l.writeLock());
    expect(l.forceWriteUnlock(ME)).toBe(false);
    expect(l.forceWriteUnlock(OTHER)).toBe(true);
    expect(l.writer()).toBe(0);
    l.readLock();
    expect(l.forceWriteUnlock(OTHER)).toBe(false);
    l.readUnlock();
  });

  it('counts acquisitions for both sides', () => {
    const stats = new LockStats();
    const l = new RwLock(words(), 0, { stats });
    l.readLock();
    l.readLock();
    l.readUnlock();
    l.readUnlock();
    l.writeLock();
    l.writeUnlock();
    expect(stats.acquisitions).toBe(3);
    expect(stats.contended).toBe(0);
  });

  it('validates its buffer and index', () => {
    expect(() => new RwLock(new Int32Array(1), 0)).toThrow(ConfigError);
    expect(() => new RwLock(words(1), 1)).toThrow('index: must be in [0, 0] (the structure needs 1 word of 1), got 1');
    expect(() => new RwLock(words(1), 0.5)).toThrow(/index: is misaligned: must be a whole word index in \[0, 0\], got 0.5/);
  });
});
