/**
 * The async forms of every lock (src/locks/async.ts), in one thread: other threads are simulated by
 * owner ids (setOwnerId), as test/locks.test.ts does, and a thread that may not block by making
 * Atomics.wait throw as a browser's main thread does. The same rule in a real browser, with real Web
 * Workers holding the locks, is in test/browser/main-thread.browser.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  LockTimeoutError, LockWouldBlockError, Mutex, RwLock, SeqLock, SpinLock, ThreadRegistry, lockAsync,
  readLockAsync, resetParkProbe, seqReadAsync, seqWriteLockAsync, setOwnerId, writeLockAsync,
} from '../src/locks/index.js';
import { ME, as, words } from './support/owners.js';

const A = ME + 100;

/** Makes this thread one that may not block, as a browser's main thread is. */
function mayNotBlock(): () => void {
  const wait = vi.spyOn(Atomics, 'wait').mockImplementation(() => { throw new TypeError('Atomics.wait cannot be called in this context'); });
  resetParkProbe();
  return () => {
    wait.mockRestore();
    resetParkProbe();
  };
}

afterEach(() => {
  vi.restoreAllMocks();
  resetParkProbe();
  setOwnerId(ME);
});

describe('async acquisition on a thread that may not block', () => {
  it('Mutex/SpinLock: lock() throws naming the lock; lockAsync waits without blocking and gets it once released', async () => {
    for (const Lock of [Mutex, SpinLock]) {
      const l = new Lock(words(1), 0, { name: 'freelist lock' });
      as(A, () => l.lock(100));
      const restore = mayNotBlock();
      try {
        expect(() => l.lock(5_000)).toThrow(LockWouldBlockError);
        expect(() => l.lock(5_000)).toThrow(/^freelist lock: .*a browser's main thread must never block.*lockAsync/);
        let ticks = 0;
        const ticker = setInterval(() => { ticks++; }, 1);
        setTimeout(() => as(A, () => l.unlock()), 60);
        const t0 = performance.now();
        await expect(lockAsync(l, { timeoutMs: 5_000 })).resolves.toBe('acquired');
        clearInterval(ticker);
        expect(performance.now() - t0).toBeGreaterThanOrEqual(50);
        // The event loop ran while it waited: it did not block.
        expect(ticks).toBeGreaterThan(5);
        expect(l.owner()).toBe(ME);
        l.unlock();
      } finally {
        restore();
      }
    }
  });

  it('lockAsync times out naming the lock and its holder; an abort signal ends the wait', async () => {
    const l = new Mutex(words(1), 0, { name: 'key lock' });
    as(A, () => l.lock(100));
    await expect(lockAsync(l, { timeoutMs: 40 })).rejects.toThrow(new RegExp(`^key lock: not acquired within 40 ms; held by owner ${A}`));
    await expect(lockAsync(l, { timeoutMs: 40 })).rejects.toBeInstanceOf(LockTimeoutError);
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('page closed')), 20);
    await expect(lockAsync(l, { signal: ac.signal })).rejects.toThrow('page closed');
  });

  it('SeqLock: writer and fallback reads wait asynchronously; RwLock: both sides', async () => {
    const restore = mayNotBlock();
    try {
      const s = new SeqLock(words(2), 0, { name: 'record' });
      as(A, () => s.writeLock(100));
      expect(() => s.readBegin(5_000)).toThrow(LockWouldBlockError);
      setTimeout(() => as(A, () => s.writeUnlock()), 30);
      await expect(seqReadAsync(s, () => 42, { timeoutMs: 5_000 })).resolves.toBe(42);
      as(A, () => s.writeLock(100));
      setTimeout(() => as(A, () => s.writeUnlock()), 30);
      await expect(seqWriteLockAsync(s, { timeoutMs: 5_000 })).resolves.toBe('acquired');
      s.writeUnlock();

      const rw = new RwLock(words(1), 0, { name: 'rw' });
      as(A, () => rw.writeLock(100));
      expect(() => rw.readLock(5_000)).toThrow(LockWouldBlockError);
      setTimeout(() => as(A, () => rw.writeUnlock()), 30);
      await expect(readLockAsync(rw, { timeoutMs: 5_000 })).resolves.toBe('acquired');
      setTimeout(() => rw.readUnlock(), 30);
      await expect(writeLockAsync(rw, { timeoutMs: 5_000 })).resolves.toBe('acquired');
      rw.writeUnlock();
    } finally {
      restore();
    }
  });

  it('a robust lock held by a dead owner is taken over by lockAsync (owner-died); control: alive, it times out', async () => {
    const members = 4;
    const w = words(ThreadRegistry.words(members));
    ThreadRegistry.init(w, 0, members);
    const reg = new ThreadRegistry(w, 0, members);
    const member = as(A, () => reg.join({ threadId: 9_999 }));
    reg.useMember(-1);
    const l = new Mutex(words(1), 0, { registry: reg, name: 'robust' });
    as(A, () => l.lock(100));
    await expect(lockAsync(l, { timeoutMs: 40 })).rejects.toBeInstanceOf(LockTimeoutError);
    reg.markDead(member);
    await expect(lockAsync(l, { timeoutMs: 5_000 })).resolves.toBe('owner-died');
    l.markConsistent();
    l.unlock();
  });
});
