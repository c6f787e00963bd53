import { describe, expect, it } from 'vitest';
import { StartBarrier } from '../src/shared/barrier.js';

const barrier = (): StartBarrier => new StartBarrier(new Int32Array(new SharedArrayBuffer(StartBarrier.WORDS * 4)), 0);
const go = (b: StartBarrier): number => Atomics.load(b.i32, b.index + 1);

describe('StartBarrier.releaseWhenArrived', () => {
  it('releases once every worker has arrived', async () => {
    const b = barrier();
    const pending = b.releaseWhenArrived(2, 5_000, new Promise(() => {}));
    Atomics.add(b.i32, b.index, 2);
    Atomics.notify(b.i32, b.index);
    await pending;
    expect(go(b)).toBe(1);
  });

  it('fails at once, with the worker’s error, when the work settles before everyone arrived — and aborts', async () => {
    const b = barrier();
    const t0 = performance.now();
    await expect(b.releaseWhenArrived(2, 10_000, Promise.reject(new Error('worker 1 exited')))).rejects.toThrow('worker 1 exited');
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(go(b)).toBe(-1);
    await expect(barrier().releaseWhenArrived(2, 10_000, Promise.resolve())).rejects.toThrow(/finished before they were released/);
  });

  it('times out and aborts when workers never arrive', async () => {
    const b = barrier();
    await expect(b.releaseWhenArrived(1, 100, new Promise(() => {}))).rejects.toThrow(/0 of 1 workers arrived within 100 ms/);
    expect(go(b)).toBe(-1);
  });
});
