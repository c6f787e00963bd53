/**
 * Dead-holder runs (issue 9's proof for the lock layer): a real worker takes a lock and parks inside
 * its critical section; a second real worker waits for the same lock; the runner terminates the
 * holder and reports its death to the ThreadRegistry (markThreadDead, or watchWorker on the exit
 * event). A robust lock's survivor must then take the lock over within 100 ms of the report and be
 * told 'owner-died'; the negative control — the same run with the lock built without the registry —
 * must leave the survivor to its timeout.
 *
 * Every wait of the runner is bounded by one watchdog, whose error says which worker was where; every
 * worker is terminated in a finally. Memory layout and the lock subjects: lock-torture-robust-layout.ts.
 */
import { Worker } from 'node:worker_threads';
import { createRegion } from '../shared/region.js';
import { compiledWorkerUrl } from '../shared/worker-pool.js';
import { watchWorker } from '../shared/watch-worker.js';
import { ConfigError, checkInt, checkKnownKeys, checkOneOf } from '../shared/validate.js';
import { ThreadRegistry, ownerIdOfThread } from '../locks/index.js';
import {
  GO, MEMBERS, PHASE_NAMES, Phase, RECORD_WORDS, RELEASE, ROBUST_SUBJECTS, type RobustRole, type RobustSubject,
  type RobustWorkerData, type Side, type SurvivorReport, epochMs, makeSubject, recordWord, robustSpec,
} from './lock-torture-robust-layout.js';

export { ROBUST_SUBJECTS, type RobustSubject, type Side, type SurvivorReport } from './lock-torture-robust-layout.js';

/** The watchdog fired: names each worker's last phase. */
export class DeadHolderStallError extends Error {
  readonly phases: string[];
  constructor(what: string, waitingFor: string, phases: string[]) {
    super(`${what}: watchdog: still waiting for ${waitingFor}; workers were: ${phases.map((p, w) => `worker ${w} (${w === 0 ? 'holder' : 'waiter'}): ${p}`).join('; ')}`);
    this.name = 'DeadHolderStallError';
    this.phases = phases;
  }
}

export interface DeadHolderOptions {
  subject: RobustSubject;
  /** The waiting worker: a lock survivor (default), or a seqlock optimistic reader (seqlock only). */
  waiter?: 'survivor' | 'seq-reader';
  /** Side the survivor asks for; default 'write'. */
  survivorSide?: Side;
  /** Build the lock with the registry; false is the negative control. Default true. */
  robust?: boolean;
  /** What the survivor does after taking over: repair and markConsistent, or unlock unrepaired. */
  mode?: 'consistent' | 'abandon';
  /** The survivor's acquisition timeout, ms; default 10000. */
  survivorTimeoutMs?: number;
  /** How the death is reported; default 'markThreadDead'. */
  report?: 'markThreadDead' | 'watchWorker';
  /** Watchdog over the whole run, ms; default 20000. */
  timeoutMs?: number;
  workerUrl?: URL;
}

export interface DeadHolderResult {
  subject: RobustSubject;
  robust: boolean;
  holderOwnerId: number;
  /** Registry members the report marked dead (the holder's). */
  markedDead: number[];
  /** epochMs just before the death was reported. */
  reportedAt: number;
  waiter: SurvivorReport;
  /** waiter.endedAt − reportedAt: how long after the report the waiter got its answer. */
  latencyMs: number;
  /** The main thread's look at the lock once the waiter was done. */
  notRecoverable: boolean;
  allTerminated: boolean;
}

interface Spawned {
  worker: Worker;
  threadId: number;
  result: Promise<unknown>;
  exited: boolean;
}

function spawn(url: URL, data: RobustWorkerData): Spawned {
  const worker = new Worker(url, { workerData: data });
  const s: Spawned = { worker, threadId: worker.threadId, result: Promise.resolve(), exited: false };
  s.result = new Promise((resolve, reject) => {
    worker.once('message', (m: { ok: boolean; value?: unknown; name?: string; message?: string }) => {
      if (m.ok) resolve(m.value);
      else reject(new Error(`worker ${data.worker} threw ${m.name}: ${m.message}`));
    });
    worker.once('error', (e) => reject(new Error(`worker ${data.worker} failed: ${e.message}`)));
    worker.once('exit', (code) => {
      s.exited = true;
      reject(new Error(`worker ${data.worker} exited with code ${code} before reporting`));
    });
  });
  s.result.catch(() => {});
  return s;
}

export async function runDeadHolder(options: DeadHolderOptions): Promise<DeadHolderResult> {
  if (typeof options !== 'object' || options === null) throw new ConfigError('options', 'must be an options object');
  checkKnownKeys('options', options, ['subject', 'waiter', 'survivorSide', 'robust', 'mode', 'survivorTimeoutMs', 'report', 'timeoutMs', 'workerUrl']);
  const subjectKind = checkOneOf('subject', options.subject, ROBUST_SUBJECTS);
  const waiterKind = checkOneOf('waiter', options.waiter ?? 'survivor', ['survivor', 'seq-reader'] as const);
  if (waiterKind === 'seq-reader' && subjectKind !== 'seqlock') throw new ConfigError('waiter', `"seq-reader" applies to subject "seqlock" only, got "${subjectKind}"`);
  const side = checkOneOf('survivorSide', options.survivorSide ?? 'write', ['write', 'read'] as const);
  const robust = options.robust ?? true;
  const mode = checkOneOf('mode', options.mode ?? 'consistent', ['consistent', 'abandon'] as const);
  const survivorTimeoutMs = checkInt('survivorTimeoutMs', options.survivorTimeoutMs ?? 10_000, 1, 600_000);
  const reportHow = checkOneOf('report', options.report ?? 'markThreadDead', ['markThreadDead', 'watchWorker'] as const);
  const timeoutMs = checkInt('timeoutMs', options.timeoutMs ?? 20_000, 100, 600_000);
  const url = options.workerUrl ?? compiledWorkerUrl(import.meta.url, './lock-torture-robust-worker.js');
  const what = `dead holder (${subjectKind}${robust ? '' : ', no registry'}, ${waiterKind}${waiterKind === 'survivor' ? ` ${side}` : ''}, ${mode})`;

  const region = createRegion(robustSpec());
  ThreadRegistry.init(region.i32('registry'), 0, MEMBERS);
  const registry = new ThreadRegistry(region.i32('registry'), 0, MEMBERS);
  const control = region.i32('control');
  const phases = region.i32('phases');
  const record = region.i32('record');
  for (let k = 0; k < RECORD_WORDS; k++) Atomics.store(record, k, recordWord(0, k));
  // The main thread only looks: it never joins, never takes the lock.
  const view = makeSubject(subjectKind, region.i32('locks'), registry);

  const waiterRole: RobustRole = waiterKind === 'survivor'
    ? { kind: 'survive', side, timeoutMs: survivorTimeoutMs, mode, goTimeoutMs: timeoutMs }
    : { kind: 'seq-read', timeoutMs: survivorTimeoutMs, goTimeoutMs: timeoutMs };
  const workers: Spawned[] = [];
  const deadline = performance.now() + timeoutMs;
  const phaseNames = (): string[] => workers.map((_, w) => PHASE_NAMES[Atomics.load(phases, w * 16)] ?? '?');

  /** Polls `cond` every 2 ms until it holds; the watchdog's deadline bounds it. */
  const waitFor = async (cond: () => boolean, waitingFor: string): Promise<void> => {
    while (!cond()) {
      if (performance.now() > deadline) throw new DeadHolderStallError(what, waitingFor, phaseNames());
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const within = async <T>(p: Promise<T>, waitingFor: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const dog = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadHolderStallError(what, waitingFor, phaseNames())), Math.max(0, deadline - performance.now()));
    });
    try {
      return await Promise.race([p, dog]);
    } finally {
      clearTimeout(timer);
    }
  };

  let result: DeadHolderResult;
  try {
    const data = (worker: number, role: RobustRole): RobustWorkerData => ({ handle: region.handle, worker, subject: subjectKind, robust, role });
    workers.push(spawn(url, data(0, { kind: 'hold', parkMs: timeoutMs })));
    workers.push(spawn(url, data(1, waiterRole)));
    const [holder, waiter] = workers as [Spawned, Spawned];
    const phase = (w: number): number => Atomics.load(phases, w * 16);
    const holderFailed = holder.result.then(() => { throw new Error('holder returned instead of parking'); });
    holderFailed.catch(() => {});

    await Promise.race([waitFor(() => phase(0) === Phase.holding, 'the holder to take the lock'), holderFailed]);
    Atomics.store(control, GO, 1);
    Atomics.notify(control, GO);
    // The waiter must be waiting on the lock before the holder dies: a survivor shows it by the
    // word's waiter bit (it parked); an optimistic seqlock reader naps without one, so give it time.
    await Promise.race([
      waitFor(() => phase(1) === Phase.done || phase(1) === Phase.failed || (phase(1) === Phase.waiting && (waiterKind === 'seq-reader' || view.hasWaiters())),
        'the waiter to wait on the lock'),
      waiter.result,
    ]);
    if (waiterKind === 'seq-reader') await new Promise((r) => setTimeout(r, 30));

    let reportedAt = 0;
    let markedDead: number[] = [];
    if (reportHow === 'watchWorker') {
      // Registered before watchWorker's own listener, so it runs first: the time just before the report.
      holder.worker.once('exit', () => { reportedAt = epochMs(); });
      watchWorker(holder.worker, registry, (m) => { markedDead = m; });
      await holder.worker.terminate();
    } else {
      await holder.worker.terminate();
      reportedAt = epochMs();
      markedDead = registry.markThreadDead(holder.threadId);
    }
    const report = (await within(waiter.result, 'the waiter\'s answer after the death')) as SurvivorReport;
    result = {
      subject: subjectKind,
      robust,
      holderOwnerId: ownerIdOfThread(holder.threadId),
      markedDead,
      reportedAt,
      waiter: report,
      latencyMs: report.endedAt - reportedAt,
      notRecoverable: view.isNotRecoverable(),
      allTerminated: false,
    };
  } finally {
    // Let a holder that was not killed go, then end every worker whatever happened.
    Atomics.store(control, RELEASE, 1);
    Atomics.notify(control, RELEASE);
    await Promise.allSettled(workers.map((w) => w.worker.terminate()));
  }
  result.allTerminated = workers.every((w) => w.exited);
  return result;
}
