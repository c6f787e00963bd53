/**
 * An allocator race run for any runtime with Web Workers: the page's engine and the browser suite's.
 * It builds a filesystem and a race policy in shared memory, starts workers through a pool adapter
 * (pool.ts: webWorkers() in a browser), releases them together, and lets the caller watch while they
 * run — counters, the oracle's duplicate rate, throughput, every bucket's state and which buckets
 * were allocated twice — then stops them, runs fsck and ends every worker.
 *
 * The main thread here never blocks: it only reads shared words (Atomics.load), and its waits are
 * promises (the start barrier's waitAsync, the workers' RPC answers). Every wait is bounded.
 */
import { StartBarrier } from '../shared/barrier.js';
import { startPool, type Pool, type WorkerAdapter } from '../shared/pool.js';
import { randomSeed } from '../shared/prng.js';
import { checkInt, checkNumber, checkOneOf, checkBool, ConfigError } from '../shared/validate.js';
import { createFilesystem, type Filesystem, type FilesystemStats } from '../alloc/filesystem.js';
import type { FsckReport } from '../alloc/fsck.js';
import { ALLOCATORS, FIXES, FREELIST_LOOKUPS, type AllocatorKind, type FixKind, type FreelistLookup } from '../alloc/types.js';
import { RaceControl, type DelayPolicy } from '../race/control.js';
import { raceRate, type Rate } from '../torture/rates.js';
import type { WorkloadResult } from '../torture/workload.js';
import { readBucketStates } from './bucket-states.js';
import type { AllocRaceWorkerApi } from './alloc-race-worker.js';

/** One configuration of the race: what the page's controls set. */
export interface AllocRaceOptions {
  allocator?: AllocatorKind;
  fix?: FixKind;
  cursorFix?: boolean;
  freelistLookup?: FreelistLookup;
  /** Workers (1 … 16). */
  workers?: number;
  /** Device size in buckets (16 … 65536). */
  buckets?: number;
  bucketSectors?: number;
  /** Injected delay at the allocation window's race points (null: none). It can change while running. */
  delay?: DelayPolicy | null;
  /** Allocations per worker; Infinity runs until stop(). */
  ops?: number;
  seed?: number;
  streams?: number;
  putProbability?: number;
  /** Bound on each lock wait and worker answer. */
  timeoutMs?: number;
}

/** The options with every default filled in. */
export type AllocRaceParams = Required<Omit<AllocRaceOptions, 'delay'>> & { delay: DelayPolicy | null };

/** What the watcher sees at one instant. */
export interface AllocRaceSnapshot {
  elapsedMs: number;
  allocations: number;
  /** Duplicate allocations, as the allocation oracle counted them. */
  duplicates: number;
  /** Duplicates per allocation with its 95% interval. */
  rate: Rate;
  /** Commit errors the writers saw (a duplicate's writes cause them). */
  commitErrors: number;
  revalidationRetries: number;
  keylockRefusals: number;
  allocsPerSec: number;
  /** Allocations per worker so far. */
  perWorker: number[];
  stats: FilesystemStats;
}

/** The end of a run: the last snapshot, fsck's verdict and each worker's result. */
export interface AllocRaceResult {
  params: AllocRaceParams;
  final: AllocRaceSnapshot;
  fsck: FsckReport;
  workers: WorkloadResult[];
  /** Buckets allocated twice at least once, in order. */
  duplicateBuckets: number[];
}

const KNOWN = new Set(['allocator', 'fix', 'cursorFix', 'freelistLookup', 'workers', 'buckets', 'bucketSectors', 'delay', 'ops', 'seed', 'streams', 'putProbability', 'timeoutMs']);

/** Validates the options and fills defaults; every error names the option and its range. */
export function normalizeAllocRace(o: AllocRaceOptions = {}): AllocRaceParams {
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw new ConfigError(k, `unknown option; known: ${[...KNOWN].join(', ')}`);
  const ops = o.ops ?? Infinity;
  if (ops !== Infinity) checkInt('ops', ops, 1, 1e9);
  return {
    allocator: checkOneOf('allocator', o.allocator ?? 'early', ALLOCATORS),
    fix: checkOneOf('fix', o.fix ?? 'none', FIXES),
    cursorFix: checkBool('cursorFix', o.cursorFix ?? false),
    freelistLookup: checkOneOf('freelistLookup', o.freelistLookup ?? 'locked', FREELIST_LOOKUPS),
    workers: checkInt('workers', o.workers ?? 4, 1, 16),
    buckets: checkInt('buckets', o.buckets ?? 256, 16, 65_536),
    bucketSectors: checkInt('bucketSectors', o.bucketSectors ?? 16, 4, 4096),
    delay: o.delay ?? null,
    ops,
    seed: checkInt('seed', o.seed ?? randomSeed(), 0, 0xffffffff),
    streams: checkInt('streams', o.streams ?? 4, 1, 16),
    putProbability: checkNumber('putProbability', o.putProbability ?? 0.5, 0, 1),
    timeoutMs: checkInt('timeoutMs', o.timeoutMs ?? 15_000, 100, 600_000),
  };
}

/** A running race. Start with AllocRace.start; always end with stop() (it ends every worker). */
export class AllocRace {
  readonly params: AllocRaceParams;
  /** The filesystem as this thread sees it (lock-free reads only while workers run). */
  readonly fs: Filesystem;
  readonly race: RaceControl;
  /** Duplicate allocations per bucket. */
  readonly marks: Int32Array;
  private readonly progress: Int32Array;
  private readonly barrier: StartBarrier;
  private readonly pool: Pool<AllocRaceWorkerApi>;
  private readonly runs: Promise<WorkloadResult[]>;
  private readonly t0: number;
  private endedAt: number | null = null;
  private result: Promise<AllocRaceResult> | null = null;
  /** Settles when every worker's workload has returned (ops reached) or failed. */
  readonly done: Promise<void>;

  private constructor(params: AllocRaceParams, fs: Filesystem, race: RaceControl, marks: Int32Array, progress: Int32Array, barrier: StartBarrier, pool: Pool<AllocRaceWorkerApi>, runs: Promise<WorkloadResult[]>) {
    this.params = params;
    this.fs = fs;
    this.race = race;
    this.marks = marks;
    this.progress = progress;
    this.barrier = barrier;
    this.pool = pool;
    this.runs = runs;
    this.t0 = performance.now();
    this.done = runs.then(() => { this.endedAt ??= performance.now(); }, () => { this.endedAt ??= performance.now(); });
  }

  /** Builds the run, starts its workers through `adapter` and releases them together. */
  static async start(adapter: WorkerAdapter, options: AllocRaceOptions = {}): Promise<AllocRace> {
    const p = normalizeAllocRace(options);
    const openBuckets = Math.max(64, 4 * p.workers * p.streams + 8);
    const fs = createFilesystem({
      buckets: p.buckets, bucketSectors: p.bucketSectors, openBuckets, allocator: p.allocator, fix: p.fix,
      cursorFix: p.cursorFix, freelistLookup: p.freelistLookup, maxThreads: p.workers + 1, lockTimeoutMs: p.timeoutMs,
    });
    const race = RaceControl.create({ workers: p.workers, traceCapacity: 0, maxDecisions: 0 });
    race.setWaitTimeout(p.timeoutMs);
    if (p.delay !== null) race.setDelay(p.delay);
    else race.setPolicy('observe');
    const barrier = new StartBarrier(new Int32Array(new SharedArrayBuffer(StartBarrier.WORDS * 4)), 0);
    const marks = new Int32Array(new SharedArrayBuffer(p.buckets * 4));
    const progress = new Int32Array(new SharedArrayBuffer(p.workers * 4));
    const maxExtentSectors = Math.min(4, p.bucketSectors);
    const liveTarget = Math.max(8, Math.floor((p.buckets * p.bucketSectors * 0.4) / ((maxExtentSectors + 1) / 2) / p.workers));
    const pool = await startPool<AllocRaceWorkerApi>(adapter, { count: p.workers, workerData: () => null, startTimeoutMs: p.timeoutMs });
    try {
      await pool.all((r, i) => r.setup({ fs: fs.handle, race: race.handle, barrier: barrier.i32, marks, progress, worker: i, seed: p.seed }), p.timeoutMs);
      const runs = pool.all((r, i) => r.run({
        worker: i, seed: p.seed, ops: p.ops, streams: p.streams, maxExtentSectors, liveTarget, putProbability: p.putProbability, discardEvery: 8,
      }, p.timeoutMs), 24 * 3600 * 1000);
      runs.catch(() => {});
      await barrier.releaseWhenArrived(p.workers, p.timeoutMs, runs);
      return new AllocRace(p, fs, race, marks, progress, barrier, pool, runs);
    } catch (e) {
      barrier.abort();
      await pool.terminate();
      throw e;
    }
  }

  /** Changes the injected delay while the run goes on (null: none). */
  setDelay(delay: DelayPolicy | null): void {
    if (delay === null) this.race.setPolicy('observe');
    else this.race.setDelay(delay);
  }

  /** Counters now. Cheap enough for every animation frame (a sum over a few counter blocks). */
  snapshot(): AllocRaceSnapshot {
    const stats = this.fs.stats();
    const c = stats.counters;
    const elapsedMs = (this.endedAt ?? performance.now()) - this.t0;
    const perWorker = Array.from(this.progress, (_, i) => Atomics.load(this.progress, i));
    return {
      elapsedMs,
      allocations: c.allocs,
      duplicates: c.duplicateAllocations,
      rate: raceRate(c.duplicateAllocations, c.allocs),
      commitErrors: stats.errors.total,
      revalidationRetries: c.revalidationRetries,
      keylockRefusals: c.keylockRefusals,
      allocsPerSec: elapsedMs > 0 ? (c.allocs * 1000) / elapsedMs : 0,
      perWorker,
      stats,
    };
  }

  /** Every bucket's state (see bucket-states.ts), into `out` if given. */
  bucketStates(out?: Uint8Array): Uint8Array {
    return readBucketStates(this.fs, out);
  }

  /**
   * Asks the workers to stop, waits for them (bounded), checks the filesystem and ends every worker.
   * Safe to call twice: the second call gets the first one's result.
   */
  stop(): Promise<AllocRaceResult> {
    this.result ??= this.finish();
    return this.result;
  }

  private async finish(): Promise<AllocRaceResult> {
    this.barrier.requestStop();
    let workers: WorkloadResult[];
    try {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`allocator race: the workers did not stop within ${this.params.timeoutMs} ms`)), this.params.timeoutMs);
      });
      try {
        workers = await Promise.race([this.runs, late]);
      } finally {
        clearTimeout(timer);
      }
    } finally {
      this.endedAt ??= performance.now();
      await this.pool.terminate();
    }
    const final = this.snapshot();
    const duplicateBuckets: number[] = [];
    for (let b = 0; b < this.marks.length; b++) if (Atomics.load(this.marks, b) > 0) duplicateBuckets.push(b);
    return { params: this.params, final, fsck: this.fs.fsck(), workers, duplicateBuckets };
  }
}
