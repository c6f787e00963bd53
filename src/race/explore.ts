/**
 * Systematic exploration: every schedule of W workers × M operations (explore-program.ts) with at
 * most C preemptions, on real workers, each execution from the same saved memory image, each judged
 * by the allocation oracle, the commits' error log and fsck. docs/explore.md is the user's guide and
 * states what a verdict covers; this header is the algorithm.
 *
 * Schedules. A *scheduling point* is allocation start or any race point a worker passes outside a
 * lock (the controlled scheduler's points); a *step* is what one worker runs from one of its points
 * to the next. At each point a decision picks the worker that runs the next step. A decision is a
 * *preemption* when the worker that just ran could go on and another is picked; switching away from
 * a worker whose program has ended costs nothing.
 *
 * Iterative context bounding (Musuvathi & Qadeer, CHESS, PLDI 2007). Bound c = 0, 1, …, C in turn:
 * a work item is a decision prefix whose last decision is its c-th preemption; from it, a
 * depth-first search takes every continuation without another preemption (at a point where the
 * running worker has ended, each enabled worker is a branch), and every preemption it passes is a
 * work item of bound c + 1. So all schedules with c preemptions are done before any with c + 1, and
 * a budget that runs out says exactly which bounds are complete.
 *
 * Stateless: an execution replays its prefix from the image (the workers are reused; memory is
 * reset by copying the image back, not rebuilt), then runs on by the rule above (explore-engine.ts),
 * recording at each point who was enabled, who was asleep, and each step's footprint.
 *
 * Partial-order reduction, by sleep sets (Godefroid 1996). Two steps of different workers that are
 * independent (explore-footprint.ts) lead to the same state in either order. After the branch that
 * runs worker u's step at a node has been explored, u's step sleeps in the node's later branches and
 * wakes only when a step dependent on it runs; a schedule that would run a sleeping step is a
 * reordering of one already explored and is not run. Sleep sets and a preemption bound do not mix
 * blindly — the explored reordering may need more preemptions than the one pruned, and then lies
 * outside the bound (Coons, Musuvathi, McKinley, OOPSLA 2013) — so a sibling's step goes to sleep
 * only when its reordering cannot need more: it is the running worker's own step (the branch without
 * a preemption, explored first), or it is its worker's last step. Then the explored representative
 * of every pruned schedule has no more preemptions than it (docs/explore.md has the count) and lies
 * in an earlier branch, so every final state of the bounded search is still reached.
 */
import { performance } from 'node:perf_hooks';
import { WorkerPool, compiledWorkerUrl } from '../shared/worker-pool.js';
import { checkBool, checkInt, checkKnownKeys, checkOneOf, ConfigError } from '../shared/validate.js';
import { createFilesystem, type Filesystem } from '../alloc/filesystem.js';
import { ALLOCATORS, FIXES, FREELIST_LOOKUPS, WRITE_TYPES, type AllocatorKind, type FixKind, type FreelistLookup, type WriteType } from '../alloc/types.js';
import { RECORD_WORDS, Rec } from '../alloc/bucket-table.js';
import { EXTENT_LIVE, EXTENT_WORDS, Ext } from '../alloc/extents.js';
import { RaceControl, type TraceEntry, type WorkerPosition } from './control.js';
import { decodeSchedule, encodeSchedule } from './scheduler.js';
import { describeTraceEntry } from './trace-format.js';
import { count } from '../torture/format.js';
import { MAX_EXPLORE_BUCKETS, MAX_EXPLORE_SLOTS } from './explore-footprint.js';
import { EPOCH_QUIT, ExploreShared, FOOT_STRIDE, MAX_EXPLORE_WORKERS, Status, TURN_NONE, X } from './explore-shared.js';
import { OP_MIXES, type OpMix, type ProgramSpec } from './explore-program.js';
import type { ExploreWorkerApi } from './explore-worker.js';

export interface ExploreOptions {
  workers?: number;
  /** Operations per worker (explore-program.ts). */
  ops?: number;
  /** Preemption bound C. */
  preemptions?: number;
  allocator?: AllocatorKind;
  fix?: FixKind;
  cursorFix?: boolean;
  freelistLookup?: FreelistLookup;
  discard?: boolean;
  /** Default: workers × ops + 2 (every operation can find a bucket). */
  buckets?: number;
  bucketSectors?: number;
  /** Sectors each write takes. */
  sectors?: number;
  mix?: OpMix;
  /** Data type of each worker's writes, cycled over workers (default all user). */
  dataTypes?: WriteType[];
  /** Partial-order reduction (default on). */
  por?: boolean;
  /** Stop after this many executed schedules. */
  maxSchedules?: number;
  /** Stop after this many seconds. */
  seconds?: number;
  /** Bound on every wait (a worker for its turn, the main thread for an execution), ms. */
  stallTimeoutMs?: number;
}

export type ExploreParams = Required<Omit<ExploreOptions, 'maxSchedules' | 'seconds'>> & {
  maxSchedules: number | null;
  seconds: number | null;
  openBuckets: number;
};

const KNOWN: (keyof ExploreOptions)[] = [
  'workers', 'ops', 'preemptions', 'allocator', 'fix', 'cursorFix', 'freelistLookup', 'discard', 'buckets', 'bucketSectors', 'sectors',
  'mix', 'dataTypes', 'por', 'maxSchedules', 'seconds', 'stallTimeoutMs',
];

/** Every option checked and defaulted; each error names the option and its range. */
export function normalizeExploreOptions(o: ExploreOptions = {}): ExploreParams {
  checkKnownKeys('options', o, KNOWN);
  const workers = checkInt('workers', o.workers ?? 2, 1, MAX_EXPLORE_WORKERS);
  const ops = checkInt('ops', o.ops ?? 2, 1, 16);
  const bucketSectors = checkInt('bucketSectors', o.bucketSectors ?? 8, 1, 64);
  const dataTypes = o.dataTypes ?? ['user'];
  if (!Array.isArray(dataTypes) || dataTypes.length === 0) throw new ConfigError('dataTypes', 'must be a non-empty list of write types');
  dataTypes.forEach((t, i) => checkOneOf(`dataTypes[${i}]`, t, WRITE_TYPES));
  const openBuckets = Math.min(MAX_EXPLORE_SLOTS, Math.max(8, 2 * workers + 4));
  return {
    workers,
    ops,
    preemptions: checkInt('preemptions', o.preemptions ?? 1, 0, 8),
    allocator: checkOneOf('allocator', o.allocator ?? 'early', ALLOCATORS),
    fix: checkOneOf('fix', o.fix ?? 'none', FIXES),
    cursorFix: checkBool('cursorFix', o.cursorFix ?? false),
    freelistLookup: checkOneOf('freelistLookup', o.freelistLookup ?? 'locked', FREELIST_LOOKUPS),
    discard: checkBool('discard', o.discard ?? true),
    buckets: checkInt('buckets', o.buckets ?? Math.min(MAX_EXPLORE_BUCKETS, workers * ops + 2), 2, MAX_EXPLORE_BUCKETS),
    bucketSectors,
    sectors: checkInt('sectors', o.sectors ?? Math.max(1, Math.min(4, bucketSectors)), 1, bucketSectors),
    mix: checkOneOf('mix', o.mix ?? 'cycle', OP_MIXES),
    dataTypes: [...dataTypes],
    por: checkBool('por', o.por ?? true),
    maxSchedules: o.maxSchedules == null ? null : checkInt('maxSchedules', o.maxSchedules, 1, 1e9),
    seconds: o.seconds == null ? null : checkInt('seconds', o.seconds, 1, 86_400),
    stallTimeoutMs: checkInt('stallTimeoutMs', o.stallTimeoutMs ?? 10_000, 100, 600_000),
    openBuckets,
  };
}

/** A harness failure: a worker died or stalled, a replay diverged, a step broke the footprint model. */
export class ExploreHarnessError extends Error {
  readonly positions: WorkerPosition[] | null;
  constructor(message: string, positions: WorkerPosition[] | null = null) {
    super(message);
    this.name = 'ExploreHarnessError';
    this.positions = positions;
  }
}

/** What one complete schedule ended with. */
export interface Verdict {
  failing: boolean;
  /** What broke: commit error kinds, fsck violation kinds, and a program's exception, sorted. */
  kinds: string[];
  /** A hash of the final state: each bucket's record and the live extents (who wrote what where). */
  state: number;
  duplicates: number;
}

export interface ExecutionOutcome {
  status: keyof typeof Status;
  /** Decisions made (the schedule's length). */
  steps: number;
  decisions: number[];
  verdict: Verdict | null;
  trace: TraceEntry[];
  messages: string[];
}

interface Sleeper {
  worker: number;
  /** Its next step's reads then writes (FOOT_STRIDE words). */
  foot: Int32Array;
}

interface WorkItem {
  prefix: Uint8Array;
  pc: number;
  sleepers: Sleeper[];
}

function programFor(p: ExploreParams, w: number): ProgramSpec {
  return { ops: p.ops, sectors: p.sectors, dataType: p.dataTypes[w % p.dataTypes.length]!, writer: w + 1, mix: p.mix };
}

/**
 * The workers, the filesystem, the saved images and one execution at a time. The caller closes it.
 */
export class ExploreHarness {
  readonly params: ExploreParams;
  readonly fs: Filesystem;
  readonly rc: RaceControl;
  readonly shared: ExploreShared;
  private readonly pool: WorkerPool<ExploreWorkerApi>;
  private readonly fsWords: Int32Array[];
  private readonly fsImage: Int32Array[];
  private readonly raceWords: Int32Array[];
  private readonly raceImage: Int32Array[];
  private readonly loops: Promise<number[]>;
  private failure: Error | null = null;
  private epoch = 0;
  private lastYield = performance.now();

  private constructor(params: ExploreParams, fs: Filesystem, rc: RaceControl, shared: ExploreShared, pool: WorkerPool<ExploreWorkerApi>) {
    this.params = params;
    this.fs = fs;
    this.rc = rc;
    this.shared = shared;
    this.pool = pool;
    this.fsWords = fs.region.buffers.map((b) => new Int32Array(b));
    this.fsImage = this.fsWords.map((w) => w.slice());
    this.raceWords = rc.region.buffers.map((b) => new Int32Array(b));
    this.raceImage = this.raceWords.map((w) => w.slice());
    this.loops = pool.all((r) => r.loop(24 * 3600 * 1000), 25 * 3600 * 1000);
    this.loops.catch((e: unknown) => { this.failure = e instanceof Error ? e : new Error(String(e)); });
  }

  static async start(params: ExploreParams, url?: URL): Promise<ExploreHarness> {
    const p = params;
    const capacity = Math.max(256, p.workers * p.ops * (16 + 3 * p.buckets) + 16);
    const fs = createFilesystem({
      buckets: p.buckets, bucketSectors: p.bucketSectors, openBuckets: p.openBuckets, allocator: p.allocator, fix: p.fix,
      cursorFix: p.cursorFix, freelistLookup: p.freelistLookup, discard: p.discard, maxThreads: p.workers + 1,
      // Each worker's extent range (placement worker + 1) holds every extent it can have at once.
      extents: (p.workers + 1) * (p.ops + 2), errorLogSize: 16, lockTimeoutMs: p.stallTimeoutMs,
    });
    const rc = RaceControl.create({ workers: p.workers, traceCapacity: capacity, maxRules: 0, maxDecisions: 0 });
    rc.setPolicy('controlled');
    const shared = ExploreShared.create(p.workers, capacity, fs.region.buffers);
    Atomics.store(shared.ctl, X.waitMs, p.stallTimeoutMs);
    Atomics.store(shared.ctl, X.workers, p.workers);
    Atomics.store(shared.ctl, X.capacity, capacity);
    const pool = await WorkerPool.start<ExploreWorkerApi>({
      url: url ?? compiledWorkerUrl(import.meta.url, './explore-worker.js'), count: p.workers, workerData: () => null,
    });
    try {
      // One at a time, so worker w is always registry member w + 1 and every run lays memory out alike.
      for (let w = 0; w < p.workers; w++) {
        await pool.call(w, (r) => r.setup({ fs: fs.handle, race: rc.handle, explore: shared.handle, worker: w, program: programFor(p, w) }), 20_000);
      }
    } catch (e) {
      await pool.terminate();
      throw e;
    }
    return new ExploreHarness(p, fs, rc, shared, pool);
  }

  /**
   * Runs one execution: memory reset to the image, decisions [0, prefix) forced, `sleepers` asleep
   * from the last forced step on (POR), trace recorded when asked. Returns when every worker is idle.
   */
  async execute(prefix: ArrayLike<number>, sleepers: readonly Sleeper[], options: { por: boolean; trace: boolean }): Promise<number> {
    const sh = this.shared;
    const ctl = sh.ctl;
    const n = this.params.workers;
    if (prefix.length > sh.capacity) throw new ExploreHarnessError(`a schedule of ${prefix.length} decisions is longer than the ${sh.capacity} this configuration can take`);
    for (let i = 0; i < this.fsWords.length; i++) {
      this.fsWords[i]!.set(this.fsImage[i]!);
      if (options.por) sh.shadow[i]!.set(this.fsImage[i]!);
    }
    for (let i = 0; i < this.raceWords.length; i++) this.raceWords[i]!.set(this.raceImage[i]!);
    this.rc.setTrace(options.trace);
    for (let j = 0; j < prefix.length; j++) sh.decisions[j] = prefix[j]!;
    let sleep = 0;
    for (const s of sleepers) {
      sh.sleepFoot.set(s.foot, s.worker * FOOT_STRIDE);
      sleep |= 1 << s.worker;
    }
    for (let w = 0; w < n; w++) sh.setMessage(w, '');
    const all = (1 << n) - 1;
    const first = prefix.length > 0 ? prefix[0]! : 0;
    if (first >= n) throw new ConfigError('replay', `the schedule names worker ${first}, but this run has ${n}`);
    Atomics.store(ctl, X.prefix, prefix.length);
    Atomics.store(ctl, X.enabled, all);
    Atomics.store(ctl, X.sleep, options.por ? sleep : 0);
    Atomics.store(ctl, X.sleepFrom, Math.max(0, prefix.length - 1));
    Atomics.store(ctl, X.por, options.por ? 1 : 0);
    Atomics.store(ctl, X.status, Status.running);
    Atomics.store(ctl, X.violation, 0);
    Atomics.store(ctl, X.idle, 0);
    sh.enabledAt[0] = all;
    sh.sleepAt[0] = 0;
    sh.decisions[0] = first;
    Atomics.store(ctl, X.step, 1);
    Atomics.store(ctl, X.turn, first);
    this.epoch = this.epoch + 1 > 0x3fffffff ? 1 : this.epoch + 1;
    Atomics.store(ctl, X.epoch, this.epoch);
    Atomics.notify(ctl, X.epoch);
    await this.waitIdle();
    return Atomics.load(ctl, X.status);
  }

  /** Bounded: gives up, naming where every worker was, when no decision is made for the stall timeout. */
  private async waitIdle(): Promise<void> {
    const ctl = this.shared.ctl;
    const n = this.params.workers;
    let lastStep = -1;
    let lastChange = performance.now();
    for (;;) {
      const idle = Atomics.load(ctl, X.idle);
      if (idle >= n) break;
      Atomics.wait(ctl, X.idle, idle, 20);
      const now = performance.now();
      const step = Atomics.load(ctl, X.step);
      if (step !== lastStep) {
        lastStep = step;
        lastChange = now;
      }
      if (now - this.lastYield > 50) {
        // Let the event loop deliver a worker's exit or error.
        this.lastYield = now;
        await new Promise((r) => setImmediate(r));
      }
      if (this.failure !== null) throw new ExploreHarnessError(`an exploration worker failed: ${this.failure.message}`, this.rc.positions());
      if (now - lastChange > this.params.stallTimeoutMs + 2000) {
        const turn = Atomics.load(ctl, X.turn);
        const positions = this.rc.positions();
        const where = positions.map((p) => `worker ${p.worker} at ${p.lastPoint ?? 'its start'} (bucket ${p.lastBucket}, ${p.passes} points passed)`).join('; ');
        throw new ExploreHarnessError(`an execution made no progress for ${Math.round((now - lastChange) / 1000)} s; turn ${turn === TURN_NONE ? 'unassigned' : turn}; ${where}`, positions);
      }
    }
    const now = performance.now();
    if (now - this.lastYield > 50) {
      this.lastYield = now;
      await new Promise((r) => setImmediate(r));
    }
    if (this.failure !== null) throw new ExploreHarnessError(`an exploration worker failed: ${this.failure.message}`, this.rc.positions());
  }

  /** The last execution's decisions. */
  decisions(): number[] {
    return Array.from(this.shared.decisions.subarray(0, Atomics.load(this.shared.ctl, X.step)));
  }

  messages(): string[] {
    return Array.from({ length: this.params.workers }, (_, w) => this.shared.message(w));
  }

  /** Why the last execution stopped, for a harness error. */
  describeStop(status: number): string {
    const ctl = this.shared.ctl;
    const msgs = this.messages().filter((m) => m !== '');
    if (status === Status.violation) {
      const buffer = Atomics.load(ctl, X.violBuffer);
      const word = Atomics.load(ctl, X.violWord);
      const where = new WordMapDescriber(this.fs).describe(buffer, word);
      return `partial-order reduction: step ${Atomics.load(ctl, X.violation) - 1} (worker ${Atomics.load(ctl, X.violWorker)}) wrote ${where} `
        + `(${Atomics.load(ctl, X.violOld)} → ${Atomics.load(ctl, X.violNew)}), which the footprint model (src/race/explore-footprint.ts) `
        + 'does not allow a step to write; the allocator has changed beyond the model. Run with --no-por, or teach the model the new word.';
    }
    if (status === Status.overflow) return `a schedule needed more than ${this.shared.capacity} decisions`;
    if (status === Status.stalled) return msgs.join('; ') || 'a worker waited too long for its turn';
    if (status === Status.diverged) return 'a forced decision named a worker that had already finished';
    return `execution ended with status ${status}`;
  }

  /** Judges the state the last complete execution left. */
  judge(): Verdict {
    const fs = this.fs;
    const s = fs.stats();
    const kinds = new Set<string>();
    for (const [k, v] of Object.entries(s.errors)) if (k !== 'total' && v > 0) kinds.add(k);
    const report = fs.fsck({ maxErrors: 4 });
    for (const k of Object.keys(report.byKind)) kinds.add(`fsck:${k}`);
    const duplicates = s.counters.duplicateAllocations;
    if (duplicates > 0) kinds.add('oracle:duplicate_allocation');
    for (const m of this.messages()) if (m !== '') kinds.add(`threw ${m.split(':')[0]}`);
    return { failing: kinds.size > 0, kinds: [...kinds].sort(), state: stateHash(fs), duplicates };
  }

  async close(): Promise<void> {
    Atomics.store(this.shared.ctl, X.epoch, EPOCH_QUIT);
    Atomics.notify(this.shared.ctl, X.epoch);
    Atomics.notify(this.shared.ctl, X.turn);
    let timer: NodeJS.Timeout | undefined;
    try {
      // Bounded: a worker that does not come back from its loop is terminated below anyway.
      await Promise.race([this.loops.catch(() => []), new Promise((r) => { timer = setTimeout(r, 5_000); })]);
    } finally {
      clearTimeout(timer);
      await this.pool.terminate();
    }
  }
}

/** Names a filesystem word for violation reports (the layout, without the model's codes). */
class WordMapDescriber {
  constructor(private readonly fs: Filesystem) {}
  describe(buffer: number, word: number): string {
    let best = 'the region header';
    for (const s of this.fs.region.layout.sections) {
      if (s.buffer !== buffer) continue;
      const first = s.byteOffset >>> 2;
      if (first <= word) best = `${s.name} word ${word - first}`;
    }
    return best;
  }
}

/**
 * The final state, up to names: every bucket's record (gen, type, flags, sectors) and the live
 * extents as (bucket, offset, sectors, gen and type, writer), sorted. Operation and extent ids are
 * left out: they number the same state differently when two workers start in the other order.
 */
export function stateHash(fs: Filesystem): number {
  const rec = fs.records;
  const ext = fs.extents.words;
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  const mix = (v: number): void => {
    h1 = Math.imul(h1 ^ (v | 0), 0x01000193);
    h2 = Math.imul((h2 ^ (v | 0)) + 0x632be5ab, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  };
  for (let b = 0; b < fs.config.buckets; b++) {
    const at = b * RECORD_WORDS;
    mix(Atomics.load(rec, at + Rec.state));
    mix(rec[at + Rec.dirty]!);
    mix(rec[at + Rec.cached]!);
  }
  const live: number[][] = [];
  for (let id = 0; id < fs.config.extents; id++) {
    const e = id * EXTENT_WORDS;
    if (Atomics.load(ext, e + Ext.state) !== EXTENT_LIVE) continue;
    live.push([ext[e + Ext.bucket]!, ext[e + Ext.offset]!, ext[e + Ext.sectors]!, ext[e + Ext.genType]!, ext[e + Ext.writer]!]);
  }
  live.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]! || a[4]! - b[4]! || a[2]! - b[2]! || a[3]! - b[3]!);
  for (const x of live) for (const v of x) mix(v);
  mix(fs.open.usable - fs.open.freeSlots());
  return (h1 >>> 0) * 0x200000 + (h2 >>> 11);
}

export interface FailureClass {
  /** What broke, e.g. "duplicate_backpointer + fsck:duplicate_backpointer + oracle:duplicate_allocation". */
  key: string;
  kinds: string[];
  schedules: number;
  states: number;
  shortest: {
    schedule: string;
    preemptions: number;
    steps: number;
    duplicates: number;
    trace: TraceEntry[];
    /** The trace in the reproduce format, a context switch marked before the step it starts. */
    narrative: string[];
  };
}

export interface BoundProgress {
  preemptions: number;
  schedules: number;
  complete: boolean;
}

export interface ExploreResult {
  params: ExploreParams;
  /** Every schedule within the bound was covered (explored, or pruned as a reordering of an explored one). */
  complete: boolean;
  /** Which budget stopped the search, if one did. */
  budget: 'max-schedules' | 'seconds' | null;
  bounds: BoundProgress[];
  /** Complete executions: distinct schedules run to the end and judged. */
  schedules: number;
  pruned: {
    /** Branches not taken because the step they start was asleep. */
    asleep: number;
    /** Executions stopped because every enabled worker was asleep. */
    sleepBlocked: number;
  };
  /** Preemption choices passed that would have needed more than C preemptions. */
  beyondBound: number;
  distinctStates: number;
  failingSchedules: number;
  failingStates: number;
  classes: FailureClass[];
  /** Hashes of every final state, and of the failing ones (for comparing searches). */
  stateSet: number[];
  failingStateSet: number[];
  elapsedMs: number;
  schedulesPerSec: number;
  statement: string;
}

export interface ExploreHooks {
  onProgress?: (schedules: number, bound: number) => void;
}

/** Explores every schedule within the bound (or until a budget runs out). */
export async function explore(options: ExploreOptions = {}, hooks: ExploreHooks = {}, url?: URL): Promise<ExploreResult> {
  const p = normalizeExploreOptions(options);
  const h = await ExploreHarness.start(p, url);
  try {
    return await search(h, p, hooks);
  } finally {
    await h.close();
  }
}

async function search(h: ExploreHarness, p: ExploreParams, hooks: ExploreHooks): Promise<ExploreResult> {
  const sh = h.shared;
  const C = p.preemptions;
  const n = p.workers;
  const queues: (WorkItem | null)[][] = Array.from({ length: C + 1 }, () => []);
  queues[0]!.push({ prefix: new Uint8Array(0), pc: 0, sleepers: [] });
  const bounds: BoundProgress[] = Array.from({ length: C + 1 }, (_, c) => ({ preemptions: c, schedules: 0, complete: false }));
  const states = new Set<number>();
  const failingStates = new Set<number>();
  const classes = new Map<string, { kinds: string[]; schedules: number; states: Set<number>; best: { decisions: Uint8Array; pc: number; duplicates: number } }>();
  let schedules = 0;
  let failing = 0;
  let asleep = 0;
  let sleepBlocked = 0;
  let beyondBound = 0;
  let budget: ExploreResult['budget'] = null;
  const t0 = performance.now();
  const deadline = p.seconds === null ? Infinity : t0 + p.seconds * 1000;
  let lastProgress = t0;

  outer:
  for (let c = 0; c <= C; c++) {
    const q = queues[c]!;
    for (let qi = 0; qi < q.length; qi++) {
      const stack: WorkItem[] = [q[qi]!];
      q[qi] = null;
      while (stack.length > 0) {
        if (p.maxSchedules !== null && schedules >= p.maxSchedules) { budget = 'max-schedules'; break outer; }
        if (performance.now() >= deadline) { budget = 'seconds'; break outer; }
        const it = stack.pop()!;
        const status = await h.execute(it.prefix, it.sleepers, { por: p.por, trace: false });
        const steps = Atomics.load(sh.ctl, X.step);
        if (status === Status.complete) {
          schedules++;
          bounds[c]!.schedules++;
          const v = h.judge();
          states.add(v.state);
          if (v.failing) {
            failing++;
            failingStates.add(v.state);
            const key = v.kinds.join(' + ');
            let k = classes.get(key);
            if (k === undefined) {
              k = { kinds: v.kinds, schedules: 0, states: new Set(), best: { decisions: Uint8Array.from(sh.decisions.subarray(0, steps)), pc: it.pc, duplicates: v.duplicates } };
              classes.set(key, k);
            } else if (it.pc < k.best.pc || (it.pc === k.best.pc && steps < k.best.decisions.length)) {
              k.best = { decisions: Uint8Array.from(sh.decisions.subarray(0, steps)), pc: it.pc, duplicates: v.duplicates };
            }
            k.schedules++;
            k.states.add(v.state);
          }
        } else if (status === Status.sleepBlocked) {
          sleepBlocked++;
        } else {
          throw new ExploreHarnessError(h.describeStop(status), h.rc.positions());
        }
        // Expand the nodes this execution visited beyond its prefix.
        const sleeperOf = new Map(it.sleepers.map((s) => [s.worker, s]));
        const freeAlternatives: WorkItem[] = [];
        for (let j = it.prefix.length; j < steps; j++) {
          const enabled = sh.enabledAt[j]!;
          const sleep = p.por ? sh.sleepAt[j]! : 0;
          const d = sh.decisions[j]!;
          const cur = j === 0 ? -1 : sh.decisions[j - 1]!;
          const preempting = cur >= 0 && (enabled & (1 << cur)) !== 0;
          const asleepHere = (): Sleeper[] => {
            const out: Sleeper[] = [];
            for (let w = 0; w < n; w++) if ((sleep & (1 << w)) !== 0) out.push(sleeperOf.get(w)!);
            return out;
          };
          let taken: Sleeper | null = null;
          const takenStep = (): Sleeper => {
            taken ??= { worker: d, foot: sh.foot.slice(j * FOOT_STRIDE, (j + 1) * FOOT_STRIDE) };
            return taken;
          };
          for (let w = 0; w < n; w++) {
            if (w === d || (enabled & (1 << w)) === 0) continue;
            if (preempting && it.pc + 1 > C) { beyondBound++; continue; }
            if ((sleep & (1 << w)) !== 0) { asleep++; continue; }
            if (preempting) {
              // The step without the preemption was explored first: it sleeps in this branch.
              const sleepers = p.por ? [...asleepHere(), takenStep()] : [];
              queues[it.pc + 1]!.push({ prefix: prefixWith(sh.decisions, j, w), pc: it.pc + 1, sleepers });
            } else {
              // A free choice: the step taken sleeps here only if it ended its worker (see header).
              const sleepers = p.por ? [...asleepHere(), ...(sh.final[j] === 1 ? [takenStep()] : [])] : [];
              freeAlternatives.push({ prefix: prefixWith(sh.decisions, j, w), pc: it.pc, sleepers });
            }
          }
        }
        // Deepest node first, lowest worker first within a node.
        for (let i = freeAlternatives.length - 1; i >= 0; i--) stack.push(freeAlternatives[i]!);
        const now = performance.now();
        if (now - lastProgress > 200) {
          lastProgress = now;
          hooks.onProgress?.(schedules, c);
        }
      }
    }
    bounds[c]!.complete = true;
  }
  const elapsedMs = performance.now() - t0;
  // Each class's shortest schedule, replayed with a trace — which also checks that it replays.
  const out: FailureClass[] = [];
  for (const [key, k] of classes) {
    const r = await replayOn(h, k.best.decisions);
    if (r.verdict === null || r.verdict.kinds.join(' + ') !== key) {
      throw new ExploreHarnessError(`nondeterminism: the shortest schedule of class "${key}" replayed to ${r.verdict === null ? `status ${r.status}` : `"${r.verdict.kinds.join(' + ')}"`}`);
    }
    out.push({
      key, kinds: k.kinds, schedules: k.schedules, states: k.states.size,
      shortest: {
        schedule: encodeSchedule(n, k.best.decisions), preemptions: k.best.pc, steps: k.best.decisions.length, duplicates: k.best.duplicates,
        trace: r.trace, narrative: narrate(r.trace, n),
      },
    });
  }
  out.sort((a, b) => a.shortest.preemptions - b.shortest.preemptions || a.shortest.steps - b.shortest.steps || a.key.localeCompare(b.key));
  const complete = budget === null;
  const result: ExploreResult = {
    params: p, complete, budget, bounds, schedules, pruned: { asleep, sleepBlocked }, beyondBound,
    distinctStates: states.size, failingSchedules: failing, failingStates: failingStates.size, classes: out,
    stateSet: [...states].sort((a, b) => a - b), failingStateSet: [...failingStates].sort((a, b) => a - b),
    elapsedMs, schedulesPerSec: elapsedMs > 0 ? schedules / (elapsedMs / 1000) : 0, statement: '',
  };
  result.statement = statement(result);
  return result;
}

function prefixWith(decisions: Int32Array, j: number, w: number): Uint8Array {
  const out = new Uint8Array(j + 1);
  for (let i = 0; i < j; i++) out[i] = decisions[i]!;
  out[j] = w;
  return out;
}

async function replayOn(h: ExploreHarness, decisions: ArrayLike<number>): Promise<ExecutionOutcome> {
  const status = await h.execute(decisions, [], { por: false, trace: true });
  const steps = Atomics.load(h.shared.ctl, X.step);
  const name = (Object.keys(Status) as (keyof typeof Status)[]).find((k) => Status[k] === status)!;
  let verdict: Verdict | null = null;
  if (status === Status.complete && steps === decisions.length) verdict = h.judge();
  return { status: name, steps, decisions: h.decisions(), verdict, trace: h.rc.traceEntries(), messages: h.messages() };
}

/** The trace as the reproduce command prints it, with each context switch marked where it happens. */
export function narrate(trace: readonly TraceEntry[], workers: number): string[] {
  const names = Array.from({ length: workers }, (_, w) => `worker ${w}`);
  const out: string[] = [];
  let prev = -1;
  for (const e of trace) {
    if (prev >= 0 && e.worker !== prev) out.push(`  -- switch to worker ${e.worker}`);
    prev = e.worker;
    out.push(describeTraceEntry(e, names));
  }
  return out;
}

export interface ReplayResult {
  params: ExploreParams;
  schedule: string;
  status: ExecutionOutcome['status'];
  /** The schedule did not fit this configuration (diverged, or left decisions unused). */
  diverged: boolean;
  verdict: Verdict | null;
  trace: TraceEntry[];
  narrative: string[];
  messages: string[];
}

/** Replays one schedule string printed by explore, with the same configuration, and traces it. */
export async function replayExplore(options: ExploreOptions, schedule: string, url?: URL): Promise<ReplayResult> {
  const p = normalizeExploreOptions({ ...options, por: false });
  const { workers, decisions } = decodeSchedule(schedule);
  if (workers !== p.workers) throw new ConfigError('replay', `the schedule was recorded with ${workers} workers; this run has ${p.workers} (--workers)`);
  const h = await ExploreHarness.start(p, url);
  try {
    const r = await replayOn(h, decisions);
    return {
      params: p, schedule, status: r.status, diverged: r.status !== 'complete' || r.steps !== decisions.length,
      verdict: r.verdict, trace: r.trace, narrative: narrate(r.trace, p.workers), messages: r.messages,
    };
  } finally {
    await h.close();
  }
}

/** What a clean (or failing) result proves, in one paragraph. */
export function statement(r: ExploreResult): string {
  const p = r.params;
  const shape = `${p.workers} worker${p.workers === 1 ? '' : 's'} × ${p.ops} op${p.ops === 1 ? '' : 's'}`;
  const bound = `≤ ${p.preemptions} preemption${p.preemptions === 1 ? '' : 's'}`;
  const how = p.por ? `${count(r.schedules)} executed; ${count(r.pruned.asleep + r.pruned.sleepBlocked)} branches pruned as reorderings of independent steps` : `${count(r.schedules)} executed, no reduction`;
  if (r.failingSchedules > 0) {
    const least = r.classes[0]?.shortest.preemptions ?? 0;
    return `${count(r.failingSchedules)} of ${count(r.schedules)} schedules of ${shape} with ${bound} end corrupted, in ${r.classes.length} class${r.classes.length === 1 ? '' : 'es'}; the shortest needs ${least} preemption${least === 1 ? '' : 's'}`;
  }
  if (!r.complete) {
    const done = r.bounds.filter((b) => b.complete).map((b) => b.preemptions);
    return `incomplete (${r.budget} budget ran out): ${count(r.schedules)} schedules explored, no corruption; ${done.length > 0 ? `every schedule with ≤ ${Math.max(...done)} preemption(s) covered` : 'no bound completed'} — not a proof for ${bound}`;
  }
  return `all schedules of ${shape} with ${bound} explored (${how}): no corruption`;
}

