/**
 * Single-thread timing with tinybench, in interleaved rounds.
 *
 * Each task is a function doing one operation. Timing one call of a ~10 ns operation with
 * performance.now (which itself costs tens of ns) measures the timer, so every tinybench sample is a
 * batch of B calls sized to take ~25 µs, reported through `overriddenDuration` as the batch mean.
 * A round runs every task once, in a seeded-shuffled order, for `timeMs` each; a figure is the
 * median over rounds of each round's median sample, with the min–max across rounds (stats.ts).
 * Median samples, because on a shared 2-core machine a batch that the scheduler preempts is ten
 * times too long and would drag a mean around; the price is that a rare amortised cost (a cursor
 * wrapping round a half-full device once per n/2 cycles: one extra load per cycle) is left out of
 * the time, though not out of the Atomics count. Many short rounds beat few long ones here: this
 * host's speed flips between two levels (~1.2 and ~2.1 µs per cycle) every few seconds, whatever
 * the load average says, and a fix and its baseline measured 10 ms apart see the same level where
 * two measured 2 s apart often do not (40 rounds × 10 ms gave a price IQR of about ±0.5%, 10 × 60 ms
 * about ±2%).
 */
import { Bench } from 'tinybench';
import { streamRng, type Rng } from '../shared/prng.js';

export interface TimedTask {
  name: string;
  /** One call. Must be synchronous. */
  fn: () => unknown;
  /** Operations one call of `fn` performs (raw-cost tasks loop inside fn); default 1. */
  opsPerCall?: number;
  /**
   * Instead of timing `fn` calls: performs `n` operations and returns the milliseconds to charge
   * for them (so untimed clean-up, e.g. putting back the buckets a batch of allocations opened,
   * stays out of the figure).
   */
  timeBatch?: (n: number) => number;
}

export interface RoundOptions {
  rounds: number;
  /** Time budget per task per round. */
  timeMs: number;
  /** Warm-up per task before round 0 (JIT, caches); not measured. */
  warmupMs: number;
  seed: number;
  /** Target duration of one batch (one sample). */
  batchNs?: number;
  /** Called after each task in each round (progress): tasks timed so far, of rounds × tasks. */
  onTask?: (done: number, total: number, task: string) => void;
}

/** Batch size: how many calls make one ~batchNs sample. Also warms the task up. */
function calibrate(t: TimedTask, warmupMs: number, batchNs = 25_000): { batch: number; nsPerCall: number } {
  let calls = 0;
  let charged = 0;
  const t0 = performance.now();
  do {
    if (t.timeBatch !== undefined) charged += t.timeBatch(1);
    else t.fn();
    calls++;
  } while (performance.now() - t0 < Math.max(warmupMs, 0.5) && calls < 1e7);
  const elapsed = t.timeBatch !== undefined ? charged : performance.now() - t0;
  const nsPerCall = (elapsed * 1e6) / calls;
  return { batch: Math.max(1, Math.min(100_000, Math.ceil(batchNs / Math.max(nsPerCall, 0.1)))), nsPerCall };
}

/** A seeded Fisher–Yates shuffle, as a copy: the order of every interleaved round here and in the sweeps. */
export function shuffled<T>(xs: readonly T[], rng: Rng): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** ns per operation for every task, one value per round (in round order). */
export function timeRounds(tasks: readonly TimedTask[], o: RoundOptions): Map<string, number[]> {
  const rng = streamRng(o.seed >>> 0, 0xbe7c);
  const batches = new Map<string, number>();
  for (const t of tasks) batches.set(t.name, calibrate(t, o.warmupMs, o.batchNs).batch);
  const out = new Map<string, number[]>(tasks.map((t) => [t.name, []]));
  let done = 0;
  for (let r = 0; r < o.rounds; r++) {
    for (const t of shuffled(tasks, rng)) {
      out.get(t.name)!.push(timeOne(t, batches.get(t.name)!, o.timeMs));
      o.onTask?.(++done, o.rounds * tasks.length, t.name);
    }
  }
  return out;
}

function timeOne(t: TimedTask, batch: number, timeMs: number): number {
  const fn = t.fn;
  const timeBatch = t.timeBatch;
  const ops = batch * (t.opsPerCall ?? 1);
  const bench = new Bench({ time: timeMs, iterations: 2, warmup: false, throws: true });
  bench.add(t.name, () => {
    if (timeBatch !== undefined) {
      const dt = timeBatch(batch);
      return { overriddenDuration: dt / ops, overriddenIterationCost: dt };
    }
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) fn();
    const dt = performance.now() - t0;
    return { overriddenDuration: dt / ops, overriddenIterationCost: dt };
  });
  const [task] = bench.runSync();
  const result = task!.result;
  if (result.state !== 'completed') {
    throw new Error(`benchmark task ${t.name}: ${result.state === 'errored' ? result.error.message : result.state}`);
  }
  return result.latency.p50 * 1e6;
}
