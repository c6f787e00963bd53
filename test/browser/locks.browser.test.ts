/**
 * The locks in Chromium: the lock torture with real Web Workers (negative control: the busted lock
 * must lose updates), and the main-thread rule with a real browser main thread, where Atomics.wait
 * throws: blocking calls that would park fail naming the lock, the async forms wait without blocking.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  LockWouldBlockError, Mutex, RwLock, SeqLock, SpinLock, lockAsync, readLockAsync, seqReadAsync, seqWriteLockAsync, threadCanPark,
} from '../../src/locks/index.js';
import { REAL_LOCK_KINDS } from '../../src/torture/lock-kinds.js';
import { runLockTorture } from '../../src/browser/lock-torture.js';
import { lockTortureWorkers } from './support/workers.js';

const started: Worker[] = [];
afterEach(() => {
  for (const w of started.splice(0)) w.terminate();
});

describe('in Chromium', () => {
  it('the page is cross-origin isolated: SharedArrayBuffer, and a main thread that may not block', () => {
    expect(crossOriginIsolated).toBe(true);
    expect(typeof SharedArrayBuffer).toBe('function');
    expect(threadCanPark()).toBe(false);
    expect(typeof (Atomics as unknown as { waitAsync?: unknown }).waitAsync).toBe('function');
  });
});

describe('lock torture with Web Workers', () => {
  it('negative control: the busted lock loses updates and lets two workers in at once', async () => {
    const r = await runLockTorture(lockTortureWorkers, { kind: 'busted', workers: 4, iterations: 20_000 });
    console.log(`lock torture busted: ${r.handoffs} hand-offs, ${r.lostUpdates} updates lost`);
    expect(r.overlapped, `${r.handoffs} hand-offs`).toBe(true);
    expect(r.lostUpdates).toBeGreaterThan(0);
    expect(r.canaryTrips).toBeGreaterThan(0);
  });

  for (const kind of REAL_LOCK_KINDS) {
    it(`${kind}: every update is kept and nobody is ever inside with another`, async () => {
      const r = await runLockTorture(lockTortureWorkers, { kind, workers: 4, iterations: 20_000 });
      console.log(`lock torture ${kind}: ${r.handoffs} hand-offs in ${r.workers * r.iterations} sections`);
      expect(r.overlapped, `${r.handoffs} hand-offs`).toBe(true);
      expect(r.lostUpdates).toBe(0);
      expect(r.canaryTrips).toBe(0);
    });
  }
});

/** Starts the holder worker on a fresh lock of `kind`; resolves once it holds it. */
async function held(kind: 'mutex' | 'spin' | 'seqlock' | 'rwlock', name: string): Promise<{ words: Int32Array; release: () => Promise<void> }> {
  const words = new Int32Array(new SharedArrayBuffer(16));
  const release = new Int32Array(new SharedArrayBuffer(4));
  const w = new Worker(new URL('./support/holder-worker.ts', import.meta.url), { type: 'module' });
  started.push(w);
  const next = (): Promise<string> => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('holder worker: no answer within 10 s')), 10_000);
    w.onmessage = (e) => { clearTimeout(t); resolve(e.data as string); };
    w.onerror = (e) => { clearTimeout(t); reject(new Error(`holder worker: ${e.message}`)); };
  });
  const isHeld = next();
  w.postMessage({ kind, words, release, name });
  expect(await isHeld).toBe('held');
  return {
    words,
    release: async () => {
      const done = next();
      Atomics.store(release, 0, 1);
      Atomics.notify(release, 0);
      expect(await done).toBe('released');
    },
  };
}

describe('the main-thread rule, on a real main thread', () => {
  it('uncontended calls work on the main thread', () => {
    const w = new Int32Array(new SharedArrayBuffer(32));
    const m = new Mutex(w, 0);
    m.lock();
    m.unlock();
    const s = new SeqLock(w, 2);
    s.writeLock();
    s.writeUnlock();
    expect(s.read(() => 7)).toBe(7);
    const rw = new RwLock(w, 4);
    rw.readLock();
    rw.readUnlock();
  });

  for (const kind of ['mutex', 'spin'] as const) {
    it(`${kind} held by a worker: lock() throws LockWouldBlockError naming the lock; lockAsync gets it once released`, async () => {
      const h = await held(kind, 'freelist lock');
      const lock = kind === 'mutex' ? new Mutex(h.words, 0, { name: 'freelist lock' }) : new SpinLock(h.words, 0, { name: 'freelist lock' });
      const t0 = performance.now();
      let error: unknown = null;
      try { lock.lock(10_000); } catch (e) { error = e; }
      expect(error).toBeInstanceOf(LockWouldBlockError);
      expect((error as Error).message).toMatch(/^freelist lock: would have to wait in Atomics\.wait.*a browser's main thread must never block/);
      // It failed at once, after its bounded spin, not at the timeout.
      expect(performance.now() - t0).toBeLessThan(1_000);
      const got = lockAsync(lock, { timeoutMs: 10_000 });
      let frames = 0;
      const counting = (async () => { while (frames < 3) { await new Promise((r) => requestAnimationFrame(r)); frames++; } })();
      await counting; // the page kept rendering while the acquisition waited
      await h.release();
      await expect(got).resolves.toBe('acquired');
      expect(lock.owner()).not.toBe(0);
      lock.unlock();
    });
  }

  it('seqlock and rwlock held by a worker: blocking reads throw, the async forms wait', async () => {
    const s = await held('seqlock', 'record');
    const seq = new SeqLock(s.words, 0, { name: 'record' });
    expect(() => seq.readBegin(10_000)).toThrow(LockWouldBlockError);
    const read = seqReadAsync(seq, () => 'snapshot', { timeoutMs: 10_000 });
    const write = seqWriteLockAsync(seq, { timeoutMs: 10_000 });
    await s.release();
    await expect(read).resolves.toBe('snapshot');
    await expect(write).resolves.toBe('acquired');
    seq.writeUnlock();

    const r = await held('rwlock', 'rw');
    const rw = new RwLock(r.words, 0, { name: 'rw' });
    expect(() => rw.readLock(10_000)).toThrow(LockWouldBlockError);
    const reading = readLockAsync(rw, { timeoutMs: 10_000 });
    await r.release();
    await expect(reading).resolves.toBe('acquired');
    rw.readUnlock();
  });
});
