/**
 * The one benchmark harness, behind `sab-alloc bench` (and the `npm run bench:*` aliases): a plan
 * (full, quick, or the test's tiny one) for the sections asked for, an up-front duration estimate,
 * the sections in order (micro → size → contended → scaling → race: the single-thread ones first,
 * before any worker exists), and one result object holding the machine, the seed, the plan and
 * every sample.
 *
 * Sections: micro (one thread: raw Atomics costs, lock + unlock, reads, one allocation, the cycle),
 * contended (lock throughput with 1–4 workers), scaling (allocator throughput vs workers), race
 * (race rate vs injected delay), size (scan cost vs device size). Two shorthands name what the
 * former separate scripts measured: `locks` = micro's raw, lock and read groups + contended;
 * `alloc` = micro's raw and cycle groups + size.
 *
 * Workers are started once per section, before its first timed round, and terminated in a finally
 * whatever happens.
 */
import os from 'node:os';
import { randomSeed } from '../shared/prng.js';
import { ConfigError } from '../shared/validate.js';
import { count } from '../torture/format.js';
import { runMicro, MICRO_GROUPS, microTaskCount, type MicroGroup, type MicroResult } from './micro.js';
import { runSizeSweep, SIZE_CONFIGS, type SizeResult } from './size-sweep.js';
import { runScaling, type ScalingResult } from './scaling.js';
import { FULL_DELAYS_NS, RACE_CONFIGS, runRaceSweep, type RaceResult } from './race-sweep.js';
import { startBenchPool } from './pool.js';
import { runContended, CONTENDED_KINDS, type ContendedResult } from './contended.js';
import { lockTargets, type LockTarget } from './lock-targets.js';
import type { WorkerSpawnOptions } from '../shared/worker-pool.js';
import { pricesFromCycles, pricesFromScaling, type PriceRow } from './prices.js';
import { ALL_CONFIGS } from './cycle.js';

export type Section = 'micro' | 'contended' | 'scaling' | 'race' | 'size';
/** Every section, in the order a plan lists them. */
export const SECTIONS: readonly Section[] = ['micro', 'contended', 'scaling', 'race', 'size'];
export type PlanKind = 'full' | 'quick' | 'tiny';

/** Names `--only` accepts besides the sections: each stands for part of micro plus one section. */
export type Shorthand = 'locks' | 'alloc';
export const SHORTHANDS: Readonly<Record<Shorthand, { sections: readonly Section[]; microGroups: readonly MicroGroup[]; what: string }>> = {
  locks: { sections: ['micro', 'contended'], microGroups: ['raw', 'lock', 'read'], what: 'uncontended lock costs (micro) + contended lock throughput' },
  alloc: { sections: ['micro', 'size'], microGroups: ['raw', 'cycle', 'oracle'], what: 'the one-thread allocation cycle (micro), with and without the allocation oracle, + scan cost vs device size' },
};
/** What `--only` accepts: sections and shorthands. */
export const ONLY_NAMES: readonly string[] = [...SECTIONS, ...Object.keys(SHORTHANDS)];

export interface BenchPlan {
  kind: PlanKind;
  sections: Section[];
  micro: { rounds: number; timeMs: number; warmupMs: number; countCalls: number; groups: MicroGroup[] };
  size: { sizes: number[]; rounds: number; timeMs: number; warmupMs: number; fill: number };
  contended: { workers: number[]; rounds: number; runMs: number };
  scaling: { workers: number[]; rounds: number; durationMs: number; warmupMs: number };
  race: { delaysNs: number[]; workers: number[]; rounds: number; durationMs: number; probability: number };
}

/**
 * The plan for `kind` over `only` (sections and shorthands; default every section). A section
 * named on its own runs whole; micro named only through shorthands runs the union of their groups.
 */
export function makePlan(kind: PlanKind, only: readonly string[] = SECTIONS): BenchPlan {
  const unknown = only.filter((name) => !ONLY_NAMES.includes(name));
  if (unknown.length > 0) throw new ConfigError('only', `unknown: ${unknown.join(', ')}; must be a comma-separated list of ${ONLY_NAMES.join(', ')}`);
  const wanted = new Set<Section>();
  const groupSet = new Set<MicroGroup>();
  for (const name of only) {
    if (name in SHORTHANDS) {
      const sh = SHORTHANDS[name as Shorthand];
      sh.sections.forEach((x) => wanted.add(x));
      sh.microGroups.forEach((g) => groupSet.add(g));
    } else {
      wanted.add(name as Section);
      if (name === 'micro') MICRO_GROUPS.forEach((g) => groupSet.add(g));
    }
  }
  const sections = SECTIONS.filter((x) => wanted.has(x));
  if (sections.length === 0) throw new ConfigError('only', `must name at least one of ${ONLY_NAMES.join(', ')}`);
  const groups = MICRO_GROUPS.filter((g) => groupSet.has(g));
  if (kind === 'full') {
    return {
      kind, sections,
      micro: { rounds: 40, timeMs: 10, warmupMs: 50, countCalls: 1000, groups },
      size: { sizes: [1 << 10, 1 << 14, 1 << 16, 1 << 18, 1 << 20], rounds: 12, timeMs: 30, warmupMs: 30, fill: 0.5 },
      contended: { workers: [1, 2, 4], rounds: 5, runMs: 300 },
      scaling: { workers: [1, 2, 4, 8], rounds: 20, durationMs: 60, warmupMs: 100 },
      race: { delaysNs: [...FULL_DELAYS_NS], workers: [1, 2, 4, 8], rounds: 2, durationMs: 400, probability: 1 },
    };
  }
  if (kind === 'quick') {
    return {
      kind, sections,
      micro: { rounds: 10, timeMs: 8, warmupMs: 20, countCalls: 300, groups },
      size: { sizes: [1 << 10, 1 << 16, 1 << 20], rounds: 8, timeMs: 20, warmupMs: 10, fill: 0.5 },
      contended: { workers: [1, 2, 4], rounds: 2, runMs: 80 },
      scaling: { workers: [1, 2, 4], rounds: 6, durationMs: 50, warmupMs: 40 },
      race: { delaysNs: [...FULL_DELAYS_NS], workers: [1, 4], rounds: 1, durationMs: 100, probability: 1 },
    };
  }
  // tiny: the test's smoke run. Every section and file, minimal time.
  return {
    kind, sections,
    micro: { rounds: 1, timeMs: 4, warmupMs: 1, countCalls: 10, groups },
    size: { sizes: [1 << 10, 1 << 12], rounds: 1, timeMs: 4, warmupMs: 1, fill: 0.5 },
    contended: { workers: [1, 2], rounds: 1, runMs: 20 },
    scaling: { workers: [1, 2], rounds: 1, durationMs: 25, warmupMs: 0 },
    race: { delaysNs: [0, 10_000], workers: [1, 2], rounds: 1, durationMs: 25, probability: 1 },
  };
}

/** Seconds each section should take: its timed budget plus measured overheads (fills, fsck, RPC). */
export function estimateSections(p: BenchPlan): Record<Section, number> {
  const tasks = microTaskCount(p.micro.groups);
  const micro = tasks * (p.micro.rounds * p.micro.timeMs + p.micro.warmupMs) / 1000 + tasks * p.micro.countCalls * 3e-6 + 0.5;
  // Filling half a device costs ~2 µs per bucket per configuration; counting an O(n) scan a few calls.
  const size = p.size.sizes.reduce((a, n) => a + SIZE_CONFIGS.length * (n * 0.5 * 2e-6 + p.size.rounds * p.size.timeMs / 1000 + 0.05) + n * 2e-7, 0);
  const runOverhead = 0.015;
  const scaling = p.scaling.rounds * p.scaling.workers.length * ALL_CONFIGS.length * (p.scaling.durationMs / 1000 + runOverhead)
    + ALL_CONFIGS.length * (p.scaling.warmupMs / 1000 + runOverhead);
  const race = p.race.rounds * p.race.delaysNs.length * p.race.workers.length * RACE_CONFIGS.length * (p.race.durationMs / 1000 + runOverhead + 0.01);
  const pool = 1.5;
  // Each lock kind has its own pool (~0.3 s to start); a run's set-up and RPC round trip ~20 ms.
  const contended = CONTENDED_KINDS.length * (0.3 + p.contended.rounds * p.contended.workers.length * (p.contended.runMs / 1000 + 0.02));
  const all: Record<Section, number> = { micro, size, contended, scaling: scaling + pool, race: race + pool };
  for (const s of SECTIONS) if (!p.sections.includes(s)) all[s] = 0;
  return all;
}

export function estimateSeconds(p: BenchPlan): number {
  return Object.values(estimateSections(p)).reduce((a, b) => a + b, 0);
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  availableParallelism: number;
  node: string;
  platform: string;
  release: string;
  arch: string;
  totalMemGiB: number;
  /** ISO date the run started. */
  date: string;
  /** 1-minute load average when the run started (other work on a shared machine skews every figure). */
  loadAvgStart: number;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    node: process.version,
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
    totalMemGiB: Math.round(os.totalmem() / 2 ** 30),
    date: new Date().toISOString(),
    loadAvgStart: os.loadavg()[0]!,
  };
}

export const RESULT_SCHEMA = 'sab-alloc/bench@1';

export interface BenchResult {
  schema: typeof RESULT_SCHEMA;
  machine: MachineInfo;
  seed: number;
  plan: BenchPlan;
  estimatedSeconds: number;
  durationMs: number;
  /** 1-minute load average when the run ended. */
  loadAvgEnd: number;
  sectionMs: Partial<Record<Section, number>>;
  micro?: MicroResult;
  size?: SizeResult;
  scaling?: ScalingResult;
  race?: RaceResult;
  contended?: ContendedResult;
  /** Fix prices: from the scaling sweep (workers) and from the micro cycle figures (one thread). */
  prices?: { scaling: PriceRow[]; cycle: PriceRow[] };
  /** The lock targets (reported, never asserted), from the micro lock figures and the contended section. */
  lockTargets?: LockTarget[];
}

export interface SuiteHooks {
  /** Progress in estimated seconds of work done, of the total; `label` says what is running. */
  onProgress?: (doneS: number, totalS: number, label: string) => void;
  onSection?: (section: Section, estimateS: number) => void;
}

export interface SuiteOptions {
  plan: BenchPlan;
  seed?: number;
  /** Flags and resource limits for the benchmark's workers (default: this process's usable flags). */
  workerOptions?: WorkerSpawnOptions;
}

export async function runBenchSuite(o: SuiteOptions, hooks: SuiteHooks = {}): Promise<BenchResult> {
  const plan = o.plan;
  const seed = o.seed ?? randomSeed();
  const est = estimateSections(plan);
  const totalS = estimateSeconds(plan);
  const t0 = performance.now();
  const result: BenchResult = {
    schema: RESULT_SCHEMA, machine: machineInfo(), seed, plan, estimatedSeconds: totalS, durationMs: 0, loadAvgEnd: 0, sectionMs: {},
  };
  let before = 0;
  const progress = (section: Section, fraction: number, label: string): void => {
    hooks.onProgress?.(before + est[section] * Math.min(1, fraction), totalS, label);
  };
  const section = async (s: Section, run: () => Promise<void> | void): Promise<void> => {
    if (!plan.sections.includes(s)) return;
    hooks.onSection?.(s, est[s]);
    const ts = performance.now();
    await run();
    result.sectionMs[s] = performance.now() - ts;
    before += est[s];
    hooks.onProgress?.(before, totalS, `${s} done`);
  };

  await section('micro', () => {
    result.micro = runMicro({ ...plan.micro, seed, onTask: (d, t, task) => progress('micro', d / t, `micro: ${task}`) });
  });
  await section('size', () => {
    result.size = runSizeSweep({
      ...plan.size, seed,
      // Every size is built before the first timed round, so the bar stands still while filling.
      onSize: (b) => progress('size', 0, `size: filling ${count(b)} buckets`),
      onTask: (d, t, task) => progress('size', d / t, `size: ${task}`),
    });
  });
  await section('contended', async () => {
    result.contended = await runContended({
      ...plan.contended, ...(o.workerOptions !== undefined ? { workerOptions: o.workerOptions } : {}),
      onRun: (d, t, l) => progress('contended', d / t, `contended: ${l}`),
    });
  });
  const needPool = plan.sections.includes('scaling') || plan.sections.includes('race');
  if (needPool) {
    const size = Math.max(...(plan.sections.includes('scaling') ? plan.scaling.workers : [1]), ...(plan.sections.includes('race') ? plan.race.workers : [1]));
    const bp = await startBenchPool(size, seed, undefined, o.workerOptions);
    try {
      await section('scaling', async () => {
        result.scaling = await runScaling(bp, { ...plan.scaling, seed, onRun: (d, t, l) => progress('scaling', d / t, `scaling: ${l}`) });
      });
      await section('race', async () => {
        result.race = await runRaceSweep(bp, { ...plan.race, seed, onRun: (d, t, l) => progress('race', d / t, `race: ${l}`) });
      });
    } finally {
      await bp.terminate();
    }
  }
  if (result.scaling || result.micro) {
    result.prices = {
      scaling: result.scaling ? pricesFromScaling(result.scaling) : [],
      cycle: result.micro ? pricesFromCycles(result.micro) : [],
    };
  }
  const targets = lockTargets(result.micro, result.contended);
  if (targets.length > 0) result.lockTargets = targets;
  result.durationMs = performance.now() - t0;
  result.loadAvgEnd = os.loadavg()[0]!;
  return result;
}
