/**
 * Race-rate sweep: how often the unfixed early allocator hands out a bucket twice, as the window
 * between reading a candidate's record and publishing it grows (a spin delay injected at the
 * candidateRead race point, on every pass) and as workers are added — the shape of the window — and
 * the same settings for every fix, where the rate must stay zero.
 *
 * "Duplicates" are duplicate allocations as the allocation oracle counts them: every publish of a
 * bucket that was not, in truth, free at the gen published, once each (fs.stats()). Beside them are
 * the racy allocations — those whose own commit hit an AllocError, what the writers saw — and the
 * commit errors by kind. A zero count is reported with its rule-of-three 95% upper bound,
 * 3 / allocations: what the run can and cannot rule out.
 *
 * Delays are spins, not sleeps: a spin holds its core for exactly the delay, as a preempted task
 * would keep its window open, while an Atomics.wait sleep cannot be shorter than the scheduler's
 * wake-up latency (~50–100 µs), which would flatten the small delays. Each configuration's rounds
 * are pooled (rates are counts), and every run's filesystem is fsck'd afterwards.
 */
import { streamRng } from '../shared/prng.js';
import { raceRate, type Rate } from '../torture/rates.js';
import { configLabel, type AllocConfig } from './cycle.js';
import { ERROR_KIND_NAMES, type ErrorKindName } from '../alloc/types.js';
import { runRound, type BenchPool } from './pool.js';
import { shuffled } from './timing.js';

export const RACE_CONFIGS: readonly AllocConfig[] = [
  { allocator: 'early', fix: 'none', cursorFix: false },
  { allocator: 'early', fix: 'seqlock', cursorFix: false },
  { allocator: 'early', fix: 'keylock', cursorFix: false },
  { allocator: 'freelist', fix: 'none', cursorFix: false },
];

/** 0 = no delay (race hook at policy none). */
export const FULL_DELAYS_NS: readonly number[] = [0, 1_000, 10_000, 100_000, 1_000_000];

export interface RaceOptions {
  delaysNs: readonly number[];
  workers: readonly number[];
  configs?: readonly AllocConfig[];
  rounds: number;
  durationMs: number;
  seed: number;
  /** Chance of delaying each pass of candidateRead (not scaled by worker count). Default 1. */
  probability?: number;
  buckets?: number;
  onRun?: (done: number, total: number, label: string) => void;
}

export interface RacePoint {
  config: AllocConfig;
  label: string;
  workers: number;
  delayNs: number;
  allocations: number;
  /** Duplicate allocations (the oracle). */
  duplicates: number;
  /** Allocations whose commit hit an AllocError. */
  racy: number;
  /** Commit errors by kind (every kind of the error log), and their total. */
  errors: Record<ErrorKindName, number> & { total: number };
  /** Duplicate allocations per allocation, with its 95% interval (Wilson, or rule of three at zero). */
  rate: Rate;
  /** Runs whose fsck found violations, of `runs`. */
  fsckFailures: number;
  runs: number;
}

export interface RaceResult {
  delaysNs: number[];
  workers: number[];
  rounds: number;
  durationMs: number;
  probability: number;
  buckets: number;
  points: RacePoint[];
}

export function delayLabel(ns: number): string {
  if (ns === 0) return 'none';
  if (ns >= 1e6) return `${ns / 1e6} ms`;
  if (ns >= 1e3) return `${ns / 1e3} µs`;
  return `${ns} ns`;
}

export async function runRaceSweep(bp: BenchPool, o: RaceOptions): Promise<RaceResult> {
  const configs = o.configs ?? RACE_CONFIGS;
  const probability = o.probability ?? 1;
  const buckets = o.buckets ?? 1024;
  type Acc = Omit<RacePoint, 'rate'>;
  const acc = new Map<string, Acc>();
  const key = (c: AllocConfig, w: number, d: number): string => `${configLabel(c)}@${w}@${d}`;
  const total = o.rounds * o.delaysNs.length * o.workers.length * configs.length;
  let done = 0;
  try {
    for (let r = 0; r < o.rounds; r++) {
      for (const d of o.delaysNs) {
        if (d === 0) bp.race.setPolicy('none');
        else bp.race.setDelay({ kind: 'spin', ns: d, probability, points: ['candidateRead'], scaleByWorkers: false });
        for (const w of o.workers) {
          for (const config of shuffled(configs, streamRng(o.seed >>> 0, 0x7ace + r * 1024 + w * 16))) {
            const out = await runRound(bp, {
              config, workers: w, durationMs: o.durationMs, buckets, bucketSectors: 8, writeSectors: 4, checkEvery: 1, raceHook: true, fsck: true,
            });
            const k = key(config, w, d);
            const a: Acc = acc.get(k) ?? {
              config, label: configLabel(config), workers: w, delayNs: d, allocations: 0, duplicates: 0, racy: 0,
              errors: { ...Object.fromEntries(ERROR_KIND_NAMES.map((k) => [k, 0])) as Record<ErrorKindName, number>, total: 0 }, fsckFailures: 0, runs: 0,
            };
            a.allocations += out.allocations;
            a.racy += out.racy;
            a.duplicates += out.duplicates;
            for (const k of ERROR_KIND_NAMES) a.errors[k] += out.errors[k] ?? 0;
            a.errors.total += out.errors.total;
            a.fsckFailures += out.fsck?.ok === false ? 1 : 0;
            a.runs++;
            acc.set(k, a);
            o.onRun?.(++done, total, `${configLabel(config)} × ${w}, delay ${delayLabel(d)}`);
          }
        }
      }
    }
  } finally {
    bp.race.setPolicy('none');
  }
  const points: RacePoint[] = [];
  for (const config of configs) {
    for (const w of o.workers) {
      for (const d of o.delaysNs) {
        const a = acc.get(key(config, w, d))!;
        points.push({ ...a, rate: raceRate(a.duplicates, a.allocations) });
      }
    }
  }
  return { delaysNs: [...o.delaysNs], workers: [...o.workers], rounds: o.rounds, durationMs: o.durationMs, probability, buckets, points };
}
