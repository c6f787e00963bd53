/**
 * reproduceReportedRace: the interleaving of the 2023 report, step for step, with two real workers
 * sharing one filesystem.
 *
 *   Task 1 reads bucket K's record (free) and is parked at candidate-read.
 *   Task 2 — parked at the start of its allocation until Task 1 has read K — reads K, opens it,
 *   writes, commits, and puts it, which takes K out of the open-bucket hash.
 *   Task 1 resumes. Unfixed, it only asks "is K open?" — no — and opens K a second time.
 *
 * The script policy (control.ts) enforces exactly this order; nothing depends on timing. Both tasks
 * start on a fresh filesystem, so both scans meet bucket 0 first: K = 0.
 */
import { StartBarrier } from '../shared/barrier.js';
import { WorkerPool, compiledWorkerUrl, type WorkerSpawnOptions } from '../shared/worker-pool.js';
import { createFilesystem } from '../alloc/filesystem.js';
import { normalizeConfig, type FilesystemOptions } from '../alloc/config.js';
import type { FsckReport } from '../alloc/fsck.js';
import type { ErrorEntry } from '../alloc/error-log.js';
import { WRITE_TYPES, type WriteType } from '../alloc/types.js';
import { checkInt, checkOneOf, checkKnownKeys, ConfigError } from '../shared/validate.js';
import { RaceControl, type TraceEntry } from './control.js';
import { describeTrace } from './trace-format.js';
import type { ReproduceWorkerApi, TaskOutcome } from './reproduce-worker.js';

/** Options of reproduceReportedRace: the configuration to run the reported interleaving under. */
export interface ReproduceOptions extends Pick<FilesystemOptions, 'allocator' | 'fix' | 'cursorFix' | 'freelistLookup'> {
  /** Data types written by Task 1 and Task 2; different types show the data-type mismatch. */
  dataTypes?: [WriteType, WriteType];
  /** Sectors each task writes. */
  sectors?: number;
  /** Bound on every wait: the run fails with a clear error instead of hanging. */
  timeoutMs?: number;
  /** Flags and resource limits for the two workers (default: this process's usable flags). */
  workerOptions?: WorkerSpawnOptions;
}

/** What the reported interleaving did under one configuration. */
export interface ReproduceResult {
  config: ReturnType<typeof normalizeConfig>;
  /** Both tasks opened the same bucket. */
  sameBucket: boolean;
  duplicate: boolean;
  mismatch: boolean;
  /** Duplicate allocations the oracle counted (Task 1's second opening of K is one). */
  duplicateAllocations: number;
  /** Any corruption: a duplicate allocation, an error logged by a commit, or fsck not clean. */
  corrupted: boolean;
  tasks: [TaskOutcome, TaskOutcome];
  errors: ErrorEntry[];
  fsck: FsckReport;
  trace: TraceEntry[];
  /** The trace as sentences, one per step, in order. */
  narrative: string[];
}

/** The report's names for the two workers (worker 0 is Task 1). */
export const TASK_NAMES = ['Task 1', 'Task 2'] as const;
const KNOWN = ['allocator', 'fix', 'cursorFix', 'freelistLookup', 'dataTypes', 'sectors', 'timeoutMs', 'workerOptions'];

/**
 * Replays the interleaving of the 2023 report with two real workers sharing one fresh filesystem:
 * a script in shared memory parks Task 2 until Task 1 has read bucket K, and Task 1 right after that
 * read until Task 2 has opened, filled, committed and released K. Nothing depends on timing, so the
 * outcome is the same every run: unfixed, Task 1 opens K a second time (duplicate backpointer); with
 * a fix it skips K.
 */
export async function reproduceReportedRace(options: ReproduceOptions = {}): Promise<ReproduceResult> {
  checkKnownKeys('options', options, KNOWN);
  const dataTypes = options.dataTypes ?? ['user', 'user'];
  if (!Array.isArray(dataTypes) || dataTypes.length !== 2) throw new ConfigError('dataTypes', 'must be a pair [task1, task2]');
  dataTypes.forEach((t, i) => checkOneOf(`dataTypes[${i}]`, t, WRITE_TYPES));
  const bucketSectors = 16;
  const sectors = checkInt('sectors', options.sectors ?? 4, 1, bucketSectors);
  const timeoutMs = checkInt('timeoutMs', options.timeoutMs ?? 15_000, 100, 600_000);
  const fs = createFilesystem({
    buckets: 8,
    bucketSectors,
    openBuckets: 16,
    allocator: options.allocator ?? 'early',
    fix: options.fix ?? 'none',
    cursorFix: options.cursorFix ?? false,
    freelistLookup: options.freelistLookup ?? 'locked',
    lockTimeoutMs: timeoutMs,
  });
  const rc = RaceControl.create({ workers: 2, traceCapacity: 256 });
  rc.setTrace(true);
  rc.setWaitTimeout(timeoutMs);
  rc.setScript([
    { worker: 1, at: 'allocStart', untilWorker: 0, untilPoint: 'candidateRead' },
    { worker: 0, at: 'candidateRead', untilWorker: 1, untilPoint: 'afterPut' },
  ]);
  const barrier = new Int32Array(new SharedArrayBuffer(StartBarrier.WORDS * 4));
  const pool = await WorkerPool.start<ReproduceWorkerApi>({
    ...options.workerOptions,
    url: compiledWorkerUrl(import.meta.url, './reproduce-worker.js'),
    count: 2,
    workerData: () => null,
  });
  let tasks: TaskOutcome[];
  try {
    const running = pool.all((remote, i) => remote.run({
      fs: fs.handle, race: rc.handle, barrier, worker: i, writer: i + 1, dataType: dataTypes[i]!, sectors, timeoutMs,
    }), timeoutMs + 5_000);
    await new StartBarrier(barrier, 0).releaseWhenArrived(2, timeoutMs, running);
    tasks = await running;
  } finally {
    await pool.terminate();
  }
  const errors = fs.errors();
  const report = fs.fsck();
  const duplicateAllocations = fs.stats().counters.duplicateAllocations;
  const trace = rc.traceEntries();
  const t = tasks as [TaskOutcome, TaskOutcome];
  return {
    config: fs.config,
    sameBucket: t[0].bucket === t[1].bucket,
    duplicate: errors.some((e) => e.kind === 'duplicate_backpointer'),
    mismatch: errors.some((e) => e.kind === 'data_type_mismatch'),
    duplicateAllocations,
    corrupted: duplicateAllocations > 0 || errors.length > 0 || !report.ok,
    tasks: t,
    errors,
    fsck: report,
    trace,
    narrative: describeTrace(trace, TASK_NAMES),
  };
}
