/**
 * StartBarrier: releases every worker of a run at the same instant, so their loops overlap instead
 * of the first worker finishing before the last has started (worker start-up is tens of ms).
 *
 * Words (three int32 at `index`):
 *
 *   [index]     arrived: workers that have reached the barrier
 *   [index+1]   go: 0 = hold, 1 = run, -1 = abort (the run was cancelled before it started)
 *   [index+2]   stop: 0 = keep going, 1 = stop soon (time-boxed loops poll it)
 *
 * Workers wait with Atomics.wait in bounded slices; the main thread waits asynchronously
 * (Atomics.waitAsync) so it never blocks its event loop, and so it can still notice a worker dying.
 */
import { checkSharedWords } from './validate.js';

/** Int32 words a StartBarrier occupies. */
export const BARRIER_WORDS = 3;

/** Thrown in a worker waiting at a barrier that the main thread aborted (the run was cancelled). */
export class BarrierAbortedError extends Error {
  constructor() {
    super('start barrier aborted: the run was cancelled before it started');
    this.name = 'BarrierAbortedError';
  }
}

/** A one-shot start barrier over three words of shared memory (layout above), plus a stop flag. */
export class StartBarrier {
  /** Words the barrier needs (also {@link BARRIER_WORDS}). */
  static readonly WORDS = BARRIER_WORDS;
  /** The shared words; post them to workers (they travel by reference). */
  readonly i32: Int32Array;
  /** Where the barrier's words start in `i32`. */
  readonly index: number;

  constructor(i32: Int32Array, index: number) {
    checkSharedWords('StartBarrier', i32, index, BARRIER_WORDS);
    this.i32 = i32;
    this.index = index;
  }

  /** Worker side: announce arrival and wait for go, at most `timeoutMs`. */
  arriveAndWait(timeoutMs: number): void {
    Atomics.add(this.i32, this.index, 1);
    Atomics.notify(this.i32, this.index);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const go = Atomics.load(this.i32, this.index + 1);
      if (go === 1) return;
      if (go === -1) throw new BarrierAbortedError();
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`start barrier: no go signal within ${timeoutMs} ms (${this.arrived()} arrived)`);
      Atomics.wait(this.i32, this.index + 1, go, Math.min(left, 100));
    }
  }

  /** Workers that have arrived so far. */
  arrived(): number {
    return Atomics.load(this.i32, this.index);
  }

  /** Main side: resolves once `count` workers have arrived; rejects after timeoutMs. */
  async waitForArrivals(count: number, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const n = Atomics.load(this.i32, this.index);
      if (n >= count) return;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`start barrier: ${n} of ${count} workers arrived within ${timeoutMs} ms`);
      const r = Atomics.waitAsync(this.i32, this.index, n, Math.min(left, 100));
      if (r.async) await r.value;
    }
  }

  /**
   * Main side: waits until `count` workers have arrived, then releases them together. `running`
   * is the workers' pending work (their run calls): if it settles first — a worker died or failed
   * before arriving — the wait fails at once with that error instead of at the timeout. Whenever it
   * fails, the barrier is aborted so no worker stays parked on it.
   */
  async releaseWhenArrived(count: number, timeoutMs: number, running: Promise<unknown>): Promise<void> {
    const early = running.then(() => {
      throw new Error('start barrier: the workers finished before they were released');
    });
    early.catch(() => {});
    try {
      await Promise.race([this.waitForArrivals(count, timeoutMs), early]);
    } catch (e) {
      this.abort();
      throw e;
    }
    this.release();
  }

  /** Main side: lets every arrived (and later-arriving) worker go. */
  release(): void {
    Atomics.store(this.i32, this.index + 1, 1);
    Atomics.notify(this.i32, this.index + 1);
  }

  /** Main side: cancels the run; waiting workers throw BarrierAbortedError. */
  abort(): void {
    Atomics.store(this.i32, this.index + 1, -1);
    Atomics.notify(this.i32, this.index + 1);
  }

  /** Main side: asks time-boxed loops to end; they poll {@link stopRequested}. */
  requestStop(): void {
    Atomics.store(this.i32, this.index + 2, 1);
  }

  /** Worker side: whether the main thread asked the run to stop. */
  stopRequested(): boolean {
    return Atomics.load(this.i32, this.index + 2) !== 0;
  }
}
