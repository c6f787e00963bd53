/**
 * The price of a change, measured: this build's one-thread allocation cycle (allocate + write 4
 * sectors + put + free, discard off) against another build of sab-alloc — typically the previous
 * commit, checked out in a git worktree and built — in the same interleaved rounds of one process,
 * so a slow patch of the machine hits both alike. Also this build with the allocation oracle off,
 * which prices the oracle (and shows it costs nothing when off).
 *
 * The other build is loaded by its path (`<dir>/dist/src/index.js`) and only its public API is used
 * (createFilesystem, allocBucket, write, put, free), so any build since 0.1 will do. A ratio is
 * computed round by round (this build's ns per cycle ÷ the other's in the same round); the figure is
 * the median ratio with its interquartile range and min–max. Ratios, not absolute times, are what
 * to trust on these machines (docs/benchmarks.md).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createFilesystem } from '../alloc/lifecycle.js';
import { ALL_CONFIGS, configLabel, type AllocConfig } from './cycle.js';
import { timeRounds, type TimedTask } from './timing.js';
import { summarize, type Summary } from './stats.js';

/** The part of a build's API the cycle needs (0.1 builds included). */
interface CycleApi {
  createFilesystem(o: Record<string, unknown>): {
    allocBucket(): unknown;
    write(ob: unknown, sectors: number): unknown;
    put(ob: unknown): void;
    free(e: unknown): void;
  };
}

export interface AgainstOptions {
  /** Root of the other build's checkout (its dist/ built). */
  dir: string;
  rounds: number;
  timeMs: number;
  warmupMs: number;
  seed: number;
  configs?: readonly AllocConfig[];
  onTask?: (done: number, total: number, name: string) => void;
}

/** A ratio computed round by round, summarised (median, IQR, min–max, every round's value). */
export type Ratio = Summary;

export interface AgainstRow {
  label: string;
  config: AllocConfig;
  /** ns per cycle, median over rounds: this build (oracle on, the default), oracle off, the other build. */
  ns: { current: number; oracleOff: number; other: number };
  /** This build ÷ the other build, round by round. */
  vsOther: Ratio;
  /** Oracle on ÷ oracle off (this build), round by round: the oracle's price. */
  oracle: Ratio;
}

export interface AgainstResult {
  dir: string;
  rounds: number;
  timeMs: number;
  rows: AgainstRow[];
}

const CYCLE = { buckets: 1024, bucketSectors: 8, openBuckets: 1024, discard: false } as const;

function ratio(a: readonly number[], b: readonly number[]): Ratio {
  return summarize(a.map((x, i) => x / b[i]!));
}

function cycleTask(name: string, api: CycleApi, config: AllocConfig, extra: Record<string, unknown> = {}): TimedTask {
  const fs = api.createFilesystem({ ...CYCLE, ...config, ...extra });
  return {
    name,
    fn: () => {
      const ob = fs.allocBucket();
      const e = fs.write(ob, 4);
      fs.put(ob);
      fs.free(e);
    },
  };
}

/**
 * Loads the other build's allocator (dist/src/alloc/index.js: the allocator alone, whatever that
 * build's CLI depends on); a clear error when the directory holds none.
 */
export async function loadBuild(dir: string): Promise<CycleApi> {
  const entry = resolve(dir, 'dist', 'src', 'alloc', 'index.js');
  if (!existsSync(entry)) throw new Error(`--against: ${entry} not found: build that checkout first (npm ci && npm run build there)`);
  const mod = await import(pathToFileURL(entry).href) as Partial<CycleApi>;
  if (typeof mod.createFilesystem !== 'function') throw new Error(`--against: ${entry} is not a sab-alloc build (no createFilesystem)`);
  return mod as CycleApi;
}

export async function runAgainst(o: AgainstOptions): Promise<AgainstResult> {
  const other = await loadBuild(o.dir);
  const current: CycleApi = { createFilesystem: (opts) => createFilesystem(opts) as never };
  const configs = o.configs ?? ALL_CONFIGS;
  const tasks: TimedTask[] = configs.flatMap((c) => [
    cycleTask(`current ${configLabel(c)}`, current, c),
    cycleTask(`oracle-off ${configLabel(c)}`, current, c, { oracle: false }),
    cycleTask(`other ${configLabel(c)}`, other, c),
  ]);
  const times = timeRounds(tasks, { rounds: o.rounds, timeMs: o.timeMs, warmupMs: o.warmupMs, seed: o.seed, ...(o.onTask ? { onTask: o.onTask } : {}) });
  const rows = configs.map((c): AgainstRow => {
    const label = configLabel(c);
    const cur = times.get(`current ${label}`)!;
    const off = times.get(`oracle-off ${label}`)!;
    const oth = times.get(`other ${label}`)!;
    const med = (xs: number[]): number => summarize(xs).median;
    return { label, config: c, ns: { current: med(cur), oracleOff: med(off), other: med(oth) }, vsOther: ratio(cur, oth), oracle: ratio(cur, off) };
  });
  return { dir: resolve(o.dir), rounds: o.rounds, timeMs: o.timeMs, rows };
}
