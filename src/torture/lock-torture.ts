/**
 * Lock torture runner (main thread), modelled on the kernel's locktorture: N real workers hammer one
 * lock around a critical section that a lost exclusion visibly breaks, and the same harness run with
 * the busted (no-op) lock must break it — that negative control is what makes a clean run mean
 * something.
 *
 *   runLockTorture          mutual exclusion: a canary word and a multi-word record updated with
 *                           plain reads and writes; the record must end at exactly workers × iterations
 *   runSeqlockConsistency   one writer keeps a multi-word record under an invariant; readers count the
 *                           broken snapshots they accepted (honouring readers: none) or saw (readers
 *                           that ignore readRetry: many)
 *   runDeadOwner            a worker dies holding the lock; the others' bounded lock() must fail fast
 *                           with a LockTimeoutError that names the dead owner
 *   runReaderCrashTorture   robust RwLock: readers are killed at random moments (inside their read
 *                           holds, between the list entry and the count, anywhere) while writers run;
 *                           the writers must never stall and no reader may ever see a writer inside
 *   runSeqBeginRace         a second, unserialised seqlock writer hammers writeBegin while a write is
 *                           in progress; an observer must never see the sequence even (the old
 *                           add-then-undo check is the negative control)
 *
 * A clean run proves something only if the workers overlapped, so runs report the contention they
 * met (contended acquisitions, parks, read retries) for the tests to require.
 *
 * Every run starts its workers behind a StartBarrier, is watched by a watchdog that terminates the
 * workers and reports each one's phase and progress on a stall, and terminates every worker in a
 * finally. The memory layout is in lock-torture-layout.ts.
 */
import { createRegion, type Region } from '../shared/region.js';
import { StartBarrier } from '../shared/barrier.js';
import { CounterBlocks } from '../shared/counters.js';
import { WorkerPool, compiledWorkerUrl, type WorkerSpawnOptions } from '../shared/worker-pool.js';
import { ConfigError, checkBool, checkInt, checkKnownKeys, checkNumber, checkOneOf } from '../shared/validate.js';
import { ownerIdOfThread } from '../locks/common.js';
import { RwLock, ThreadRegistry } from '../locks/index.js';
import { LOCK_KINDS, REAL_LOCK_KINDS, type LockKind, type TortureLock, makeTortureLock } from './lock-kinds.js';
import {
  BARRIER_AT, PHASE_NAMES, PROGRESS_NAMES, RECORD_AT, SEQ_STRIDE, STOP, type ProgressName, seqRecordWord, type TortureWorkerData,
  lockTortureSpec,
} from './lock-torture-layout.js';
import type {
  CrashWriterResult, ExclusionResult, LockAttempt, LockTortureApi, RwReaderResult, SeqReaderMode, SeqReaderResult, SeqWriterResult,
} from './lock-torture-worker.js';

export { LOCK_KINDS, REAL_LOCK_KINDS, type LockKind } from './lock-kinds.js';
export type { LockAttempt, SeqReaderMode, SeqReaderResult } from './lock-torture-worker.js';

const MAX_WORKERS = 64;
const MAX_COUNT = 2 ** 31 - 1;

/** Where one worker was when the watchdog looked. */
export interface WorkerProgress {
  worker: number;
  threadId: number;
  ownerId: number;
  phase: string;
  phaseCode: number;
  progress: number;
  alive: boolean;
}

/** The watchdog fired: the run stalled or overran. Carries each worker's last reported progress. */
export class TortureStallError extends Error {
  readonly progress: WorkerProgress[];
  /** Owner id the lock recorded when the watchdog fired: 0 when free (or read-held, or busted). */
  readonly lockOwner: number;
  constructor(what: string, reason: string, progress: WorkerProgress[], lockOwner: number) {
    const lines = progress.map((p) => `  worker ${p.worker} (owner id ${p.ownerId}): ${p.phase}, progress ${p.progress}${p.alive ? '' : ', exited'}`);
    const by = lockOwner > 0 ? `owner id ${lockOwner}` : 'nobody';
    super(`${what}: ${reason}; lock word names ${by}; workers were:\n${lines.join('\n')}`);
    this.name = 'TortureStallError';
    this.progress = progress;
    this.lockOwner = lockOwner;
  }
}

interface Common {
  /** Watchdog: the whole run (after start-up) must finish within this. */
  timeoutMs?: number;
  /** Watchdog: a run in which no worker reports progress for this long has stalled. */
  stallMs?: number;
  /** Worker entry override (defaults to the compiled lock-torture-worker.js). */
  workerUrl?: URL;
  /** Flags and resource limits for the workers (default: this process's usable flags). */
  workerOptions?: WorkerSpawnOptions;
}

const COMMON_KEYS = ['timeoutMs', 'stallMs', 'workerUrl', 'workerOptions'];

function workerUrl(options: Common): URL {
  return options.workerUrl ?? compiledWorkerUrl(import.meta.url, './lock-torture-worker.js');
}

/** One run's region, pool and watchdog plumbing. */
class Harness {
  readonly region: Region;
  readonly barrier: StartBarrier;
  readonly progress: CounterBlocks<ProgressName>;
  readonly pool: WorkerPool<LockTortureApi>;
  readonly threadIds: number[];
  readonly what: string;
  /** The run's lock as the main thread sees it: who holds it, for a stall report. */
  readonly lock: TortureLock;

  private constructor(what: string, kind: LockKind, region: Region, pool: WorkerPool<LockTortureApi>, workers: number) {
    this.what = what;
    this.region = region;
    this.pool = pool;
    this.lock = makeTortureLock(kind, region.i32('lock'), 0);
    this.barrier = new StartBarrier(region.i32('control'), BARRIER_AT);
    this.progress = new CounterBlocks(region.f64('progress'), PROGRESS_NAMES, workers);
    // A worker's threadId reads -1 once it has exited; capture them now to name dead owners later.
    this.threadIds = Array.from({ length: workers }, (_, i) => pool.threadId(i));
  }

  static async start(what: string, kind: LockKind, workers: number, recordWords: number, options: Common, robust = false): Promise<Harness> {
    const region = createRegion(lockTortureSpec(workers, recordWords));
    ThreadRegistry.init(region.i32('registry'), 0, workers);
    const pool = await WorkerPool.start<LockTortureApi>({
      ...options.workerOptions,
      url: workerUrl(options),
      count: workers,
      workerData: (index): TortureWorkerData => ({ handle: region.handle, workers, recordWords, index, robust }),
    });
    return new Harness(what, kind, region, pool, workers);
  }

  /** Worker index whose owner id is `owner`, or -1. */
  workerOfOwner(owner: number): number {
    return this.threadIds.findIndex((t) => ownerIdOfThread(t) === owner);
  }

  snapshot(): WorkerProgress[] {
    return this.threadIds.map((threadId, worker) => {
      const c = this.progress.read(worker);
      return {
        worker,
        threadId,
        ownerId: ownerIdOfThread(threadId),
        phase: PHASE_NAMES[c.phase] ?? `phase ${c.phase}`,
        phaseCode: c.phase,
        progress: c.progress,
        alive: this.pool.isAlive(worker),
      };
    });
  }

  /**
   * Runs `calls` (one per participating worker, each of which waits at the barrier), releases the
   * barrier once `participants` have arrived, and waits for all calls under the watchdog.
   */
  async run<R>(participants: number, calls: (pool: WorkerPool<LockTortureApi>) => Promise<R>[], options: Required<Pick<Common, 'timeoutMs' | 'stallMs'>>): Promise<R[]> {
    const work = Promise.all(calls(this.pool));
    work.catch(() => {});
    await this.barrier.releaseWhenArrived(participants, 20_000, work);
    return this.watch(work, options.timeoutMs, options.stallMs);
  }

  /** Waits for `work`; rejects with TortureStallError if it overruns or nobody progresses. */
  async watch<R>(work: Promise<R>, timeoutMs: number, stallMs: number): Promise<R> {
    const started = performance.now();
    let lastSum = -1;
    let lastChange = started;
    let timer: NodeJS.Timeout | undefined;
    const dog = new Promise<never>((_, reject) => {
      const tick = (): void => {
        const now = performance.now();
        const snap = this.snapshot();
        const sum = snap.reduce((n, p) => n + p.progress + p.phaseCode, 0);
        if (sum !== lastSum) {
          lastSum = sum;
          lastChange = now;
        }
        if (now - started > timeoutMs) {
          reject(new TortureStallError(this.what, `did not finish within ${timeoutMs} ms`, snap, this.lock.owner()));
        } else if (now - lastChange > stallMs) {
          reject(new TortureStallError(this.what, `no worker made progress for ${Math.round(now - lastChange)} ms`, snap, this.lock.owner()));
        } else {
          timer = setTimeout(tick, Math.min(250, stallMs / 4));
        }
      };
      timer = setTimeout(tick, Math.min(250, stallMs / 4));
    });
    try {
      return await Promise.race([work, dog]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<boolean> {
    await this.pool.terminate();
    return this.threadIds.every((_, i) => !this.pool.isAlive(i));
  }
}

function commonDefaults(options: Common, timeoutMs: number): Required<Pick<Common, 'timeoutMs' | 'stallMs'>> {
  return {
    timeoutMs: checkNumber('timeoutMs', options.timeoutMs ?? timeoutMs, 100, 3_600_000),
    stallMs: checkNumber('stallMs', options.stallMs ?? 15_000, 50, 3_600_000),
  };
}

function checkObject(param: string, value: unknown): asserts value is object {
  if (typeof value !== 'object' || value === null) throw new ConfigError(param, 'must be an options object');
}

// ---------------------------------------------------------------------------------------------
// Mutual exclusion

/** Options of runLockTorture. */
export interface LockTortureOptions extends Common {
  kind: LockKind;
  /** Workers sharing the lock, [1, 64]; default 2. More than cores is the interesting case. */
  workers?: number;
  /** Critical sections per worker, [1, 10^8]; default 10^6. workers × iterations must fit in int32. */
  iterations?: number;
  /** Words in the record, [4, 64]; default 4. */
  recordWords?: number;
  /**
   * Extra workers that take the lock for read, [0, 32]; default 0. Kind 'rwlock' (or 'busted', as
   * the control) only. Each runs `iterations` read sections checking that no writer is inside (the
   * canary is 0) and that the record is whole (its words agree).
   */
  readers?: number;
  /** Build the locks robust: every worker joins a ThreadRegistry the locks are given. Default false. */
  robust?: boolean;
}

/** One read-side worker of runLockTorture (option `readers`). */
export interface ReaderReport {
  worker: number;
  canaryTrips: number;
  tornReads: number;
  stats: Record<string, number>;
}

/** One exclusive-side worker of runLockTorture. */
export interface TortureWorkerReport {
  worker: number;
  ownerId: number;
  canaryTrips: number;
  elapsedMs: number;
  stats: Record<string, number>;
}

/** What runLockTorture saw: the record against workers × iterations, canary trips, timing. */
export interface LockTortureResult {
  kind: LockKind;
  workers: number;
  iterations: number;
  /** What every record word must read: workers × iterations. */
  expected: number;
  record: number[];
  /** expected minus the lowest record word: critical sections whose update was lost. */
  lostUpdates: number;
  /** True when the record words disagree (an update was half lost). */
  tornRecord: boolean;
  /** Entries that found another thread's id in the canary: exclusion failed on the spot. */
  canaryTrips: number;
  /** First worker's start to last worker's end, measured by the workers themselves. */
  elapsedMs: number;
  opsPerSec: number;
  perWorker: TortureWorkerReport[];
  /** Read-side workers (option `readers`); empty without them. */
  readers: ReaderReport[];
  /** Read sections that overlapped a writer (canary set) or saw a torn record, summed over readers. */
  readerCanaryTrips: number;
  tornReads: number;
  /**
   * Evidence that the workers overlapped, summed over every worker: acquisitions that did not
   * succeed at the first attempt, and parks. Both 0 means nobody ever waited: no evidence.
   */
  contended: number;
  parks: number;
}

function sumStat(stats: Record<string, number>[], key: string): number {
  return stats.reduce((n, s) => n + (s[key] ?? 0), 0);
}

/**
 * Mutual exclusion under real workers: each repeats lock; check a canary and set it; copy a
 * multi-word record with plain reads and write every word back + 1; clear the canary; unlock.
 * The record must end at exactly workers × iterations. Run kind 'busted' (no lock) as the negative
 * control: it must lose updates, or a clean run of a real lock proves nothing.
 */
export async function runLockTorture(options: LockTortureOptions): Promise<LockTortureResult> {
  checkObject('options', options);
  checkKnownKeys('options', options, ['kind', 'workers', 'iterations', 'recordWords', 'readers', 'robust', ...COMMON_KEYS]);
  const kind = checkOneOf('kind', options.kind, LOCK_KINDS);
  const workers = checkInt('workers', options.workers ?? 2, 1, MAX_WORKERS);
  const iterations = checkInt('iterations', options.iterations ?? 1_000_000, 1, 100_000_000);
  const recordWords = checkInt('recordWords', options.recordWords ?? 4, 4, 64);
  if (workers * iterations > MAX_COUNT) {
    throw new ConfigError('iterations', `workers × iterations must be at most ${MAX_COUNT} (the record is int32), got ${workers} × ${iterations}`);
  }
  const readers = checkInt('readers', options.readers ?? 0, 0, 32);
  if (readers > 0 && kind !== 'rwlock' && kind !== 'busted') {
    throw new ConfigError('readers', `applies to kinds "rwlock" and "busted" only, got kind "${kind}"`);
  }
  const robust = checkBool('robust', options.robust ?? false);
  const limits = commonDefaults(options, 120_000);
  const total = workers + readers;

  const what = `lock torture (${kind}${robust ? ', robust' : ''}, ${workers} workers${readers > 0 ? ` + ${readers} readers` : ''} × ${iterations})`;
  const h = await Harness.start(what, kind, total, recordWords, options, robust);
  try {
    const all = await h.run<ExclusionResult | RwReaderResult>(total, (pool) => Array.from({ length: total }, (_, i) => (i < workers
      ? pool.call(i, (r) => r.exclusion(kind, iterations, 20_000), limits.timeoutMs + 30_000)
      : pool.call(i, (r) => r.rwReader(kind as 'rwlock' | 'busted', iterations, 20_000), limits.timeoutMs + 30_000))), limits);
    const results = all.slice(0, workers) as ExclusionResult[];
    const readerResults = (all.slice(workers) as RwReaderResult[]).map((r, j) => ({
      worker: workers + j, canaryTrips: r.canaryTrips, tornReads: r.tornReads, stats: r.stats,
    }));
    const words = h.region.i32('data');
    const record = Array.from({ length: recordWords }, (_, k) => Atomics.load(words, 1 + k));
    const expected = workers * iterations;
    const startedAt = Math.min(...results.map((r) => r.startedAt));
    const endedAt = Math.max(...results.map((r) => r.endedAt));
    const elapsedMs = endedAt - startedAt;
    return {
      kind,
      workers,
      iterations,
      expected,
      record,
      lostUpdates: expected - Math.min(...record),
      tornRecord: record.some((w) => w !== record[0]),
      canaryTrips: results.reduce((n, r) => n + r.canaryTrips, 0),
      elapsedMs,
      opsPerSec: elapsedMs > 0 ? (expected / elapsedMs) * 1000 : Infinity,
      perWorker: results.map((r, worker) => ({
        worker,
        ownerId: ownerIdOfThread(h.threadIds[worker]!),
        canaryTrips: r.canaryTrips,
        elapsedMs: r.endedAt - r.startedAt,
        stats: r.stats,
      })),
      readers: readerResults,
      readerCanaryTrips: readerResults.reduce((n, r) => n + r.canaryTrips, 0),
      tornReads: readerResults.reduce((n, r) => n + r.tornReads, 0),
      contended: sumStat(all.map((r) => r.stats), 'contended'),
      parks: sumStat(all.map((r) => r.stats), 'parks'),
    };
  } finally {
    await h.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Seqlock consistency

/** The seqlock reader kinds runSeqlockConsistency can run. */
export const SEQ_READER_MODES = ['honour', 'ignore', 'read-fn'] as const satisfies readonly SeqReaderMode[];

/** Options of runSeqlockConsistency. */
export interface SeqlockConsistencyOptions extends Common {
  /** One entry per reader worker: how it reads. Default ['honour', 'honour']. */
  readers?: SeqReaderMode[];
  /** Accepted snapshots per reader, [1, 10^8]; default 10^6. */
  reads?: number;
  /** Words in the record, [4, 64]; default 8. */
  recordWords?: number;
  /** cpuRelax iterations the writer idles between writes, [0, 10^6]; default 32. */
  writerPause?: number;
  /**
   * cpuRelax iterations a reader spends after each word it loads, [0, 10^6]; default 4. A reader that
   * does a little work per word (as real ones do) holds its snapshot open long enough for writes to
   * land inside it, which the negative control needs to see tears at all.
   */
  readerPause?: number;
  /** A reader's bound on one readBegin / read(fn), ms; default 5000. */
  readTimeoutMs?: number;
}

/** Broken snapshots accepted by honouring readers (must be 0) and seen by ignoring ones (the control). */
export interface SeqlockConsistencyResult {
  writes: number;
  elapsedMs: number;
  readers: (SeqReaderResult & { worker: number })[];
  /** Broken snapshots accepted by readers that honour the protocol: must be 0. */
  brokenAccepted: number;
  /** Broken snapshots seen by readers that ignore readRetry: the negative control, must be > 0. */
  brokenSeenIgnoring: number;
  /**
   * Passes that honouring readers threw away because a write overlapped them: the evidence that the
   * writer and the readers ran at the same time (0 means they never overlapped: no evidence).
   */
  retriesHonouring: number;
  writerStats: Record<string, number>;
}

/**
 * Seqlock readers against one writer that keeps a record under an invariant (its words sum to a
 * known value): readers that honour readRetry must accept no broken snapshot; readers that ignore
 * it are the negative control and must see some.
 */
export async function runSeqlockConsistency(options: SeqlockConsistencyOptions = {}): Promise<SeqlockConsistencyResult> {
  checkObject('options', options);
  checkKnownKeys('options', options, ['readers', 'reads', 'recordWords', 'writerPause', 'readerPause', 'readTimeoutMs', ...COMMON_KEYS]);
  const modes = options.readers ?? ['honour', 'honour'];
  if (!Array.isArray(modes) || modes.length < 1 || modes.length > MAX_WORKERS - 1) {
    throw new ConfigError('readers', `must be an array of 1 to ${MAX_WORKERS - 1} reader modes`);
  }
  modes.forEach((m, i) => checkOneOf(`readers[${i}]`, m, SEQ_READER_MODES));
  const reads = checkInt('reads', options.reads ?? 1_000_000, 1, 100_000_000);
  const recordWords = checkInt('recordWords', options.recordWords ?? 8, 4, 64);
  const writerPause = checkInt('writerPause', options.writerPause ?? 32, 0, 1_000_000);
  const readerPause = checkInt('readerPause', options.readerPause ?? 4, 0, 1_000_000);
  const readTimeoutMs = checkNumber('readTimeoutMs', options.readTimeoutMs ?? 5000, 1, 3_600_000);
  const limits = commonDefaults(options, 120_000);
  const workers = 1 + modes.length;

  const h = await Harness.start(`seqlock consistency (1 writer, readers ${modes.join(',')})`, 'seqlock', workers, recordWords, options);
  try {
    // Version 0 must satisfy the invariant too: an all-zero record would count as broken for every
    // reader that runs before the writer's first write.
    const record = h.region.i32('data');
    for (let k = 0; k < recordWords; k++) Atomics.store(record, RECORD_AT + k * SEQ_STRIDE, seqRecordWord(0, k));
    const [writer, ...readers] = await h.run<SeqWriterResult | SeqReaderResult>(workers, (pool) => [
      pool.call(0, (r) => r.seqWriter(modes.length, writerPause, limits.timeoutMs, 20_000), limits.timeoutMs + 30_000),
      ...modes.map((mode, j) => pool.call(j + 1, (r) => r.seqReader(mode, reads, readerPause, readTimeoutMs, 20_000), limits.timeoutMs + 30_000)),
    ], limits);
    const w = writer as SeqWriterResult;
    const rs = (readers as SeqReaderResult[]).map((r, j) => ({ ...r, worker: j + 1 }));
    return {
      writes: w.writes,
      elapsedMs: w.endedAt - w.startedAt,
      readers: rs,
      brokenAccepted: rs.reduce((n, r) => n + r.brokenAccepted, 0),
      brokenSeenIgnoring: rs.reduce((n, r) => n + r.brokenSeen, 0),
      retriesHonouring: rs.filter((r) => r.mode !== 'ignore').reduce((n, r) => n + (r.stats.readRetries ?? 0), 0),
      writerStats: w.stats,
    };
  } finally {
    await h.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Dead owner

/** Options of runDeadOwner. */
export interface DeadOwnerOptions extends Common {
  kind: Exclude<LockKind, 'busted'>;
  /** Workers that try to take the lock after its holder died, [1, 63]; default 2. */
  waiters?: number;
  /** 'exit': the holder calls process.exit itself; 'terminate': the runner terminates it. */
  death?: 'exit' | 'terminate';
  /** Each waiter's lock(timeoutMs); default 200. */
  lockTimeoutMs?: number;
  /** Also try a seqlock reader (kind 'seqlock' only): readBegin must time out naming the writer. */
  seqReader?: boolean;
}

/** One waiter of runDeadOwner: how its bounded lock() ended, and whom it named. */
export interface DeadOwnerWaiter extends LockAttempt {
  worker: number;
  /** Worker index the error's owner id maps to (-1 if none). */
  ownerWorker: number;
}

/** What runDeadOwner saw: the dead owner's id, the word it left, and each waiter's bounded attempt. */
export interface DeadOwnerResult {
  kind: LockKind;
  deadWorker: number;
  deadOwnerId: number;
  /** Lock word's owner once the holder had died. */
  ownerAfterDeath: number;
  waiters: DeadOwnerWaiter[];
  /** A seqlock reader's attempt, when asked for. */
  seqReader: DeadOwnerWaiter | null;
  /** Every worker of the run had exited when the runner returned. */
  allTerminated: boolean;
}

/**
 * A worker takes the lock and dies holding it (exits or is terminated); the other workers' bounded
 * lock() must fail fast with a LockTimeoutError naming the dead owner, never hang.
 */
export async function runDeadOwner(options: DeadOwnerOptions): Promise<DeadOwnerResult> {
  checkObject('options', options);
  checkKnownKeys('options', options, ['kind', 'waiters', 'death', 'lockTimeoutMs', 'seqReader', ...COMMON_KEYS]);
  const kind = checkOneOf('kind', options.kind, REAL_LOCK_KINDS);
  const waiters = checkInt('waiters', options.waiters ?? 2, 1, MAX_WORKERS - 2);
  const death = checkOneOf('death', options.death ?? 'exit', ['exit', 'terminate'] as const);
  const lockTimeoutMs = checkNumber('lockTimeoutMs', options.lockTimeoutMs ?? 200, 0, 60_000);
  const seqReader = options.seqReader ?? false;
  if (seqReader && kind !== 'seqlock') throw new ConfigError('seqReader', `applies to kind "seqlock" only, got kind "${kind}"`);
  const limits = commonDefaults(options, 30_000);
  const workers = 1 + waiters + (seqReader ? 1 : 0);

  const h = await Harness.start(`dead owner (${kind}, ${death})`, kind, workers, 4, options);
  let result: Omit<DeadOwnerResult, 'allTerminated'>;
  try {
    const deadOwnerId = ownerIdOfThread(h.threadIds[0]!);
    const holder = h.pool.call(0, (r) => r.holdAndDie(kind, death === 'exit'), limits.timeoutMs);
    if (death === 'exit') {
      // The call never answers: the worker exits. Its exit is the success signal.
      await h.watch(holder.then(
        () => { throw new Error('dead owner: the holder returned instead of exiting'); },
        () => undefined,
      ), limits.timeoutMs, limits.stallMs);
    } else {
      await h.watch(holder, limits.timeoutMs, limits.stallMs);
      await h.pool.kill(0);
    }
    if (h.pool.isAlive(0)) throw new Error('dead owner: the holder is still alive');
    const ownerAfterDeath = h.lock.owner();
    const attempts = await h.watch(Promise.all([
      ...Array.from({ length: waiters }, (_, j) => h.pool.call(j + 1, (r) => r.lockWithTimeout(kind, lockTimeoutMs), limits.timeoutMs)),
      ...(seqReader ? [h.pool.call(waiters + 1, (r) => r.seqReadWithTimeout(lockTimeoutMs), limits.timeoutMs)] : []),
    ]), limits.timeoutMs, limits.stallMs);
    const mapped = attempts.map((a, j) => ({ ...a, worker: j + 1, ownerWorker: h.workerOfOwner(a.owner) }));
    result = {
      kind,
      deadWorker: 0,
      deadOwnerId,
      ownerAfterDeath,
      waiters: mapped.slice(0, waiters),
      seqReader: seqReader ? mapped[waiters]! : null,
    };
  } catch (e) {
    await h.close();
    throw e;
  }
  return { ...result, allTerminated: await h.close() };
}

// ---------------------------------------------------------------------------------------------
// Reader crash torture (robust RwLock)

export interface ReaderCrashOptions extends Common {
  /** Writers, [1, 8]; default 2. */
  writers?: number;
  /** Readers, [2, 16]; default 4. */
  readers?: number;
  /** Readers killed, at uniformly random moments of the run, [1, readers − 1]; default 3. */
  kills?: number;
  /** How long the writers and readers run, ms, [200, 60000]; default 1500. */
  runMs?: number;
  /** Every lock wait's bound, ms; default 5000. The negative control uses a short one. */
  lockTimeoutMs?: number;
  /** Build the lock with the registry; false is the negative control. Default true. */
  robust?: boolean;
  /** Seed of the kill schedule; default random (the result reports it). */
  seed?: number;
  /** cpuRelax iterations a reader spends inside its read section; default 256. */
  readerWork?: number;
  /** cpuRelax iterations a reader spends between its read sections; default 16. */
  readerRest?: number;
  /** cpuRelax iterations a writer idles after each section; default 2048. */
  writerPause?: number;
}

export interface ReaderCrashResult {
  robust: boolean;
  seed: number;
  /** Owner ids of the readers killed, in kill order, and when (ms after the start). */
  killed: { worker: number; ownerId: number; atMs: number }[];
  writerSections: number;
  readerSections: number;
  /** Writer acquisitions answered 'owner-died' (a killed reader's hold was in the count). */
  takeovers: number;
  /** Writers that found another writer inside, readers that found a writer inside or a torn record. */
  canaryTrips: number;
  readerCanaryTrips: number;
  tornReads: number;
  /** The record's words disagree at the end. */
  tornRecord: boolean;
  /** How each writer ended: 'ok', or the name of what it threw (the control expects LockTimeoutError). */
  writerOutcomes: string[];
  /** Lock word after the run and the recovery of every dead member: 0 means nothing leaked. */
  finalWord: number;
  /** Read holds the dead members still listed before recovery (entries, not necessarily counts). */
  listedBeforeRecovery: number;
  /** Members left dead or recovering after recovery. */
  deadAfterRecovery: number;
  contended: number;
  parks: number;
}

/** A tiny seeded generator for the kill schedule (mulberry32). */
function mulberry(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function runReaderCrashTorture(options: ReaderCrashOptions = {}): Promise<ReaderCrashResult> {
  checkObject('options', options);
  checkKnownKeys('options', options, ['writers', 'readers', 'kills', 'runMs', 'lockTimeoutMs', 'robust', 'seed', 'readerWork', 'readerRest', 'writerPause', ...COMMON_KEYS]);
  const readerRest = checkInt('readerRest', options.readerRest ?? 16, 0, 1_000_000);
  const writerPause = checkInt('writerPause', options.writerPause ?? 2048, 0, 1_000_000);
  const readerWork = checkInt('readerWork', options.readerWork ?? 256, 0, 1_000_000);
  const writers = checkInt('writers', options.writers ?? 2, 1, 8);
  const readers = checkInt('readers', options.readers ?? 4, 2, 16);
  const kills = checkInt('kills', options.kills ?? 3, 1, readers - 1);
  const runMs = checkInt('runMs', options.runMs ?? 1500, 200, 60_000);
  const lockTimeoutMs = checkInt('lockTimeoutMs', options.lockTimeoutMs ?? 5000, 1, 600_000);
  const robust = checkBool('robust', options.robust ?? true);
  const seed = checkInt('seed', options.seed ?? Math.floor(Math.random() * 2 ** 31), 0, 2 ** 31 - 1);
  const limits = commonDefaults(options, runMs + 30_000);
  const total = writers + readers;
  const recordWords = 4;

  const h = await Harness.start(`reader crash torture (${robust ? 'robust' : 'no registry'}, seed ${seed})`, 'rwlock', total, recordWords, options, robust);
  try {
    const registry = new ThreadRegistry(h.region.i32('registry'), 0, total);
    const control = h.region.i32('control');
    const call = <R>(i: number, fn: (r: import('comlink').Remote<LockTortureApi>) => Promise<R>): Promise<R> => h.pool.call(i, fn, limits.timeoutMs);
    const writerCalls = Array.from({ length: writers }, (_, i) => call(i, (r) => r.crashWriter(lockTimeoutMs, writerPause, 20_000)));
    const readerCalls = Array.from({ length: readers }, (_, j) => call(writers + j, (r) => r.crashReader(lockTimeoutMs, readerWork, readerRest, 20_000)));
    const settled = Promise.allSettled([...writerCalls, ...readerCalls]);
    await h.barrier.releaseWhenArrived(total, 20_000, settled);
    const started = performance.now();

    // Kill schedule: uniform moments in the run, each a random reader still alive.
    const random = mulberry(seed);
    const moments = Array.from({ length: kills }, () => 50 + random() * (runMs - 100)).sort((x, y) => x - y);
    const alive = Array.from({ length: readers }, (_, j) => writers + j);
    const killed: ReaderCrashResult['killed'] = [];
    for (const at of moments) {
      const wait = at - (performance.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const victim = alive.splice(Math.floor(random() * alive.length), 1)[0]!;
      const threadId = h.threadIds[victim]!;
      await h.pool.kill(victim);
      registry.markThreadDead(threadId);
      killed.push({ worker: victim, ownerId: ownerIdOfThread(threadId), atMs: Math.round(performance.now() - started) });
    }
    const rest = runMs - (performance.now() - started);
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    Atomics.store(control, STOP, 1);
    const outcomes = await h.watch(settled, limits.timeoutMs, limits.stallMs);

    const writerResults = outcomes.slice(0, writers);
    const readerResults = outcomes.slice(writers).filter((o, j) => !killed.some((k) => k.worker === writers + j));
    const ok = <T>(o: PromiseSettledResult<T>): T | null => (o.status === 'fulfilled' ? o.value : null);
    const wr = writerResults.map(ok).filter((x): x is CrashWriterResult => x !== null);
    const rr = readerResults.map(ok).filter((x): x is RwReaderResult => x !== null);

    // Recovery of the dead members' read holds, as an allocator's recoverer would do it.
    const dead = registry.deadMembers();
    const listedBeforeRecovery = dead.reduce((n, m) => n + registry.readHoldsOf(m).length, 0);
    const lock = new RwLock(h.region.i32('lock'), 0, { registry });
    if (robust) {
      for (const m of dead) {
        if (!registry.beginRecovery(m)) continue;
        lock.recoverReadHolds(m, () => {}, 5_000);
        registry.finishRecovery(m);
      }
    }
    const words = h.region.i32('data');
    const record = Array.from({ length: recordWords }, (_, k) => Atomics.load(words, RECORD_AT + k));
    const stats = [...wr.map((r) => r.stats), ...rr.map((r) => r.stats)];
    return {
      robust,
      seed,
      killed,
      writerSections: wr.reduce((n, r) => n + r.sections, 0),
      readerSections: rr.reduce((n, r) => n + (r.stats.acquisitions ?? 0), 0),
      takeovers: wr.reduce((n, r) => n + r.takeovers, 0),
      canaryTrips: wr.reduce((n, r) => n + r.canaryTrips, 0),
      readerCanaryTrips: rr.reduce((n, r) => n + r.canaryTrips, 0),
      tornReads: rr.reduce((n, r) => n + r.tornReads, 0),
      tornRecord: record.some((w) => w !== record[0]),
      writerOutcomes: writerResults.map((o) => (o.status === 'fulfilled' ? 'ok' : errorName(o.reason))),
      finalWord: Atomics.load(h.region.i32('lock'), 0),
      listedBeforeRecovery,
      deadAfterRecovery: registry.deadMembers().length,
      contended: sumStat(stats, 'contended'),
      parks: sumStat(stats, 'parks'),
    };
  } finally {
    await h.close();
  }
}

/** The error's name; a worker's throw arrives wrapped, its name inside the message. */
function errorName(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const inner = /\b(LockTimeoutError|LockNotRecoverableError|LockMisuseError)\b/.exec(e.message);
  return inner?.[1] ?? e.name;
}

// ---------------------------------------------------------------------------------------------
// writeBegin race (issue 8)

export interface SeqBeginRaceOptions extends Common {
  /** The negative control: the second writer uses the old add-then-undo misuse check. */
  legacy?: boolean;
  /** writeBegin calls of the second writer, [1, 10^8]; default 100000 (or fewer, if maxMs ends the run). */
  iterations?: number;
  /** Longest the observer samples, ms; default 3000. */
  maxMs?: number;
}

export interface SeqBeginRaceResult {
  legacy: boolean;
  calls: number;
  refused: number;
  samples: number;
  /** Samples taken while the second writer was hammering: the evidence that the two overlapped. */
  whileHammering: number;
  /** Even sequences observed mid-write: moments at which a reader would accept a torn record. */
  evenSeen: number;
  /** Sequence after the run: the first write is still in progress, so it must still be odd. */
  finalSequence: number;
}

export async function runSeqBeginRace(options: SeqBeginRaceOptions = {}): Promise<SeqBeginRaceResult> {
  checkObject('options', options);
  checkKnownKeys('options', options, ['legacy', 'iterations', 'maxMs', ...COMMON_KEYS]);
  const legacy = checkBool('legacy', options.legacy ?? false);
  const iterations = checkInt('iterations', options.iterations ?? 100_000, 1, 100_000_000);
  const maxMs = checkInt('maxMs', options.maxMs ?? 3000, 10, 600_000);
  const limits = commonDefaults(options, maxMs + 30_000);
  const h = await Harness.start(`writeBegin race (${legacy ? 'legacy add/sub' : 'compareExchange'})`, 'seqlock', 2, 4, options);
  try {
    // The first writer (this thread) began a write and is "descheduled" for the whole run.
    Atomics.store(h.region.i32('lock'), 0, 1);
    const [hammer, sample] = await h.run<{ calls: number; refused: number } | { samples: number; whileHammering: number; evenSeen: number }>(2, (pool) => [
      pool.call(0, (r) => r.seqBeginHammer(legacy, legacy ? 100_000_000 : iterations, 20_000), limits.timeoutMs),
      pool.call(1, (r) => r.seqBeginSample(maxMs, 20_000), limits.timeoutMs),
    ], limits) as [{ calls: number; refused: number }, { samples: number; whileHammering: number; evenSeen: number }];
    return { legacy, ...hammer, ...sample, finalSequence: Atomics.load(h.region.i32('lock'), 0) };
  } finally {
    await h.close();
  }
}
