/**
 * Race control: the policy that decides what the allocator's race points do, kept in shared memory
 * so the main thread can set it and every worker's hook obeys it. Policies:
 *
 *   none        the hook returns after one Atomics.load
 *   observe     record each worker's last race point and per-point pass counts (for stall reports)
 *   delay       observe, and with some probability delay at chosen points (spin or sleep)
 *   script      observe, and park a given worker at a given point until another worker has passed
 *               another point — enough to replay the reported interleaving exactly
 *   controlled  one worker runs at a time between race points; a scheduler (random, PCT, replay)
 *               picks who continues (scheduler.ts)
 *
 * Region "sab-alloc/race", sections:
 *
 *   control   i32 × 64:
 *     [0] policy (Policy)     [1] trace on      [2] progress (bumped + notified on each pass under
 *     the script policy; parked workers wait on it)
 *     [3] delay kind (0 spin, 1 sleep)  [4] delay length, ns  [5] delay threshold: delay when a
 *     uniform u32 < this (as int32 bits)  [6] delay point mask  [7] script rule count
 *     [8] wait timeout, ms (script and controlled waits)
 *     [16..31] scheduler words, see scheduler.ts
 *   workers   i32 × workers × 16, one 64-byte block per worker, written only by that worker
 *     (except sched state, see scheduler.ts):
 *     [0] last point (-1 none)  [1] last bucket
 *     [4] sched state  [5] pct priority  [6] parked on script rule (rule + 1, 0 none)
 *     [7] workload phase (set by the workload: what operation it is in)
 *   counts    f64 × workers × 8, one 64-byte block per worker, written only by that worker:
 *     [0] passes, all points  [1] workload op count  [2] last opId
 *     Counts are float64 (exact to 2^53): at millions of passes a second an int32 would go
 *     negative within minutes. Each has one writer; an aligned float never tears.
 *   passes    f64 × workers × RACE_POINT_COUNT: per-worker pass counts per point
 *   rules     i32 × maxRules × 8: [worker, point, occurrence, untilWorker, untilPoint, untilCount]
 *   trace     i32 × (traceCapacity × 6): [worker, point, bucket, —, opId (float64 in words 4..5)];
 *     count in control[9]
 *   decisions i32 × maxDecisions: the worker chosen at each scheduling step (scheduler.ts)
 */
import { attachRegion, createRegion, type Region, type RegionHandle, type RegionSpec } from '../shared/region.js';
import { checkInt, checkNumber, checkOneOf, ConfigError } from '../shared/validate.js';
import { streamRng, type Rng } from '../shared/prng.js';
import { RACE_POINT_COUNT, RACE_POINT_NAMES, RacePoint, racePointIndex, racePointLabel, type RaceHook } from '../alloc/race-points.js';
import { cpuRelax } from '../locks/common.js';

/** What race points do, as stored in the control word (see the header above). */
export const Policy = { none: 0, observe: 1, delay: 2, script: 3, controlled: 4 } as const;
/** A policy's name. */
export type PolicyName = keyof typeof Policy;

/** Word offsets in the control section. */
export const Ctl = {
  policy: 0, trace: 1, progress: 2, delayKind: 3, delayNs: 4, delayThreshold: 5, delayMask: 6, ruleCount: 7,
  waitTimeoutMs: 8, traceCount: 9,
} as const;

/** Words per worker in the workers section. */
export const WORKER_WORDS = 16;
/** Word offsets within a worker's words. */
export const Wk = { lastPoint: 0, lastBucket: 1, sched: 4, priority: 5, parkedOn: 6, phase: 7 } as const;
/** A worker's float64 counts (the `counts` section), COUNT_DOUBLES per worker. */
export const COUNT_DOUBLES = 8;
/** Offsets within a worker's counts. */
export const Cnt = { passes: 0, ops: 1, lastOp: 2 } as const;
const RULE_WORDS = 8;
const TRACE_WORDS = 6;

/** Sizes of a RaceControl's shared memory. */
export interface RaceControlOptions {
  workers: number;
  traceCapacity?: number;
  maxRules?: number;
  maxDecisions?: number;
}

/** RaceControlOptions with every default filled in. */
export type RaceConfig = Required<RaceControlOptions>;

/** Plain and structured-cloneable: post it to a worker and call RaceControl.attach there. */
export interface RaceControlHandle {
  kind: 'sab-alloc/race';
  config: RaceConfig;
  region: RegionHandle;
}

/** The delay policy: a spin or a sleep at chosen race points, with a probability per pass. */
export interface DelayPolicy {
  kind: 'spin' | 'sleep';
  /** Delay length in nanoseconds. */
  ns: number;
  /** Probability per pass of a chosen point, before scaling by worker count. */
  probability: number;
  /** Race points to delay at (names or labels); default: the allocation window. */
  points?: string[];
  /**
   * Divide the probability by the number of workers, as locktorture does, so that the expected
   * delays per unit of work stay the same as workers are added. Default true.
   */
  scaleByWorkers?: boolean;
}

/** Park `worker` at its `occurrence`-th pass of `at` until `untilWorker` has passed `untilPoint` `untilCount` times. */
export interface ScriptRule {
  worker: number;
  at: string;
  occurrence?: number;
  untilWorker: number;
  untilPoint: string;
  untilCount?: number;
}

/** One traced pass of a race point (with tracing on). */
export interface TraceEntry {
  worker: number;
  point: string;
  bucket: number;
  opId: number;
}

/** Where a worker was last seen: its last race point, bucket and operation, and counts. */
export interface WorkerPosition {
  worker: number;
  lastPoint: string | null;
  lastBucket: number;
  lastOpId: number;
  passes: number;
  phase: number;
  ops: number;
  parkedOnRule: number;
}

/** A scripted or controlled wait ran past its timeout: the schedule cannot make progress. */
export class ScheduleStallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleStallError';
  }
}

/** Where a delay policy delays unless told otherwise: the two points of the allocation window. */
export const DEFAULT_DELAY_POINTS = ['candidateRead', 'beforeFreelistLock'];

/** A race point's index from its name or label; a ConfigError on `param` for an unknown one. */
export function pointIndex(param: string, name: string): number {
  const i = racePointIndex(name);
  if (i < 0) throw new ConfigError(param, `unknown race point ${JSON.stringify(name)}; known: ${RACE_POINT_NAMES.map((_, k) => racePointLabel(k)).join(', ')}`);
  return i;
}

function raceSpec(c: RaceConfig): RegionSpec {
  return {
    kind: 'sab-alloc/race',
    version: 1,
    sections: [
      { name: 'control', type: 'i32', length: 64 },
      { name: 'workers', type: 'i32', length: c.workers * WORKER_WORDS },
      { name: 'counts', type: 'f64', length: c.workers * COUNT_DOUBLES },
      { name: 'passes', type: 'f64', length: c.workers * RACE_POINT_COUNT },
      { name: 'rules', type: 'i32', length: c.maxRules * RULE_WORDS },
      { name: 'trace', type: 'i32', length: c.traceCapacity * TRACE_WORDS },
      { name: 'decisions', type: 'i32', length: c.maxDecisions },
    ],
  };
}

function normalize(o: RaceControlOptions): RaceConfig {
  return {
    workers: checkInt('workers', o.workers, 1, 1024),
    traceCapacity: checkInt('traceCapacity', o.traceCapacity ?? 4096, 0, 1 << 22),
    maxRules: checkInt('maxRules', o.maxRules ?? 16, 0, 1024),
    maxDecisions: checkInt('maxDecisions', o.maxDecisions ?? 1 << 20, 0, 1 << 26),
  };
}

/**
 * The race policy in shared memory: one instance per run, created on the main thread and attached
 * in every worker, whose WorkerHook each thread installs with `fs.setRaceHook`.
 */
export class RaceControl {
  readonly config: RaceConfig;
  readonly region: Region;
  readonly ctl: Int32Array;
  readonly workerWords: Int32Array;
  readonly counts: Float64Array;
  readonly passes: Float64Array;
  readonly rules: Int32Array;
  readonly trace: Int32Array;
  readonly traceF64: Float64Array;
  readonly decisions: Int32Array;

  private constructor(region: Region, config: RaceConfig) {
    this.region = region;
    this.config = config;
    this.ctl = region.i32('control');
    this.workerWords = region.i32('workers');
    this.counts = region.f64('counts');
    this.passes = region.f64('passes');
    this.rules = region.i32('rules');
    this.trace = region.i32('trace');
    this.traceF64 = new Float64Array(this.trace.buffer, this.trace.byteOffset, this.trace.length >>> 1);
    this.decisions = region.i32('decisions');
  }

  /** Lays out and initialises the shared memory (policy none). */
  static create(options: RaceControlOptions): RaceControl {
    const config = normalize(options);
    const rc = new RaceControl(createRegion(raceSpec(config)), config);
    for (let w = 0; w < config.workers; w++) Atomics.store(rc.workerWords, w * WORKER_WORDS + Wk.lastPoint, -1);
    Atomics.store(rc.ctl, Ctl.waitTimeoutMs, 10_000);
    return rc;
  }

  /** The same RaceControl in another thread; validates the handle. */
  static attach(handle: unknown): RaceControl {
    if (typeof handle !== 'object' || handle === null || (handle as { kind?: unknown }).kind !== 'sab-alloc/race') {
      throw new ConfigError('handle', 'must be a race control handle (control.handle)');
    }
    const h = handle as RaceControlHandle;
    const config = normalize(h.config);
    return new RaceControl(attachRegion(h.region, { kind: 'sab-alloc/race', version: 1, spec: raceSpec(config) }), config);
  }

  get handle(): RaceControlHandle {
    return { kind: 'sab-alloc/race', config: this.config, region: this.region.handle };
  }

  get workers(): number {
    return this.config.workers;
  }

  /** The policy in force. */
  policy(): PolicyName {
    const p = Atomics.load(this.ctl, Ctl.policy);
    return (Object.keys(Policy) as PolicyName[]).find((k) => Policy[k] === p)!;
  }

  /** Switches the policy for every worker at once. */
  setPolicy(policy: PolicyName): void {
    Atomics.store(this.ctl, Ctl.policy, Policy[checkOneOf('policy', policy, Object.keys(Policy) as PolicyName[])]);
  }

  /** Records every pass in the trace section (up to traceCapacity). */
  setTrace(on: boolean): void {
    Atomics.store(this.ctl, Ctl.trace, on ? 1 : 0);
  }

  /** Bound on every scripted or scheduled wait; past it the waiter throws ScheduleStallError. */
  setWaitTimeout(ms: number): void {
    Atomics.store(this.ctl, Ctl.waitTimeoutMs, checkInt('waitTimeoutMs', ms, 1, 3_600_000));
  }

  /** Delays at race points, in free-running mode. */
  setDelay(d: DelayPolicy): void {
    const kind = checkOneOf('delay.kind', d.kind, ['spin', 'sleep'] as const);
    const ns = checkInt('delay.ns', d.ns, 0, 1_000_000_000);
    const p = checkNumber('delay.probability', d.probability, 0, 1);
    const scaled = (d.scaleByWorkers ?? true) ? p / this.config.workers : p;
    let mask = 0;
    for (const name of d.points ?? DEFAULT_DELAY_POINTS) mask |= 1 << pointIndex('delay.points', name);
    Atomics.store(this.ctl, Ctl.delayKind, kind === 'spin' ? 0 : 1);
    Atomics.store(this.ctl, Ctl.delayNs, ns);
    Atomics.store(this.ctl, Ctl.delayThreshold, Math.min(0xffffffff, Math.round(scaled * 2 ** 32)) | 0);
    Atomics.store(this.ctl, Ctl.delayMask, mask);
    this.setPolicy('delay');
  }

  /** Scripted interleaving: each rule parks one worker at one point until another gets somewhere. */
  setScript(rules: ScriptRule[]): void {
    if (rules.length > this.config.maxRules) throw new ConfigError('rules', `at most ${this.config.maxRules} rules, got ${rules.length}`);
    rules.forEach((r, i) => {
      const at = i * RULE_WORDS;
      this.rules[at] = checkInt(`rules[${i}].worker`, r.worker, 0, this.workers - 1);
      this.rules[at + 1] = pointIndex(`rules[${i}].at`, r.at);
      this.rules[at + 2] = checkInt(`rules[${i}].occurrence`, r.occurrence ?? 1, 1, 2 ** 31 - 1);
      this.rules[at + 3] = checkInt(`rules[${i}].untilWorker`, r.untilWorker, 0, this.workers - 1);
      this.rules[at + 4] = pointIndex(`rules[${i}].untilPoint`, r.untilPoint);
      this.rules[at + 5] = checkInt(`rules[${i}].untilCount`, r.untilCount ?? 1, 1, 2 ** 31 - 1);
    });
    Atomics.store(this.ctl, Ctl.ruleCount, rules.length);
    this.setPolicy('script');
  }

  /** The hook a worker installs on its Filesystem (fs.setRaceHook). */
  hookFor(worker: number, seed = 0): WorkerHook {
    checkInt('worker', worker, 0, this.workers - 1);
    return new WorkerHook(this, worker, streamRng(seed >>> 0, 0x5ace + worker));
  }

  /** Where worker w is (watchdog and failure reports). */
  position(w: number): WorkerPosition {
    const at = w * WORKER_WORDS;
    const c = w * COUNT_DOUBLES;
    const p = Atomics.load(this.workerWords, at + Wk.lastPoint);
    return {
      worker: w,
      lastPoint: p < 0 ? null : racePointLabel(p),
      lastBucket: Atomics.load(this.workerWords, at + Wk.lastBucket),
      lastOpId: this.counts[c + Cnt.lastOp]!,
      passes: this.counts[c + Cnt.passes]!,
      phase: Atomics.load(this.workerWords, at + Wk.phase),
      ops: this.counts[c + Cnt.ops]!,
      parkedOnRule: Atomics.load(this.workerWords, at + Wk.parkedOn) - 1,
    };
  }

  /** Where every worker is. */
  positions(): WorkerPosition[] {
    return Array.from({ length: this.workers }, (_, w) => this.position(w));
  }

  /** Recorded trace, oldest first (at most traceCapacity entries). */
  traceEntries(): TraceEntry[] {
    const n = Math.min(Atomics.load(this.ctl, Ctl.traceCount), this.config.traceCapacity);
    const out: TraceEntry[] = [];
    for (let i = 0; i < n; i++) {
      const at = i * TRACE_WORDS;
      out.push({
        worker: Atomics.load(this.trace, at),
        point: racePointLabel(Atomics.load(this.trace, at + 1)),
        bucket: Atomics.load(this.trace, at + 2),
        opId: this.traceF64[(at >>> 1) + 2]!,
      });
    }
    return out;
  }

  /** How often `worker` has passed race point `point`. */
  passCount(worker: number, point: number): number {
    return this.passes[worker * RACE_POINT_COUNT + point]!;
  }
}

let spinSink = 0;
const HISTORY = 8;

/** One of a worker's last race points (WorkerHook.recent). */
export interface RecentPoint {
  point: string;
  bucket: number;
  opId: number;
}

/** One worker's hook: costs one Atomics.load while the policy is none. */
export class WorkerHook implements RaceHook {
  private readonly rc: RaceControl;
  readonly worker: number;
  private readonly rng: Rng;
  private readonly base: number;
  private readonly countBase: number;
  private readonly passBase: number;
  private readonly napWord = new Int32Array(new SharedArrayBuffer(4));
  /** Set by the controlled scheduler (scheduler.ts) when it drives this worker. */
  onSchedulePoint: ((point: number) => void) | null = null;
  /** The last HISTORY race points passed (ring; thread-local, for failure reports). */
  private readonly ring = new Int32Array(HISTORY * 3);
  private ringNext = 0;

  constructor(rc: RaceControl, worker: number, rng: Rng) {
    this.rc = rc;
    this.worker = worker;
    this.rng = rng;
    this.base = worker * WORKER_WORDS;
    this.countBase = worker * COUNT_DOUBLES;
    this.passBase = worker * RACE_POINT_COUNT;
  }

  /** The allocator's call at a race point: records where the worker is and applies the policy. */
  at(point: number, bucket: number, opId: number, lockHeld: boolean): void {
    const ctl = this.rc.ctl;
    const policy = Atomics.load(ctl, Ctl.policy);
    if (policy === Policy.none) return;
    const ww = this.rc.workerWords;
    const counts = this.rc.counts;
    Atomics.store(ww, this.base + Wk.lastPoint, point);
    Atomics.store(ww, this.base + Wk.lastBucket, bucket);
    counts[this.countBase + Cnt.lastOp] = opId;
    counts[this.countBase + Cnt.passes]!++;
    const r = (this.ringNext++ % HISTORY) * 3;
    this.ring[r] = point;
    this.ring[r + 1] = bucket;
    this.ring[r + 2] = opId;
    const passes = this.rc.passes[this.passBase + point]! + 1;
    this.rc.passes[this.passBase + point] = passes;
    if (Atomics.load(ctl, Ctl.trace) !== 0 && point !== RacePoint.allocStart) this.record(point, bucket, opId);
    if (policy === Policy.delay) {
      if ((Atomics.load(ctl, Ctl.delayMask) & (1 << point)) !== 0
        && this.rng.u32() < (Atomics.load(ctl, Ctl.delayThreshold) >>> 0)) this.delay();
    } else if (policy === Policy.script) {
      Atomics.add(ctl, Ctl.progress, 1);
      Atomics.notify(ctl, Ctl.progress);
      this.followScript(point, passes);
    } else if (policy === Policy.controlled && !lockHeld && this.onSchedulePoint !== null) {
      this.onSchedulePoint(point);
    }
  }

  /** This worker's last race points, oldest first (recorded while a policy is set). */
  recent(): RecentPoint[] {
    const out: RecentPoint[] = [];
    const n = Math.min(this.ringNext, HISTORY);
    for (let i = this.ringNext - n; i < this.ringNext; i++) {
      const r = (i % HISTORY) * 3;
      out.push({ point: racePointLabel(this.ring[r]!), bucket: this.ring[r + 1]!, opId: this.ring[r + 2]! });
    }
    return out;
  }

  /** Workload bookkeeping for reports: what the worker is doing, how many ops it has done. */
  setPhase(phase: number, ops: number): void {
    Atomics.store(this.rc.workerWords, this.base + Wk.phase, phase);
    this.rc.counts[this.countBase + Cnt.ops] = ops;
  }

  private record(point: number, bucket: number, opId: number): void {
    // Once full, stop counting: the count stays near the capacity and can never wrap negative.
    if (Atomics.load(this.rc.ctl, Ctl.traceCount) >= this.rc.config.traceCapacity) return;
    const i = Atomics.add(this.rc.ctl, Ctl.traceCount, 1);
    if (i >= this.rc.config.traceCapacity) return;
    const at = i * TRACE_WORDS;
    Atomics.store(this.rc.trace, at, this.worker);
    Atomics.store(this.rc.trace, at + 1, point);
    Atomics.store(this.rc.trace, at + 2, bucket);
    this.rc.traceF64[(at >>> 1) + 2] = opId;
  }

  private delay(): void {
    const ns = Atomics.load(this.rc.ctl, Ctl.delayNs);
    if (Atomics.load(this.rc.ctl, Ctl.delayKind) === 1) {
      Atomics.wait(this.napWord, 0, 0, ns / 1e6);
      return;
    }
    const until = performance.now() + ns / 1e6;
    let x = spinSink;
    while (performance.now() < until) { cpuRelax(4); x++; }
    spinSink = x;
  }

  private followScript(point: number, passes: number): void {
    const ctl = this.rc.ctl;
    const rules = this.rc.rules;
    const n = Atomics.load(ctl, Ctl.ruleCount);
    for (let r = 0; r < n; r++) {
      const at = r * RULE_WORDS;
      if (rules[at] !== this.worker || rules[at + 1] !== point || rules[at + 2] !== passes) continue;
      const other = rules[at + 3]!;
      const otherPoint = rules[at + 4]!;
      const need = rules[at + 5]!;
      const timeout = Atomics.load(ctl, Ctl.waitTimeoutMs);
      const deadline = performance.now() + timeout;
      Atomics.store(this.rc.workerWords, this.base + Wk.parkedOn, r + 1);
      for (;;) {
        const seen = Atomics.load(ctl, Ctl.progress);
        if (this.rc.passCount(other, otherPoint) >= need) break;
        const left = deadline - performance.now();
        if (left <= 0) {
          const pos = this.rc.position(other);
          throw new ScheduleStallError(`script rule ${r}: worker ${this.worker} parked at ${racePointLabel(point)} waited ${timeout} ms for worker ${other} to pass ${racePointLabel(otherPoint)} ${need}×; worker ${other} is at ${pos.lastPoint ?? 'its start'} (bucket ${pos.lastBucket})`);
        }
        Atomics.wait(ctl, Ctl.progress, seen, Math.min(left, 50));
      }
      Atomics.store(this.rc.workerWords, this.base + Wk.parkedOn, 0);
    }
  }
}
