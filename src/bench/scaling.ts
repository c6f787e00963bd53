/**
 * Scaling sweep: allocation throughput (allocate + write + put + free cycles per second, all workers
 * together) for each worker count × allocator × fix × cursor setting, in repeated rounds. A round
 * runs every configuration once: worker counts in order, the configurations of each worker count in
 * a seeded-shuffled order, so a fix and its baseline are always measured minutes apart at most and
 * never in a fixed order. Each figure is the median over rounds with its spread; the fix prices
 * (prices.ts) divide configurations round by round.
 *
 * Workers run without a race hook, like the single-thread figures: the allocator's own cost (a hook
 * at policy none would still add an Atomics.load at every race point a cycle passes).
 */
import { streamRng } from '../shared/prng.js';
import { ALL_CONFIGS, configLabel, type AllocConfig } from './cycle.js';
import { runRound, type BenchPool } from './pool.js';
import { summarize, type Summary } from './stats.js';
import { shuffled } from './timing.js';

export interface ScalingOptions {
  workers: readonly number[];
  configs?: readonly AllocConfig[];
  rounds: number;
  durationMs: number;
  /** Untimed warm-up per configuration at the largest worker count (JIT in every worker). */
  warmupMs: number;
  seed: number;
  buckets?: number;
  onRun?: (done: number, total: number, label: string) => void;
}

export interface ScalingPoint {
  config: AllocConfig;
  label: string;
  workers: number;
  /** Cycles per second, all workers: median over rounds, spread, every round's value. */
  throughput: Summary;
  allocations: number;
  /** Allocations whose commit hit an AllocError, all rounds (only the unfixed early path, at ≥ 2 workers). */
  racy: number;
}

export interface ScalingResult {
  workers: number[];
  rounds: number;
  durationMs: number;
  buckets: number;
  bucketSectors: number;
  writeSectors: number;
  points: ScalingPoint[];
}

export const SCALING_BUCKETS = 4096;
const BUCKET_SECTORS = 8;
const WRITE_SECTORS = 4;

export async function runScaling(bp: BenchPool, o: ScalingOptions): Promise<ScalingResult> {
  const configs = o.configs ?? ALL_CONFIGS;
  const buckets = o.buckets ?? SCALING_BUCKETS;
  const base = { buckets, bucketSectors: BUCKET_SECTORS, writeSectors: WRITE_SECTORS, checkEvery: 16 };
  const maxW = Math.max(...o.workers);
  if (o.warmupMs > 0) {
    for (const config of configs) await runRound(bp, { ...base, config, workers: maxW, durationMs: o.warmupMs });
  }
  const samples = new Map<string, { tp: number[]; allocations: number; racy: number }>();
  const key = (c: AllocConfig, w: number): string => `${configLabel(c)}@${w}`;
  const total = o.rounds * o.workers.length * configs.length;
  let done = 0;
  for (let r = 0; r < o.rounds; r++) {
    for (const w of o.workers) {
      for (const config of shuffled(configs, streamRng(o.seed >>> 0, 0x5ca1 + r * 64 + w))) {
        const out = await runRound(bp, { ...base, config, workers: w, durationMs: o.durationMs });
        const k = key(config, w);
        const s = samples.get(k) ?? { tp: [], allocations: 0, racy: 0 };
        s.tp.push(out.throughput);
        s.allocations += out.allocations;
        s.racy += out.racy;
        samples.set(k, s);
        o.onRun?.(++done, total, `${configLabel(config)} × ${w}`);
      }
    }
  }
  const points: ScalingPoint[] = [];
  for (const w of o.workers) {
    for (const config of configs) {
      const s = samples.get(key(config, w))!;
      points.push({ config, label: configLabel(config), workers: w, throughput: summarize(s.tp), allocations: s.allocations, racy: s.racy });
    }
  }
  return { workers: [...o.workers], rounds: o.rounds, durationMs: o.durationMs, buckets, bucketSectors: BUCKET_SECTORS, writeSectors: WRITE_SECTORS, points };
}
