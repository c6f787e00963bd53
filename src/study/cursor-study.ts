/**
 * The cursor study: does advancing the allocation cursor make the unfixed early allocator race less
 * or more, under which conditions, and why. docs/cursor.md reads a full run.
 *
 * Two measures, because one duplicate breeds more (a bucket handed out twice is freed under its
 * second holder and handed out again):
 *
 *  - the long-run rate: duplicate allocations (the allocation oracle's count, once per duplicate)
 *    per allocation over fixed-length runs — the race and its cascade mixed, as the demo and a
 *    torture run measure it;
 *  - the cascade-free rate: many short runs from a fresh device, each stopped at its first
 *    duplicate; allocations until then (a run without one counts all it made, censored), so
 *    first duplicates ÷ allocations at risk is the per-allocation hazard of the race itself.
 *
 * Conditions vary one factor at a time around a baseline for each workload shape (the torture mix;
 * the simple allocate + write + put + free cycle): device fill, device size, workers, the spin
 * injected at the candidate read, discards. Each condition is run with and without the cursor fix
 * back to back, in an order that alternates each round, the conditions in a seeded-shuffled order
 * each round, so a slow patch of the machine falls on both sides alike. Rates are pooled over
 * rounds with Wilson 95% intervals; the ratio cursor / no cursor has a Katz log interval, which
 * assumes independent events — the cascade breaks that, so the per-round ratios are kept beside it.
 *
 * Mechanism counters, from a probe at the race points (cursor-worker.ts): how often a candidate read
 * finds another in-flight scan holding the same bucket, how often the is-open re-check under the
 * freelist lock turns a held candidate away, how many allocations pass before a bucket is handed out
 * again (the reuse lag: how far behind the cursor a freed bucket waits), and the scan length.
 */
import { availableParallelism, cpus } from 'node:os';
import { quantileSorted } from '../torture/quantiles.js';
import { WorkerPool, compiledWorkerUrl } from '../shared/worker-pool.js';
import { StartBarrier } from '../shared/barrier.js';
import { streamRng, randomSeed } from '../shared/prng.js';
import { checkInt, checkKnownKeys } from '../shared/validate.js';
import { createFilesystem } from '../alloc/filesystem.js';
import { RaceControl } from '../race/control.js';
import { fillDevice } from '../bench/cycle.js';
import { shuffled } from '../bench/timing.js';
import { raceRate, type Rate } from '../torture/rates.js';
import { LAG_BINS, MECH_HEADER, emptyMech, type MechCounts, type Shape, type StudyRunResult } from './cursor-probe.js';
import type { CursorWorkerApi } from './cursor-worker.js';

export interface CursorCondition {
  shape: Shape;
  /** Fraction of buckets filled with data before the run (a prefix of the device). */
  fill: number;
  buckets: number;
  workers: number;
  /** Spin at the candidate read, ns (0: none); probability DELAY_PROBABILITY per candidate read. */
  delayNs: number;
  discard: boolean;
}

export const DELAY_PROBABILITY = 0.2;
export const SHAPES: readonly Shape[] = ['cycle', 'torture'];

/** The two baselines: 4 workers and a 20 µs spin, as the report's independent run and the demo. */
export const BASELINES: Readonly<Record<Shape, CursorCondition>> = {
  cycle: { shape: 'cycle', fill: 0.1, buckets: 256, workers: 4, delayNs: 20_000, discard: false },
  torture: { shape: 'torture', fill: 0.1, buckets: 256, workers: 4, delayNs: 20_000, discard: true },
};

export interface PlannedCondition {
  condition: CursorCondition;
  /** Which factor differs from its shape's baseline ('baseline' for the baseline). */
  varied: string;
  label: string;
}

export function conditionLabel(c: CursorCondition): string {
  const delay = c.delayNs === 0 ? 'no delay' : c.delayNs >= 1000 ? `${c.delayNs / 1000} µs` : `${c.delayNs} ns`;
  return `${c.shape}, fill ${Math.round(c.fill * 100)}%, ${c.buckets} buckets, ${c.workers} workers, ${delay}, discard ${c.discard ? 'on' : 'off'}`;
}

/** Baselines, and each factor varied alone around them (quick: the baselines only). */
export function planConditions(quick: boolean): PlannedCondition[] {
  const out: PlannedCondition[] = [];
  const add = (c: CursorCondition, varied: string): void => { out.push({ condition: c, varied, label: conditionLabel(c) }); };
  for (const shape of SHAPES) {
    const b = BASELINES[shape];
    add(b, 'baseline');
    if (quick) continue;
    for (const fill of [0.5, 0.9]) add({ ...b, fill }, 'fill');
    add({ ...b, buckets: 4096 }, 'device size');
    for (const workers of [2, 8]) add({ ...b, workers }, 'workers');
    for (const delayNs of [0, 1000]) add({ ...b, delayNs }, 'delay');
    add({ ...b, discard: !b.discard }, 'discard');
  }
  return out;
}

export interface StudyOptions {
  quick?: boolean;
  /** Rounds of every condition (default 6; quick 2). */
  rounds?: number;
  /** Length of one long-run measurement, ms (default 250; quick 40). */
  durationMs?: number;
  /** Short runs per cursor setting per condition for the first-duplicate measure (default 60; quick 6). */
  firstRuns?: number;
  /** Longest a first-duplicate run goes on without one, ms (default 400; quick 60). */
  firstMaxMs?: number;
  seed?: number;
  /** Conditions to run instead of the plan (library use: a focused replication). */
  conditions?: readonly PlannedCondition[];
  onRun?: (done: number, total: number, label: string) => void;
}

export interface Pooled {
  runs: number;
  allocations: number;
  duplicates: number;
  rate: Rate;
  /** Each round's duplicates per allocation. */
  roundRates: number[];
  /** What the duplicates' writes broke (the oracle's consequence counters), pooled. */
  consequences: { overwrote: number; staleGen: number; awaitingDiscard: number; mixedTypes: number; shared: number; latent: number };
  /** Buckets the scans looked at per allocation. */
  scanLength: number;
  mech: MechCounts;
  /** Reuse lag, allocations: mean and the median's log2 bin as [low, high). */
  reuseLag: { mean: number; medianBin: [number, number] | null };
  elapsedMs: number;
}

export interface Ratio {
  value: number;
  low: number;
  high: number;
  /**
   * 'katz' (log interval), 'zero-corrected' (Katz with 0.5 added to a zero count), 'bootstrap'
   * (percentiles of the ratio over rounds resampled), 'none' (no events either side).
   */
  method: 'katz' | 'zero-corrected' | 'bootstrap' | 'none';
}

export interface ConditionResult extends PlannedCondition {
  cursor: Pooled;
  noCursor: Pooled;
  ratio: Ratio;
  /** cursor / no cursor in each round where both had duplicates. */
  roundRatios: number[];
  /** The cascade-free measure under the same condition. */
  first: FirstDuplicateResult;
}

export interface FirstDuplicateArm {
  runs: number;
  /** Runs that reached a duplicate. */
  events: number;
  /** Allocations (operation ids) at risk: up to and including the first duplicate, or all of a run without one. */
  exposure: number;
  hazard: Rate;
  /** Allocations until the first duplicate, of the runs that had one, sorted. */
  allocationsToFirst: number[];
  msToFirst: number[];
  quartiles: { allocations: [number, number, number] | null; ms: [number, number, number] | null };
}

export interface FirstDuplicateResult {
  cursor: FirstDuplicateArm;
  noCursor: FirstDuplicateArm;
  /** Hazard ratio cursor / no cursor (Katz on Poisson counts). */
  ratio: Ratio;
}

export interface CursorStudyResult {
  machine: { cpu: string; cores: number; node: string; date: string };
  params: { quick: boolean; rounds: number; durationMs: number; firstRuns: number; firstMaxMs: number; seed: number; delayProbability: number };
  conditions: ConditionResult[];
  elapsedMs: number;
}

const Z = 1.959963984540054;

/**
 * The long-run ratio's interval, by the run rather than the allocation: rounds are resampled with
 * replacement (each round's two runs together) and the pooled ratio recomputed; the 2.5th and
 * 97.5th percentiles bound it. One duplicate breeds others within a run, so allocations are not
 * independent trials and a binomial interval would be far too narrow; runs are independent.
 */
export function bootstrapRatio(cursor: readonly { duplicates: number; allocations: number }[], noCursor: readonly { duplicates: number; allocations: number }[], seed: number, draws = 2000): Ratio {
  const n = Math.min(cursor.length, noCursor.length);
  const sum = (xs: readonly { duplicates: number; allocations: number }[], idx: number[]): [number, number] => {
    let d = 0;
    let a = 0;
    for (const i of idx) { d += xs[i]!.duplicates; a += xs[i]!.allocations; }
    return [d, a];
  };
  const all = Array.from({ length: n }, (_, i) => i);
  const [d1, a1] = sum(cursor, all);
  const [d0, a0] = sum(noCursor, all);
  if (n === 0 || a1 === 0 || a0 === 0 || (d1 === 0 && d0 === 0)) return { value: NaN, low: 0, high: Number.MAX_VALUE, method: 'none' };
  const point = rateRatio(d1, a1, d0, a0);
  const rng = streamRng(seed, 0xb007);
  const ratios: number[] = [];
  for (let k = 0; k < draws; k++) {
    const idx = Array.from({ length: n }, () => rng.below(n));
    const [x1, m1] = sum(cursor, idx);
    const [x0, m0] = sum(noCursor, idx);
    // The same 0.5 correction as the point estimate when a resample has no duplicates on one side.
    const c = x1 === 0 || x0 === 0 ? 0.5 : 0;
    if (x1 + x0 === 0) continue;
    ratios.push(((x1 + c) / m1) / ((x0 + c) / m0));
  }
  ratios.sort((a, b) => a - b);
  return { value: point.value, low: quantileSorted(ratios, 0.025), high: quantileSorted(ratios, 0.975), method: 'bootstrap' };
}

/** Ratio of two rates x1/n1 over x0/n0 with a 95% log interval. */
export function rateRatio(x1: number, n1: number, x0: number, n0: number, poisson = false): Ratio {
  if (n1 <= 0 || n0 <= 0 || (x1 === 0 && x0 === 0)) return { value: NaN, low: 0, high: Number.MAX_VALUE, method: 'none' };
  const corrected = x1 === 0 || x0 === 0;
  const a = corrected ? x1 + 0.5 : x1;
  const b = corrected ? x0 + 0.5 : x0;
  const value = (a / n1) / (b / n0);
  const se = Math.sqrt(1 / a + 1 / b - (poisson ? 0 : 1 / n1 + 1 / n0));
  return { value, low: value * Math.exp(-Z * se), high: value * Math.exp(Z * se), method: corrected ? 'zero-corrected' : 'katz' };
}

interface RunOutcome {
  allocations: number;
  duplicates: number;
  consequences: Pooled['consequences'];
  bucketsSeen: number;
  opIds: number;
  mech: MechCounts;
  firstDuplicate: { opId: number; ms: number } | null;
  elapsedMs: number;
}

function addMech(into: MechCounts, m: MechCounts): void {
  into.candidateReads += m.candidateReads;
  into.sameCandidate += m.sameCandidate;
  into.foundOpen += m.foundOpen;
  into.staleRescued += m.staleRescued;
  into.stalePublished += m.stalePublished;
  into.publishes += m.publishes;
  into.reuses += m.reuses;
  into.lagSum += m.lagSum;
  m.lagBins.forEach((v, i) => { into.lagBins[i]! += v; });
  into.scanDistance += m.scanDistance;
}

interface Session {
  pool: WorkerPool<CursorWorkerApi>;
  race: RaceControl;
  size: number;
}

async function runOnce(s: Session, c: CursorCondition, cursorFix: boolean, durationMs: number, untilFirst: boolean, seed: number): Promise<RunOutcome> {
  const fs = createFilesystem({
    buckets: c.buckets, bucketSectors: 8, openBuckets: Math.max(64, 16 * c.workers + 8), allocator: 'early', fix: 'none', cursorFix,
    discard: c.discard, maxThreads: c.workers + 2, lockTimeoutMs: 10_000,
  });
  fillDevice(fs, c.fill);
  const mech = new Int32Array(new SharedArrayBuffer((MECH_HEADER + c.workers + c.buckets) * 4));
  mech.fill(-1, MECH_HEADER, MECH_HEADER + c.workers);
  if (c.delayNs === 0) s.race.setPolicy('none');
  else s.race.setDelay({ kind: 'spin', ns: c.delayNs, probability: DELAY_PROBABILITY, points: ['candidateRead'], scaleByWorkers: false });
  const words = new Int32Array(new SharedArrayBuffer(StartBarrier.WORDS * 4));
  const barrier = new StartBarrier(words, 0);
  const runs = Array.from({ length: c.workers }, (_, i) => s.pool.call(i, (r) => r.run({
    fs: fs.handle, barrier: words, mech, shape: c.shape, workers: c.workers, durationMs, untilFirstDuplicate: untilFirst,
    seed: (seed + i * 0x9e37) >>> 0, writeSectors: 4, barrierTimeoutMs: 20_000,
  }), durationMs + 30_000));
  let results: StudyRunResult[];
  try {
    await barrier.releaseWhenArrived(c.workers, 20_000, Promise.race(runs));
    results = await Promise.all(runs);
  } catch (e) {
    barrier.requestStop();
    await Promise.allSettled(runs);
    throw e;
  } finally {
    s.race.setPolicy('none');
  }
  const st = fs.stats();
  const m = emptyMech();
  for (const r of results) addMech(m, r.mech);
  const firsts = results.flatMap((r) => (r.firstDuplicate === null ? [] : [r.firstDuplicate])).sort((a, b) => a.opId - b.opId);
  const k = st.counters;
  fs.detach();
  return {
    allocations: k.allocs,
    duplicates: k.duplicateAllocations,
    consequences: { overwrote: k.dupOverwrote, staleGen: k.dupStaleGen, awaitingDiscard: k.dupAwaitingDiscard, mixedTypes: k.dupMixedTypes, shared: k.dupShared, latent: k.dupLatent },
    bucketsSeen: k.bucketsSeen,
    opIds: st.opIds,
    mech: m,
    firstDuplicate: firsts[0] ?? null,
    elapsedMs: Math.max(...results.map((r) => r.elapsedMs)),
  };
}

function pool(outs: RunOutcome[]): Pooled {
  const mech = emptyMech();
  const cons = { overwrote: 0, staleGen: 0, awaitingDiscard: 0, mixedTypes: 0, shared: 0, latent: 0 };
  let allocations = 0;
  let duplicates = 0;
  let seen = 0;
  let elapsedMs = 0;
  for (const o of outs) {
    allocations += o.allocations;
    duplicates += o.duplicates;
    seen += o.bucketsSeen;
    elapsedMs += o.elapsedMs;
    addMech(mech, o.mech);
    for (const key of Object.keys(cons) as (keyof typeof cons)[]) cons[key] += o.consequences[key];
  }
  let medianBin: [number, number] | null = null;
  if (mech.reuses > 0) {
    let acc = 0;
    for (let b = 0; b < LAG_BINS; b++) {
      acc += mech.lagBins[b]!;
      if (acc * 2 >= mech.reuses) { medianBin = [2 ** b, 2 ** (b + 1)]; break; }
    }
  }
  return {
    runs: outs.length, allocations, duplicates, rate: raceRate(duplicates, allocations),
    roundRates: outs.map((o) => (o.allocations > 0 ? o.duplicates / o.allocations : 0)),
    consequences: cons, scanLength: allocations > 0 ? seen / allocations : 0, mech,
    reuseLag: { mean: mech.reuses > 0 ? mech.lagSum / mech.reuses : NaN, medianBin }, elapsedMs,
  };
}

function quartiles(xs: number[]): [number, number, number] | null {
  if (xs.length === 0) return null;
  return [quantileSorted(xs, 0.25), quantileSorted(xs, 0.5), quantileSorted(xs, 0.75)];
}

function arm(outs: RunOutcome[]): FirstDuplicateArm {
  const hits = outs.filter((o) => o.firstDuplicate !== null);
  const exposure = outs.reduce((a, o) => a + (o.firstDuplicate !== null ? o.firstDuplicate.opId : o.opIds), 0);
  const allocationsToFirst = hits.map((o) => o.firstDuplicate!.opId).sort((a, b) => a - b);
  const msToFirst = hits.map((o) => o.firstDuplicate!.ms).sort((a, b) => a - b);
  return {
    runs: outs.length, events: hits.length, exposure, hazard: raceRate(hits.length, exposure), allocationsToFirst, msToFirst,
    quartiles: { allocations: quartiles(allocationsToFirst), ms: quartiles(msToFirst) },
  };
}

/** Runs the study. Every wait is bounded; the caller gets the workers terminated whatever happens. */
export async function runCursorStudy(o: StudyOptions = {}, url?: URL): Promise<CursorStudyResult> {
  checkKnownKeys('options', o, ['quick', 'rounds', 'durationMs', 'firstRuns', 'firstMaxMs', 'seed', 'conditions', 'onRun']);
  const quick = o.quick ?? false;
  const rounds = checkInt('rounds', o.rounds ?? (quick ? 2 : 6), 1, 1000);
  const durationMs = checkInt('durationMs', o.durationMs ?? (quick ? 40 : 250), 5, 600_000);
  const firstRuns = checkInt('firstRuns', o.firstRuns ?? (quick ? 6 : 60), 1, 100_000);
  const firstMaxMs = checkInt('firstMaxMs', o.firstMaxMs ?? (quick ? 60 : 400), 5, 600_000);
  const seed = checkInt('seed', o.seed ?? randomSeed(), 0, 0xffffffff);
  const plan = o.conditions !== undefined ? [...o.conditions] : planConditions(quick);
  const size = Math.max(...plan.map((p) => p.condition.workers));
  const race = RaceControl.create({ workers: size, traceCapacity: 0, maxRules: 0, maxDecisions: 0 });
  race.setPolicy('none');
  const t0 = performance.now();
  const workerPool = await WorkerPool.start<CursorWorkerApi>({ url: url ?? compiledWorkerUrl(import.meta.url, './cursor-worker.js'), count: size, workerData: () => null });
  try {
    await workerPool.all((r, i) => r.init({ race: race.handle, worker: i, seed }), 20_000);
    const s: Session = { pool: workerPool, race, size };
    const total = (rounds + firstRuns) * plan.length * 2;
    let done = 0;
    // Warm-up, discarded: the workers' code is compiled by the time anything is measured (cold code
    // makes an allocation as long as the injected delay and changes the race's odds).
    for (const shape of SHAPES) {
      for (const cursorFix of [false, true]) {
        o.onRun?.(done, total, `warm-up: ${shape}, cursor ${cursorFix ? 'on' : 'off'}`);
        await runOnce(s, BASELINES[shape], cursorFix, durationMs, false, seed);
      }
    }
    const outs = plan.map(() => ({ cursor: [] as RunOutcome[], noCursor: [] as RunOutcome[], firstCursor: [] as RunOutcome[], firstNoCursor: [] as RunOutcome[] }));
    // Long-run rounds, then first-duplicate rounds; conditions shuffled in each round, and the two
    // settings back to back in an order that alternates, so neither always follows the other.
    for (let r = 0; r < rounds + firstRuns; r++) {
      const first = r >= rounds;
      for (const i of shuffled(plan.map((_, k) => k), streamRng(seed, 0xc0 + r))) {
        const c = plan[i]!.condition;
        for (const cursorFix of r % 2 === 0 ? [false, true] : [true, false]) {
          o.onRun?.(done, total, `${first ? 'first duplicate: ' : ''}${plan[i]!.label}, cursor ${cursorFix ? 'on' : 'off'}`);
          const out = await runOnce(s, c, cursorFix, first ? firstMaxMs : durationMs, first, (seed + r * 7919 + i * 104_729) >>> 0);
          const a = outs[i]!;
          (first ? (cursorFix ? a.firstCursor : a.firstNoCursor) : (cursorFix ? a.cursor : a.noCursor)).push(out);
          done++;
        }
      }
    }
    const conditions: ConditionResult[] = plan.map((p, i) => {
      const cursor = pool(outs[i]!.cursor);
      const noCursor = pool(outs[i]!.noCursor);
      const roundRatios = cursor.roundRates.flatMap((x, k) => {
        const y = noCursor.roundRates[k]!;
        return x > 0 && y > 0 ? [x / y] : [];
      });
      const fc = arm(outs[i]!.firstCursor);
      const fn = arm(outs[i]!.firstNoCursor);
      return {
        ...p, cursor, noCursor, ratio: bootstrapRatio(outs[i]!.cursor, outs[i]!.noCursor, seed + i), roundRatios,
        first: { cursor: fc, noCursor: fn, ratio: rateRatio(fc.events, fc.exposure, fn.events, fn.exposure, true) },
      };
    });
    o.onRun?.(done, total, '');
    return {
      machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), node: process.version, date: new Date().toISOString() },
      params: { quick, rounds, durationMs, firstRuns, firstMaxMs, seed, delayProbability: DELAY_PROBABILITY },
      conditions, elapsedMs: performance.now() - t0,
    };
  } finally {
    race.setPolicy('none');
    await workerPool.terminate();
  }
}
