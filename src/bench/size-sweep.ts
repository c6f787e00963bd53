/**
 * Scan cost as the device grows: the cycle (allocate + write + put + free, one thread) on devices of
 * 1K … 1M buckets whose first half is already full of data, for each allocator with and without the
 * cursor fix. The unfixed early scan restarts at bucket 0 and walks over every used bucket on every
 * allocation (O(n)); the cursor fix starts where the last allocation ended (amortised O(1): it walks
 * the used half once per wrap); the freelist allocator jumps through the multi-level free-space
 * bitmap (src/alloc/bitmap-index.ts): a few words per level without the cursor, four levels at 1M
 * buckets, so O(log n); O(1) with it.
 *
 * Small buckets (8 sectors) keep a million-bucket device near 100 MB: records 32 MB, backpointers
 * 32 MB, extents buckets × 32 B. Every size's filesystems are alive together (interleaved rounds),
 * so the full sweep holds ~0.5 GB of them (0.9–1.1 GB resident, measured); the result records the
 * resident size.
 */
import { countAtomicsPhases, addCounts, type AtomicsCount } from './atomics-count.js';
import { timeRounds, type RoundOptions } from './timing.js';
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
  /** Resident memory once every size's filesystems were built (all are alive together). */
  rssMiB: number;
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
  onTask?: RoundOptions['onTask'];
}

export const SIZE_BUCKET_SECTORS = 8;
const WRITE_SECTORS = 4;
export const FLAT_TARGET = 1.5;

export function runSizeSweep(o: SizeOptions): SizeResult {
  const fill = o.fill ?? 0.5;
  const configs = o.configs ?? SIZE_CONFIGS;
  // Every size's filesystems are built first and measured in the same interleaved rounds: on a
  // shared machine the load shifts over tens of seconds, and a sweep that finished one size before
  // starting the next would read those shifts as a size effect.
  const runners: { runner: CycleRunner; config: AllocConfig; buckets: number; name: string }[] = [];
  for (const buckets of o.sizes) {
    o.onSize?.(buckets);
    for (const config of configs) {
      runners.push({
        runner: new CycleRunner(createCycleFs(config, { buckets, bucketSectors: SIZE_BUCKET_SECTORS, fill }), WRITE_SECTORS),
        config, buckets, name: `${configLabel(config)} @${buckets}`,
      });
    }
  }
  const rssMiB = Math.round(process.memoryUsage().rss / 2 ** 20);
  const times = timeRounds(runners.map((r) => ({ name: r.name, fn: () => r.runner.cycle() })), {
    rounds: o.rounds, timeMs: o.timeMs, warmupMs: o.warmupMs, seed: o.seed, ...(o.onTask ? { onTask: o.onTask } : {}),
  });
  const points: SizePoint[] = runners.map((r) => {
    const ns = summarize(times.get(r.name)!);
    // Enough calls for a stable count, few enough that an O(n) scan at 1M stays quick.
    const calls = Math.max(2, Math.min(500, Math.round(2e7 / Math.max(ns.median, 1))));
    return { config: r.config, label: configLabel(r.config), buckets: r.buckets, ns, atomics: addCounts(Object.values(countAtomicsPhases(r.runner.phases(), calls))) };
  });
  const lo = Math.min(...o.sizes);
  const hi = Math.max(...o.sizes);
  const rows = configs.map((config): SizeRow => {
    const label = configLabel(config);
    const at = (n: number): number => points.find((p) => p.label === label && p.buckets === n)!.ns.median;
    const growth = at(hi) / at(lo);
    return { label, config, growth, flat: growth <= FLAT_TARGET };
  });
  return { sizes: [...o.sizes], fill, bucketSectors: SIZE_BUCKET_SECTORS, writeSectors: WRITE_SECTORS, rssMiB, points, rows };
}
