/**
 * The torture runner (main thread): builds a filesystem and a race policy, starts real workers
 * behind a start barrier, watches shared counters while they run (stat snapshots, a stall
 * watchdog, an optional kill), then runs fsck and gives a verdict:
 *
 *   SUCCESS        what was expected happened (no corruption; or corruption under expect: 'race')
 *   FAILURE        corruption found where none was expected
 *   STALL          no progress for stallTimeoutS: the report says where every worker was
 *   HARNESS_ERROR  a worker crashed, a replay diverged (nondeterminism), or expect: 'race' found
 *                  no race within the budget — the positive control failed
 */
import { availableParallelism } from 'node:os';
import { StartBarrier } from '../shared/barrier.js';
import { WorkerPool, compiledWorkerUrl, WorkerFailure, type WorkerSpawnOptions } from '../shared/worker-pool.js';
import { randomSeed, streamRng } from '../shared/prng.js';
import { checkBool, checkInt, checkKnownKeys, checkNumber, checkOneOf, ConfigError } from '../shared/validate.js';
import { createFilesystem, type FilesystemStats } from '../alloc/filesystem.js';
import type { ErrorKindName } from '../alloc/types.js';
import { ALLOCATORS, FIXES, FREELIST_LOOKUPS, type AllocatorKind, type FixKind, type FreelistLookup } from '../alloc/types.js';
import { RacePoint, racePointLabel } from '../alloc/race-points.js';
import type { FsckError, FsckKind } from '../alloc/fsck.js';
import { RaceControl, type DelayPolicy, type WorkerPosition } from '../race/control.js';
import { Scheduler, MAX_PCT_DEPTH } from '../race/scheduler.js';
import { ReplayMismatchError, diffSettings, openSchedule, replaySettings, sealSchedule } from '../race/replay-settings.js';
import { raceRate, type Rate } from './rates.js';
import type { FirstViolation, WorkloadResult } from './workload.js';
import type { TortureWorkerApi } from './worker.js';
import { Journal } from './journal.js';
import { count } from './format.js';
import { checkHistory, crashMoments, deathSnapshot, decideInFlight, type CrashEvent, type HistoryCheck, type IndeterminateWrite } from './crash.js';

/** free: truly parallel workers; random / pct: one worker at a time between race points, replayable. */
export type ScheduleKind = 'free' | 'random' | 'pct';
/** Every schedule kind. */
export const SCHEDULES: readonly ScheduleKind[] = ['free', 'random', 'pct'];
/** A run's outcome (see the header above). */
export type Verdict = 'SUCCESS' | 'FAILURE' | 'STALL' | 'HARNESS_ERROR';
/** The CLI's exit code for each verdict. */
export const EXIT_CODES: Record<Verdict, number> = { SUCCESS: 0, FAILURE: 1, STALL: 3, HARNESS_ERROR: 3 };

/** Options of runTorture; every one has a default (the CLI's flags set them). */
export interface TortureOptions {
  workers?: number;
  allocator?: AllocatorKind;
  fix?: FixKind;
  cursorFix?: boolean;
  freelistLookup?: FreelistLookup;
  discard?: boolean;
  buckets?: number;
  bucketSectors?: number;
  openBuckets?: number;
  /** Allocations per worker. Default 5000 unless `seconds` is given. */
  ops?: number;
  /** Time box (free schedule only); workers stop when it runs out. */
  seconds?: number;
  seed?: number;
  /** Delays at race points (free schedule). */
  delay?: DelayPolicy | null;
  schedule?: ScheduleKind;
  /** PCT bug depth d. */
  depth?: number;
  /** PCT k: expected scheduling steps (default: estimated from ops and workers). */
  steps?: number;
  /** A schedule string from an earlier controlled run: reproduce it step for step. */
  replay?: string | null;
  /** Terminate one seeded-random worker at a seeded-random race point. */
  kill?: boolean;
  /**
   * Crash torture: terminate a random worker at this many random moments of the run (uniform in
   * time, so inside critical sections too), recover it, start a replacement, go on. Free runs with a
   * time budget (`seconds`) only.
   */
  crash?: number;
  /** 'race': corruption must be found (positive control); 'clean': it must not. */
  expect?: 'race' | 'clean' | null;
  /** Seconds between stat snapshots (0: none). */
  statIntervalS?: number;
  /** Seconds without progress before the run is declared stalled. */
  stallTimeoutS?: number;
  streams?: number;
  maxExtentSectors?: number;
  putProbability?: number;
  /** Flags and resource limits for the workers (default: this process's usable flags). */
  workerOptions?: WorkerSpawnOptions;
}

/** TortureOptions validated, with every default filled in: what the run actually used. */
export type TortureParams = Required<Omit<TortureOptions, 'delay' | 'replay' | 'expect' | 'seconds' | 'steps' | 'workerOptions'>> & {
  delay: DelayPolicy | null;
  replay: string | null;
  expect: 'race' | 'clean' | null;
  seconds: number | null;
  steps: number;
};

/** Duplicate allocations as the allocation oracle counted them, and what they cost. */
export interface DuplicateReport {
  count: number;
  /** By class, each duplicate once (duplicates still open at the end are in none of them). */
  lostData: number;
  metadataOnly: number;
  latent: number;
  /** By what the duplicate's writes broke; one duplicate may break several things. */
  byConsequence: { overwrote: number; staleGen: number; awaitingDiscard: number; mixedTypes: number; shared: number };
}

/** The oracle's counts, from a filesystem's stats. */
export function duplicateReport(s: FilesystemStats): DuplicateReport {
  const c = s.counters;
  return {
    count: c.duplicateAllocations,
    lostData: c.dupLosesData,
    metadataOnly: c.dupMetadataOnly,
    latent: c.dupLatent,
    byConsequence: { overwrote: c.dupOverwrote, staleGen: c.dupStaleGen, awaitingDiscard: c.dupAwaitingDiscard, mixedTypes: c.dupMixedTypes, shared: c.dupShared },
  };
}

/** Counts at one instant of a running torture (one stat line). */
export interface StatSnapshot {
  elapsedS: number;
  allocations: number;
  perWorker: number[];
  minWorker: number;
  maxWorker: number;
  unfair: boolean;
  /** Duplicate allocations (the oracle). */
  duplicateAllocations: number;
  /** Commit errors (all kinds). */
  commitErrors: number;
  revalidationRetries: number;
  keylockRefusals: number;
  skippedOpen: number;
  skippedNotFree: number;
  skippedNeedDiscard: number;
  allocsPerSec: number;
}

/** The kill of a `kill: true` run: who, where, and whether it happened. */
export interface KillReport {
  worker: number;
  point: string;
  pass: number;
  /** Whether the victim reached its kill point (a short run may end first). */
  happened: boolean;
  /** The victim's in-flight operation at the moment it was killed: indeterminate. */
  inFlight: WorkerPosition | null;
}

/** Everything a torture run found: verdict, counts, rates, fsck, first violation, schedule, kill, stall. */
export interface TortureResult {
  verdict: Verdict;
  exitCode: number;
  /** Why this verdict, in one sentence. */
  reason: string;
  params: TortureParams;
  elapsedMs: number;
  allocations: number;
  perWorker: number[];
  writes: number;
  frees: number;
  allocFailures: number;
  /** Commit errors by kind, as logged online (the error log). */
  errors: Record<ErrorKindName, number> & { total: number };
  /** Allocations whose own commit reported an AllocError: the race as the writers saw it. */
  racyAllocations: number;
  /** Duplicate allocations, as the allocation oracle counted them: every one, once. */
  duplicates: DuplicateReport;
  /** Duplicate allocations per allocation (the oracle's count), with its 95% interval. */
  raceRate: Rate;
  allocsPerSec: number;
  fsck: { ok: boolean; errorCount: number; byKind: Partial<Record<FsckKind, number>>; first: FsckError[]; inFlightExtents: number };
  firstViolation: FirstViolation | null;
  stats: FilesystemStats;
  schedule: {
    kind: ScheduleKind;
    steps: number;
    string: string | null;
    pct: { n: number; k: number; d: number; bound: number } | null;
    divergence: { step: number; recordedSteps: number } | null;
  };
  kill: KillReport | null;
  /** Crash torture: every kill, and the history check (null when the run had no kills). */
  crash: { events: CrashEvent[]; history: HistoryCheck } | null;
  /** Operations completed (allocations, writes, puts, frees, discards), killed workers' included. */
  completedOps: number;
  stall: { positions: WorkerPosition[]; turn: string | null } | null;
  workerErrors: string[];
}

/** Callbacks of a running torture (the CLI's progress bar and stat lines). */
export interface TortureHooks {
  /** Called every `statIntervalS` seconds. */
  onStat?: (s: StatSnapshot) => void;
  /** Called often with allocations done and the total planned (null when time-boxed). */
  onProgress?: (done: number, total: number | null) => void;
  /** Called once the workers are released. */
  onStart?: (params: TortureParams) => void;
}

const KNOWN: (keyof TortureOptions)[] = [
  'workers', 'allocator', 'fix', 'cursorFix', 'freelistLookup', 'discard', 'buckets', 'bucketSectors', 'openBuckets',
  'ops', 'seconds', 'seed', 'delay', 'schedule', 'depth', 'steps', 'replay', 'kill', 'crash', 'expect', 'statIntervalS',
  'stallTimeoutS', 'streams', 'maxExtentSectors', 'putProbability', 'workerOptions',
];
const KILL_POINTS = [
  RacePoint.candidateRead, RacePoint.afterPublish, RacePoint.beforeCommit, RacePoint.afterCommit,
  RacePoint.beforePut, RacePoint.afterPut, RacePoint.beforeFree,
];
/** Errors thrown by a bounded wait that gave up: the run stalled rather than broke. */
const STALL_ERRORS: readonly (string | undefined)[] = ['ScheduleStallError', 'LockTimeoutError'];
/** Scheduling steps one allocation takes, roughly: the PCT default for k. */
const STEPS_PER_ALLOCATION = 12;

/** The default worker count: twice the cores, so workers are preempted mid-window as tasks are. */
export function defaultWorkers(): number {
  return 2 * availableParallelism();
}

/** Validates options and fills defaults; every error names the option and its range. */
export function normalizeTortureOptions(o: TortureOptions = {}): TortureParams {
  checkKnownKeys('options', o, KNOWN);
  const schedule = checkOneOf('schedule', o.schedule ?? 'free', SCHEDULES);
  const workers = checkInt('workers', o.workers ?? defaultWorkers(), 1, 64);
  if (o.seconds != null && o.ops != null) throw new ConfigError('seconds', 'give either ops or seconds, not both');
  if (o.seconds != null && schedule !== 'free') {
    throw new ConfigError('seconds', `a controlled (${schedule}) run must be bounded by ops, not time, so that it replays`);
  }
  const seconds = o.seconds == null ? null : checkNumber('seconds', o.seconds, 0.1, 86_400);
  const ops = seconds !== null ? Infinity : checkInt('ops', o.ops ?? 5000, 1, 1e9);
  const replay = o.replay ?? null;
  if (replay !== null && schedule === 'free') throw new ConfigError('replay', 'needs a controlled schedule (random or pct): free runs are not replayable');
  const depth = checkInt('depth', o.depth ?? 3, 1, MAX_PCT_DEPTH);
  const buckets = checkInt('buckets', o.buckets ?? 256, 4, 1 << 20);
  const bucketSectors = checkInt('bucketSectors', o.bucketSectors ?? 16, 1, 4096);
  const maxExtentSectors = checkInt('maxExtentSectors', o.maxExtentSectors ?? Math.max(1, Math.min(4, bucketSectors)), 1, bucketSectors);
  const streams = checkInt('streams', o.streams ?? 4, 1, 64);
  const openBuckets = checkInt('openBuckets', o.openBuckets ?? Math.max(64, 4 * workers * streams + 8), 4, 1 << 16);
  if (o.delay != null && schedule !== 'free') throw new ConfigError('delay', `delays apply to free runs; a ${schedule} run is scheduled, not delayed`);
  const crash = checkInt('crash', o.crash ?? 0, 0, 1_000_000);
  if (crash > 0 && schedule !== 'free') throw new ConfigError('crash', `crashes are for free runs; a ${schedule} run replays its schedule, and a kill at a random moment would not`);
  if (crash > 0 && seconds === null) throw new ConfigError('crash', 'needs a time budget (seconds): the kills are spread uniformly over the run');
  if (crash > 0 && o.kill === true) throw new ConfigError('crash', 'give either kill (one kill at a race point) or crash, not both');
  const params: TortureParams = {
    workers,
    allocator: checkOneOf('allocator', o.allocator ?? 'early', ALLOCATORS),
    fix: checkOneOf('fix', o.fix ?? 'none', FIXES),
    cursorFix: checkBool('cursorFix', o.cursorFix ?? false),
    freelistLookup: checkOneOf('freelistLookup', o.freelistLookup ?? 'locked', FREELIST_LOOKUPS),
    discard: checkBool('discard', o.discard ?? true),
    buckets,
    bucketSectors,
    openBuckets,
    ops,
    seconds,
    seed: checkInt('seed', o.seed ?? randomSeed(), 0, 0xffffffff),
    delay: o.delay ?? null,
    schedule,
    depth,
    steps: checkInt('steps', o.steps ?? Math.min(2 ** 30, Math.max(1, (Number.isFinite(ops) ? ops : 1000) * workers * STEPS_PER_ALLOCATION)), 1, 2 ** 30),
    replay,
    kill: checkBool('kill', o.kill ?? false),
    crash,
    expect: o.expect == null ? null : checkOneOf('expect', o.expect, ['race', 'clean'] as const),
    statIntervalS: checkNumber('statIntervalS', o.statIntervalS ?? 0, 0, 3600),
    stallTimeoutS: checkNumber('stallTimeoutS', o.stallTimeoutS ?? 15, 0.5, 3600),
    streams,
    maxExtentSectors,
    putProbability: checkNumber('putProbability', o.putProbability ?? 0.5, 0, 1),
  };
  if (replay !== null) {
    // A replay made with other settings cannot follow the schedule: refuse it now, naming them.
    const recorded = openSchedule(replay).settings;
    const differences = recorded === null ? [] : diffSettings(recorded, replaySettings(params));
    if (differences.length > 0) throw new ReplayMismatchError(differences);
  }
  return params;
}

/** Runs one torture configuration end to end. Never hangs: every wait is bounded. */
export async function runTorture(options: TortureOptions = {}, hooks: TortureHooks = {}): Promise<TortureResult> {
  const p = normalizeTortureOptions(options);
  const fs = createFilesystem({
    buckets: p.buckets,
    bucketSectors: p.bucketSectors,
    openBuckets: p.openBuckets,
    allocator: p.allocator,
    fix: p.fix,
    cursorFix: p.cursorFix,
    freelistLookup: p.freelistLookup,
    discard: p.discard,
    maxThreads: p.workers + 1,
    lockTimeoutMs: Math.round(p.stallTimeoutS * 1000),
  });
  const controlled = p.schedule !== 'free';
  const rc = RaceControl.create({ workers: p.workers, traceCapacity: 0, maxDecisions: controlled ? Math.max(1 << 16, p.steps * 4) : 0 });
  rc.setWaitTimeout(Math.round(p.stallTimeoutS * 1000));
  if (p.delay !== null) rc.setDelay(p.delay);
  else rc.setPolicy('observe');
  const sched = controlled ? new Scheduler(rc) : null;
  const barrierWords = new Int32Array(new SharedArrayBuffer(StartBarrier.WORDS * 4));
  const barrier = new StartBarrier(barrierWords, 0);
  const liveTarget = Math.max(8, Math.floor((p.buckets * p.bucketSectors * 0.4) / ((p.maxExtentSectors + 1) / 2) / p.workers));
  const journal = Journal.create({ workers: p.workers, capacity: liveTarget + 8 });

  const killRng = streamRng(p.seed, 0xdead);
  const kill = p.kill ? {
    worker: killRng.below(p.workers),
    point: KILL_POINTS[killRng.below(KILL_POINTS.length)]!,
    pass: 1 + killRng.below(20),
    signal: new Int32Array(new SharedArrayBuffer(8)),
  } : null;
  let killReport: KillReport | null = kill ? { worker: kill.worker, point: racePointLabel(kill.point), pass: kill.pass, happened: false, inFlight: null } : null;
  const crashRng = streamRng(p.seed, 0xc4a5);
  const crashAt = crashMoments(p.crash, (p.seconds ?? 0) * 1000, crashRng);
  const crashEvents: CrashEvent[] = [];
  const inFlightWrites: IndeterminateWrite[] = [];

  // A crash run keeps a few spare workers started (three): a replacement takes over at once, and the
  // killed worker's thread is restarted in the background to become the next spare.
  const spares = p.crash > 0 ? Math.min(3, p.crash) : 0;
  const pool = await WorkerPool.start<TortureWorkerApi>({
    ...options.workerOptions,
    url: compiledWorkerUrl(import.meta.url, './worker.js'),
    count: p.workers + spares,
    workerData: () => null,
    // Any worker that dies — killed here, or of an error of its own — is reported at its exit, so
    // survivors take over the locks it held at once.
    registry: fs.registry,
  });
  /** Which pool worker runs worker index w now (a replacement runs on a spare's thread). */
  const poolOf = Array.from({ length: p.workers }, (_, w) => w);
  const spareQueue = Array.from({ length: spares }, (_, k) => p.workers + k);
  const restarting: Promise<void>[] = [];
  /** Every worker run, replacements included, by worker index and generation. */
  const runs: { worker: number; pooled: number; generation: number; killed: boolean; outcome: Promise<WorkloadResult> }[] = [];
  let stall: TortureResult['stall'] = null;
  let elapsedMs = 0;
  const statTimer: { id: NodeJS.Timeout | null } = { id: null };
  const setup = (pi: number, w: number): Promise<unknown> => pool.call(pi, (r) => r.setup({
    fs: fs.handle, race: rc.handle, journal: journal.handle, barrier: barrierWords, worker: w, seed: p.seed, controlled,
  }), 20_000);
  const startRun = (pi: number, w: number, generation: number): void => {
    const outcome = pool.call(pi, (r) => r.run({
      workload: {
        worker: w, seed: p.seed, ops: p.ops, streams: p.streams, maxExtentSectors: p.maxExtentSectors, liveTarget,
        putProbability: p.putProbability, discardEvery: 8, generation: generation - 1,
      },
      barrierTimeoutMs: 30_000,
      kill: kill !== null && kill.worker === w && generation === 1 ? { point: kill.point, pass: kill.pass, signal: kill.signal } : null,
    }), 24 * 3600 * 1000);
    outcome.catch(() => {});
    runs.push({ worker: w, pooled: pi, generation, killed: false, outcome });
  };
  /**
   * The worker's death reported to the filesystem (the pool's exit report may have come first;
   * either way robust locks let waiters take over), then its members recovered. `threadId` is read
   * before the kill: a terminated Worker's threadId is -1.
   */
  const reportDeath = (threadId: number): ReturnType<typeof fs.recover> => {
    fs.registry.markThreadDead(threadId);
    const reg = fs.registry;
    const dead = Array.from({ length: reg.members }, (_, m) => m).filter((m) => reg.state(m) === 'dead' && reg.threadIdOf(m) === threadId);
    return dead.flatMap((m) => fs.recover(m));
  };
  try {
    await Promise.all(Array.from({ length: p.workers }, (_, w) => setup(w, w)));
    sched?.configure({ mode: p.replay !== null ? 'replay' : p.schedule === 'pct' ? 'pct' : 'random', seed: p.seed, depth: p.depth, steps: p.steps, ...(p.replay !== null ? { replay: openSchedule(p.replay).schedule } : {}) });
    for (let w = 0; w < p.workers; w++) startRun(w, w, 1);
    await barrier.releaseWhenArrived(p.workers, 30_000, Promise.all(runs.map((r) => r.outcome)));
    const t0 = performance.now();
    hooks.onStart?.(p);

    const total = Number.isFinite(p.ops) ? p.ops * p.workers : null;
    let lastCompleted = -1;
    let lastProgressAt = performance.now();
    let nextStat = p.statIntervalS > 0 ? t0 + p.statIntervalS * 1000 : Infinity;
    const stopAt = p.seconds !== null ? t0 + p.seconds * 1000 : Infinity;
    let nextCrash = 0;
    const allSettled = async (): Promise<boolean> => {
      const n = runs.length;
      await Promise.allSettled(runs.map((r) => r.outcome));
      return runs.length === n;
    };
    let done = false;
    const watchDone = (): void => { void allSettled().then((all) => { if (all) done = true; else watchDone(); }); };
    watchDone();
    while (!done) {
      const untilCrash = nextCrash < crashAt.length ? t0 + crashAt[nextCrash]! - performance.now() : Infinity;
      await new Promise((r) => { statTimer.id = setTimeout(r, Math.max(1, Math.min(50, untilCrash))); });
      const now = performance.now();
      if (kill !== null && killReport !== null && !killReport.happened && Atomics.load(kill.signal, 0) === 1) {
        killReport = { ...killReport, happened: true, inFlight: rc.position(kill.worker) };
        const threadId = pool.threadId(poolOf[kill.worker]!);
        await pool.kill(poolOf[kill.worker]!);
        runs.find((r) => r.worker === kill.worker)!.killed = true;
        sched?.markDead(kill.worker);
        reportDeath(threadId);
        decideInFlight(fs, journal, kill.worker, inFlightWrites);
      }
      while (nextCrash < crashAt.length && now >= t0 + crashAt[nextCrash]!) {
        nextCrash++;
        const alive = runs.filter((r) => !r.killed && pool.isAlive(r.pooled));
        if (alive.length === 0) break;
        const victim = alive[crashRng.below(alive.length)]!;
        const killedAt = performance.now();
        const threadId = pool.threadId(victim.pooled);
        await pool.kill(victim.pooled);
        victim.killed = true;
        const at = deathSnapshot(fs, threadId);
        const reports = reportDeath(threadId);
        const inFlight = decideInFlight(fs, journal, victim.worker, inFlightWrites);
        const recovery = reports[0] ?? null;
        const generation = journal.nextGeneration(victim.worker);
        let next = spareQueue.shift();
        if (next === undefined) {
          await pool.respawn(victim.pooled);
          next = victim.pooled;
        } else {
          const dead = victim.pooled;
          restarting.push(pool.respawn(dead).then(() => { spareQueue.push(dead); }));
        }
        poolOf[victim.worker] = next;
        await setup(next, victim.worker);
        startRun(next, victim.worker, generation);
        crashEvents.push({
          worker: victim.worker, generation: victim.generation, atMs: killedAt - t0, inFlight, at, recovery,
          replacedInMs: performance.now() - killedAt,
        });
      }
      sched?.repair();
      if (now >= stopAt) barrier.requestStop();
      const positions = rc.positions();
      hooks.onProgress?.(journal.totals().allocations, total);
      // Progress is completed operations, not race points passed: a worker that loops without
      // finishing anything (every allocation refused, nothing to free) is not making progress.
      const completed = journal.totals().completed;
      if (completed !== lastCompleted) {
        lastCompleted = completed;
        lastProgressAt = now;
      } else if (now - lastProgressAt > p.stallTimeoutS * 1000) {
        stall = { positions, turn: sched?.describeTurn() ?? null };
        barrier.requestStop();
        await pool.terminate();
        break;
      }
      if (now >= nextStat) {
        nextStat += p.statIntervalS * 1000;
        hooks.onStat?.(snapshot(fs.stats(), journalPerWorker(journal), (now - t0) / 1000));
      }
    }
    await Promise.allSettled(runs.map((r) => r.outcome));
    elapsedMs = performance.now() - t0;
    // A spare that failed to restart is a broken harness, not a finding.
    for (const r of await Promise.allSettled(restarting)) if (r.status === 'rejected') throw r.reason;
  } finally {
    if (statTimer.id !== null) clearTimeout(statTimer.id);
    barrier.abort();
    await pool.terminate();
  }

  const settled = await Promise.allSettled(runs.map((r) => r.outcome));
  const results = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failures = settled.flatMap((s, k) => {
    if (s.status === 'fulfilled') return [];
    // Killed by the run (a kill, a crash), or terminated by the watchdog after a stall: not an error of theirs.
    if ((runs[k]!.killed || stall !== null) && s.reason instanceof WorkerFailure) return [];
    return [{ worker: runs[k]!.worker, error: s.reason as Error }];
  });
  const workerErrors = failures.map((f) => `worker ${f.worker}: ${f.error?.message ?? String(f.error)}`);
  // Whatever died and was not yet recovered (a stall's terminated workers) is recovered now.
  if (stall === null) fs.recover();
  const history = p.crash > 0 || killReport?.happened === true ? checkHistory(fs, journal, inFlightWrites) : null;
  const stats = fs.stats();
  const report = fs.fsck({ maxErrors: 20 });
  const totals = journal.totals();
  const perWorker = journalPerWorker(journal);
  const allocations = totals.allocations;
  const racyAllocations = totals.racy;
  const errors = { ...stats.errors };
  const duplicates = duplicateReport(stats);
  const corrupted = duplicates.count > 0 || errors.total > 0 || !report.ok;
  // The error log is in the order errors happened: the first violation is the one logged first.
  const violations = results.flatMap((r) => (r.firstViolation === null ? [] : [r.firstViolation]));
  const firstLogged = fs.errors()[0];
  const firstViolation = violations.find((v) => v.opId === firstLogged?.opId && v.bucket === firstLogged.bucket)
    ?? violations.sort((a, b) => a.opId - b.opId)[0] ?? null;
  const divergence = sched?.divergence() ?? null;

  let verdict: Verdict;
  let reason: string;
  if (stall !== null) {
    verdict = 'STALL';
    reason = `no progress for ${p.stallTimeoutS} s${stall.turn ? `; ${stall.turn}` : ''}`;
  } else if (workerErrors.length > 0) {
    // A bounded wait that ran out (a schedule or a lock) is a stall; anything else broke the harness.
    // Comlink carries the error's name across the thread boundary.
    verdict = failures.some((f) => STALL_ERRORS.includes(f.error?.name)) ? 'STALL' : 'HARNESS_ERROR';
    reason = workerErrors[0]!;
  } else if (history !== null && !history.ok) {
    verdict = 'FAILURE';
    reason = `acknowledged data lost: ${[...history.lost, ...history.phantoms][0]}`;
  } else if (divergence !== null) {
    verdict = 'HARNESS_ERROR';
    reason = `nondeterminism: the replay left the recorded schedule at step ${divergence.step} of ${divergence.recordedSteps}`
      + (p.replay !== null && openSchedule(p.replay).settings === null
        ? ' (this sab1 string does not record its run\'s settings, so they could not be checked: a replay with other settings than the recorded run\'s diverges like this)' : '');
  } else if (p.expect === 'race') {
    verdict = corrupted ? 'SUCCESS' : 'HARNESS_ERROR';
    reason = corrupted ? 'expected corruption was found (positive control)' : `expected a race but found none (no duplicate allocation, no commit error, fsck clean) in ${count(allocations)} allocations: the harness cannot show the bug with these settings`;
  } else if (corrupted) {
    verdict = 'FAILURE';
    reason = `${duplicates.count} duplicate allocation(s), ${errors.total} commit error(s)${report.ok ? '' : `, fsck found ${report.errorCount} violation(s)`}`;
  } else {
    verdict = 'SUCCESS';
    reason = `no corruption in ${count(allocations)} allocations; fsck clean`;
  }

  return {
    verdict,
    exitCode: EXIT_CODES[verdict],
    reason,
    params: p,
    elapsedMs,
    allocations,
    perWorker,
    writes: totals.writes,
    frees: totals.frees,
    allocFailures: totals.allocFailures,
    errors,
    racyAllocations,
    duplicates,
    raceRate: raceRate(duplicates.count, allocations),
    allocsPerSec: elapsedMs > 0 ? allocations / (elapsedMs / 1000) : 0,
    fsck: { ok: report.ok, errorCount: report.errorCount, byKind: report.byKind, first: report.errors.slice(0, 10), inFlightExtents: report.counts.inFlightExtents },
    firstViolation,
    stats,
    schedule: {
      kind: p.schedule,
      steps: sched?.steps() ?? 0,
      string: sched !== null ? sealSchedule(sched.schedule(), replaySettings(p)) : null,
      pct: sched?.pct() ?? null,
      divergence,
    },
    kill: killReport,
    crash: history === null || p.crash === 0 ? null : { events: crashEvents, history },
    completedOps: totals.completed,
    stall,
    workerErrors,
  };
}

/** Allocations per worker index, replacements' included. */
function journalPerWorker(j: Journal): number[] {
  return Array.from({ length: j.config.workers }, (_, w) => j.allocations(w));
}

function snapshot(s: FilesystemStats, perWorker: number[], elapsedS: number): StatSnapshot {
  const allocations = perWorker.reduce((a, b) => a + b, 0);
  const minWorker = Math.min(...perWorker);
  const maxWorker = Math.max(...perWorker);
  return {
    elapsedS,
    allocations,
    perWorker,
    minWorker,
    maxWorker,
    unfair: maxWorker > 0 && minWorker < maxWorker / 2,
    duplicateAllocations: s.counters.duplicateAllocations,
    commitErrors: s.errors.total,
    revalidationRetries: s.counters.revalidationRetries,
    keylockRefusals: s.counters.keylockRefusals,
    skippedOpen: s.counters.skippedOpen,
    skippedNotFree: s.counters.skippedNotFree,
    skippedNeedDiscard: s.counters.skippedNeedDiscard,
    allocsPerSec: elapsedS > 0 ? allocations / elapsedS : 0,
  };
}
