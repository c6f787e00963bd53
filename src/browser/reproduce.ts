/**
 * The interleaving of the 2023 report, step for step, in two Web Workers (Task 1, Task 2) sharing
 * one fresh filesystem — the same script as src/race/reproduce.ts, which runs it under Node — with a
 * step log that says, at each step, what state the contested bucket K was in. The page draws it as
 * a two-lane timeline for each fix; the browser suite checks that unfixed configurations allocate K
 * twice and fixed ones do not.
 *
 * Nothing depends on timing: the script parks Task 2 until Task 1 has read K, and Task 1 right after
 * that read until Task 2 has opened, filled, committed and put K. Both scans meet bucket 0 first on a
 * fresh filesystem, so K = 0.
 */
import { StartBarrier } from '../shared/barrier.js';
import { startPool, type WorkerAdapter } from '../shared/pool.js';
import { checkInt } from '../shared/validate.js';
import { createFilesystem } from '../alloc/filesystem.js';
import type { FilesystemOptions } from '../alloc/config.js';
import { racePointLabel } from '../alloc/race-points.js';
import { RaceControl } from '../race/control.js';
import { describeTraceEntry } from '../race/trace-format.js';
import type { TaskOutcome } from '../race/reproduce-task.js';
import { BUCKET_STATES, type BucketState } from './bucket-states.js';
import { LOG_HEADER, LOG_WORDS } from './reproduce-log.js';
import type { BrowserReproduceWorkerApi } from './reproduce-worker.js';

/** One step of the timeline. */
export interface TimelineStep {
  /** 0: Task 1, 1: Task 2. */
  task: number;
  /** Race point label ("candidate-read"). */
  point: string;
  bucket: number;
  opId: number;
  /** The contested bucket's state when the task got here. */
  state: BucketState;
  /** Open-bucket slots holding the contested bucket then. */
  openSlots: number;
  /** An open slot holding it is a duplicate allocation (the oracle's verdict at publish). */
  duplicate: boolean;
  dirtySectors: number;
  /** The step as a sentence. */
  text: string;
}

/** The reported interleaving replayed in Web Workers: every step with bucket K's state, and the verdicts. */
export interface BrowserReproduceResult {
  config: Pick<FilesystemOptions, 'allocator' | 'fix' | 'cursorFix' | 'freelistLookup'>;
  /** The contested bucket K. */
  contested: number;
  steps: TimelineStep[];
  tasks: [TaskOutcome, TaskOutcome];
  /** Duplicate allocations the oracle counted. */
  duplicateAllocations: number;
  /** Both tasks ended up with the same bucket. */
  sameBucket: boolean;
  errors: string[];
  fsckOk: boolean;
}

/** The report's names for the two workers (as src/race/reproduce.ts, which is Node-only, has them). */
const TASK_NAMES = ['Task 1', 'Task 2'] as const;

/** Where each task starts an allocation; not in the report's vocabulary, so named here. */
const EXTRA_TEXT: Record<string, string> = { 'alloc-start': 'starts an allocation' };

/**
 * Replays the report's interleaving with two workers started by `adapter` (webWorkers in a page):
 * Task 1 reads bucket K and is held; Task 2 opens, fills and puts K; Task 1 resumes. Unfixed it
 * opens K a second time; under a fix it skips it. Logs K's state, dirty sectors and the oracle's
 * verdict at every step.
 */
export async function reproduceInBrowser(
  adapter: WorkerAdapter,
  options: Pick<FilesystemOptions, 'allocator' | 'fix' | 'cursorFix' | 'freelistLookup'> & { timeoutMs?: number } = {},
): Promise<BrowserReproduceResult> {
  const timeoutMs = checkInt('timeoutMs', options.timeoutMs ?? 15_000, 100, 600_000);
  const config = {
    allocator: options.allocator ?? 'early', fix: options.fix ?? 'none', cursorFix: options.cursorFix ?? false, freelistLookup: options.freelistLookup ?? 'locked',
  } as const;
  const fs = createFilesystem({ buckets: 8, bucketSectors: 16, openBuckets: 16, ...config, lockTimeoutMs: timeoutMs });
  const rc = RaceControl.create({ workers: 2, traceCapacity: 0 });
  rc.setWaitTimeout(timeoutMs);
  rc.setScript([
    { worker: 1, at: 'allocStart', untilWorker: 0, untilPoint: 'candidateRead' },
    { worker: 0, at: 'candidateRead', untilWorker: 1, untilPoint: 'afterPut' },
  ]);
  const contested = 0;
  const capacity = 128;
  const log = new Int32Array(new SharedArrayBuffer((LOG_HEADER + capacity * LOG_WORDS) * 4));
  const barrier = new Int32Array(new SharedArrayBuffer(StartBarrier.WORDS * 4));
  const pool = await startPool<BrowserReproduceWorkerApi>(adapter, { count: 2, workerData: () => null, startTimeoutMs: timeoutMs });
  let tasks: TaskOutcome[];
  try {
    const running = pool.all((r, i) => r.run({
      fs: fs.handle, race: rc.handle, barrier, worker: i, writer: i + 1, dataType: 'user', sectors: 4, timeoutMs, log, contested,
    }), timeoutMs + 5_000);
    await new StartBarrier(barrier, 0).releaseWhenArrived(2, timeoutMs, running);
    tasks = await running;
  } finally {
    await pool.terminate();
  }
  const steps: TimelineStep[] = [];
  const n = Math.min(capacity, Atomics.load(log, 0));
  for (let i = 0; i < n; i++) {
    const at = LOG_HEADER + i * LOG_WORDS;
    if (Atomics.load(log, at + 8) !== 1) continue;
    const entry = { worker: log[at]!, point: racePointLabel(log[at + 1]!), bucket: log[at + 2]!, opId: log[at + 3]! };
    const text = EXTRA_TEXT[entry.point] !== undefined
      ? `${TASK_NAMES[entry.worker]!.padEnd(8)} ${entry.point.padEnd(22)}: ${EXTRA_TEXT[entry.point]}`
      : describeTraceEntry(entry, TASK_NAMES);
    steps.push({
      task: entry.worker, point: entry.point, bucket: entry.bucket, opId: entry.opId,
      state: BUCKET_STATES[log[at + 4]!] ?? 'free', openSlots: log[at + 5]!, dirtySectors: log[at + 6]!, duplicate: log[at + 7] === 1, text,
    });
  }
  const t = tasks as [TaskOutcome, TaskOutcome];
  const report = fs.fsck();
  return {
    config, contested, steps, tasks: t,
    duplicateAllocations: fs.stats().counters.duplicateAllocations,
    sameBucket: t[0].bucket === t[1].bucket,
    errors: fs.errors().map((e) => e.kind),
    fsckOk: report.ok,
  };
}
