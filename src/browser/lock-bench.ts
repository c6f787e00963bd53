/**
 * Lock microbenchmarks that run unchanged under Node and in a browser, so the two runtimes' figures
 * are the same measurement: one thread, uncontended, the lock+unlock of every lock and the seqlock
 * 4-word read — the loops are defined here once, and `sab-alloc bench --only micro` times them too
 * (src/bench/micro.ts, under tinybench) — with one successful Atomics.compareExchange as the
 * yardstick. No tinybench here: a plain loop timed with
 * performance.now(), whose resolution a cross-origin-isolated page gets at 5 µs — each sample is a
 * batch long enough (≥ 1 ms) for that not to matter.
 *
 * Rounds are interleaved (every operation once per round, in turn) and each figure is the median
 * over rounds with its min–max, because these shared machines drift by more than the differences.
 */
import { Mutex } from '../locks/mutex.js';
import { SpinLock } from '../locks/spinlock.js';
import { SeqLock } from '../locks/seqlock.js';
import { RwLock } from '../locks/rwlock.js';
import { checkInt, checkNumber } from '../shared/validate.js';

/** Options of the lock timing loops run in the page and in Node alike. */
export interface LockBenchOptions {
  /** Rounds (each operation is timed once per round). */
  rounds?: number;
  /** Time per operation per round, ms. */
  timeMs?: number;
}

/** One operation's time: ns per operation over the rounds. */
export interface LockBenchFigure {
  name: string;
  /** ns per operation: median over rounds, and the range. */
  median: number;
  min: number;
  max: number;
  rounds: number[];
}

let sink = 0;
const LOOP = 1000;

/**
 * One lock operation as both harnesses time it: `one` performs it once (the bench counts its Atomics
 * operations), `loop(n)` performs it n times in a written-out loop (one call site per operation, so
 * each stays monomorphic).
 */
export interface LockLoop {
  name: string;
  /** 'read' for the seqlock read, 'lock' for every lock+unlock. */
  group: 'lock' | 'read';
  one: () => void;
  loop: (n: number) => void;
}

/**
 * The uncontended lock operations of `sab-alloc bench --only micro` (src/bench/micro.ts times these
 * same loops) and of the browser page's figures, on fresh locks of their own.
 */
export function lockLoops(): LockLoop[] {
  const w = new Int32Array(new SharedArrayBuffer(64 * 4));
  const mutex = new Mutex(w, 0);
  const spin = new SpinLock(w, 16);
  const seq = new SeqLock(w, 32);
  const rw = new RwLock(w, 48);
  const data = new Int32Array(new SharedArrayBuffer(16 * 4));
  const seqRead = (): number => {
    let s: number;
    let x: number;
    do {
      s = seq.readBegin(1000);
      x = Atomics.load(data, 0) + Atomics.load(data, 1) + Atomics.load(data, 2) + Atomics.load(data, 3);
    } while (seq.readRetry(s));
    return x;
  };
  return [
    { name: 'Mutex lock+unlock', group: 'lock', one: () => { mutex.lock(); mutex.unlock(); }, loop: (n) => { for (let i = 0; i < n; i++) { mutex.lock(); mutex.unlock(); } } },
    { name: 'SpinLock lock+unlock', group: 'lock', one: () => { spin.lock(); spin.unlock(); }, loop: (n) => { for (let i = 0; i < n; i++) { spin.lock(); spin.unlock(); } } },
    { name: 'SeqLock writer lock+unlock', group: 'lock', one: () => { seq.writeLock(); seq.writeUnlock(); }, loop: (n) => { for (let i = 0; i < n; i++) { seq.writeLock(); seq.writeUnlock(); } } },
    { name: 'RwLock read lock+unlock', group: 'lock', one: () => { rw.readLock(); rw.readUnlock(); }, loop: (n) => { for (let i = 0; i < n; i++) { rw.readLock(); rw.readUnlock(); } } },
    { name: 'RwLock write lock+unlock', group: 'lock', one: () => { rw.writeLock(); rw.writeUnlock(); }, loop: (n) => { for (let i = 0; i < n; i++) { rw.writeLock(); rw.writeUnlock(); } } },
    { name: 'SeqLock 4-word read', group: 'read', one: () => { sink ^= seqRead(); }, loop: (n) => { let x = 0; for (let i = 0; i < n; i++) x ^= seqRead(); sink ^= x; } },
  ];
}

function operations(): { name: string; run: () => void }[] {
  const cas = new Int32Array(new SharedArrayBuffer(64));
  return [
    { name: 'Atomics.compareExchange', run: () => { let x = Atomics.load(cas, 0); for (let i = 0; i < LOOP; i++) x = Atomics.compareExchange(cas, 0, x, x ^ 1) ^ 1; sink ^= x; } },
    ...lockLoops().map((l) => ({ name: l.name, run: () => l.loop(LOOP) })),
  ];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Times every operation; returns ns per operation for each. Blocks the calling thread for about rounds × 7 × timeMs. */
export function runLockBench(options: LockBenchOptions = {}): LockBenchFigure[] {
  const rounds = checkInt('rounds', options.rounds ?? 7, 1, 1000);
  const timeMs = checkNumber('timeMs', options.timeMs ?? 50, 1, 10_000);
  const ops = operations();
  // Warm-up: let the JIT settle every call site before anything counts.
  for (const op of ops) {
    const end = performance.now() + timeMs;
    while (performance.now() < end) op.run();
  }
  const perRound: number[][] = ops.map(() => []);
  for (let r = 0; r < rounds; r++) {
    ops.forEach((op, k) => {
      let n = 0;
      const t0 = performance.now();
      let t = t0;
      while (t - t0 < timeMs) {
        op.run();
        n += LOOP;
        t = performance.now();
      }
      perRound[k]!.push(((t - t0) * 1e6) / n);
    });
  }
  return ops.map((op, k) => {
    const xs = perRound[k]!;
    return { name: op.name, median: median(xs), min: Math.min(...xs), max: Math.max(...xs), rounds: xs };
  });
}
