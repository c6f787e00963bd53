/**
 * Scan cost as the device grows: the cycle (allocate + write + put + free, one thread) on devices of
 * 1K … 1M buckets whose first half is already full of data, for each allocator with and without the
 * cursor fix. The unfixed early scan restarts at bucket 0 and walks over every used bucket on every
 * allocation (O(n)); the cursor fix starts where the last allocation ended (amortised O(1): it walks
 * the used half once per wrap); the freelist allocator jumps through the free-space bitmap's summary
 * words (O(n / 1024) without the cursor, O(1) with it).
 *
 * Small buckets (8 sectors) keep a million-bucket device at ~100 MB: records 32 MB, backpointers
 * 32 MB, extents 2 × buckets × 32 B. Only one size's filesystems are alive at a time.
 */
import { countAtomicsPhases, addCounts, type AtomicsCount } from './atomics-count.js';
import { timeRounds } from './timing.js';
import { summarize, type Summary } from './stats.js';
import { CycleRunner, configLabel, createCycleFs, type AllocConfig } from './cycle.js';

export const SIZE_CONFIGS: readonly AllocConfig[] = [
  { allocator: 'early', fix: 'none', cursorFix: false },
  { allocator: 'early', fix: 'none', cursorFix: true },
  { allocator: 'freelist', fix: 'none', cursorFix: false },
  { allocator: 'freelist', fix: 'none', cursorFix: true },
];

export interface SizePoint {
  config: AllocConfig;
  label: string;
  buckets: number;
  /** ns per cycle over rounds. */
  ns: Summary;
  /** Atomics operations per cycle (counted after timing). */
  atomics: AtomicsCount;
}

export interface SizeRow {
  label: string;
  config: AllocConfig;
  /** Largest size's median over the smallest's. */
  growth: number;
  /** Whether growth ≤ 1.5 (the target for the cursor fix and the freelist allocator). */
  flat: boolean;
}

export interface SizeResult {
  sizes: number[];
  fill: number;
  bucketSectors: number;
  writeSectors: number;
  points: SizePoint[];
  rows: SizeRow[];
}

export interface SizeOptions {
  sizes: readonly number[];
  rounds: number;
  timeMs: number;
  warmupMs: number;
  seed: number;
  fill?: number;
  configs?: readonly AllocConfig[];
  /** Called when a size starts (filling takes a moment at 1M) and after each task. */
  onSize?: (buckets: number) => void;
  onTask?: (round: number, task: string) => void;
}

export const SIZE_BUCKET_SECTORS = 8;
const WRITE_SECTORS = 4;
export const FLAT_TARGET = 1.5;

export function runSizeSweep(o: SizeOptions): SizeResult {
  const fill = o.fill ?? 0.5;
  const configs = o.configs ?? SIZE_CONFIGS;
  const points: SizePoint[] = [];
  for (const buckets of o.sizes) {
    o.onSize?.(buckets);
    const runners = configs.map((config) => new CycleRunner(
      createCycleFs(config, { buckets, bucketSectors: SIZE_BUCKET_SECTORS, fill }), WRITE_SECTORS));
    const tasks = runners.map((r, i) => ({ name: `${configLabel(configs[i]!)} @${buckets}`, fn: () => r.cycle() }));
    const times = timeRounds(tasks, {
      rounds: o.rounds, timeMs: o.timeMs, warmupMs: o.warmupMs, seed: o.seed + buckets, ...(o.onTask ? { onTask: o.onTask } : {}),
    });
    runners.forEach((r, i) => {
      const ns = summarize(times.get(tasks[i]!.name)!);
      // Enough calls for a stable count, few enough that an O(n) scan at 1M stays quick.
      const calls = Math.max(2, Math.min(500, Math.round(2e7 / Math.max(ns.median, 1))));
      points.push({ config: configs[i]!, label: configLabel(configs[i]!), buckets, ns, atomics: addCounts(Object.values(countAtomicsPhases(r.phases(), calls))) });
    });
  }
  const lo = Math.min(...o.sizes);
  const hi = Math.max(...o.sizes);
  const rows = configs.map((config): SizeRow => {
    const label = configLabel(config);
    const at = (n: number): number => points.find((p) => p.label === label && p.buckets === n)!.ns.median;
    const growth = at(hi) / at(lo);
    return { label, config, growth, flat: growth <= FLAT_TARGET };
  });
  return { sizes: [...o.sizes], fill, bucketSectors: SIZE_BUCKET_SECTORS, writeSectors: WRITE_SECTORS, points, rows };
}
