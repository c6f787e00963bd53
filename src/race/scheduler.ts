/**
 * The controlled scheduler: one worker runs at a time between race points, and at each point the
 * scheduler decides who continues — uniformly at random, by PCT, or by replaying a recorded
 * schedule. Because exactly one worker runs, the worker holding the turn is the only writer of the
 * scheduler's shared state and makes the decision itself; there is no scheduler thread.
 *
 * PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, "A Randomized Scheduler with Probabilistic
 * Guarantees of Finding Bugs", ASPLOS 2010): workers get distinct random priorities d..d+n−1; d−1
 * change points are drawn uniformly from steps 1..k; the highest-priority runnable worker runs; at
 * the i-th change point the running worker's priority drops to d−i. A bug of depth d is found with
 * probability at least 1/(n·k^(d−1)) per run.
 *
 * Control words used (control section, see control.ts):
 *
 *   [16] turn        worker that may run; -1 none yet; -2 all finished
 *   [17] step        decisions made so far
 *   [18] mode        0 random, 1 pct, 2 replay
 *   [19] workers     n
 *   [20..23]         the decision PRNG's state (sfc32), advanced only by the turn holder
 *   [24] depth d     [25] k (expected steps)     [26] diverged at step + 1 (0: never)
 *   [27] replay length     [28] change points in use
 *   [32..63]         PCT change points (steps), at most 32
 *
 * Per-worker words (workers section): [4] state 0 idle, 1 runnable, 2 done, 3 dead; [5] priority.
 * The decision made at step i is stored at decisions[i] — the schedule a replay follows.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Rng, streamRng } from '../shared/prng.js';
import { checkInt, checkOneOf, ConfigError } from '../shared/validate.js';
import { Ctl, RaceControl, ScheduleStallError, WORKER_WORDS, Wk, type WorkerHook } from './control.js';

export const Sch = { turn: 16, step: 17, mode: 18, workers: 19, rng: 20, depth: 24, k: 25, diverged: 26, replayLength: 27, changePoints: 28, changeAt: 32 } as const;
export const SchedState = { idle: 0, runnable: 1, done: 2, dead: 3 } as const;
export const MAX_PCT_DEPTH = 33;
const TURN_NONE = -1;
const TURN_FINISHED = -2;

export type ScheduleMode = 'random' | 'pct' | 'replay';

export interface ScheduleOptions {
  mode: ScheduleMode;
  seed: number;
  /** PCT: bug depth d (≥ 1). */
  depth?: number;
  /** PCT: expected number of scheduling steps k (estimate; the bound is stated in terms of it). */
  steps?: number;
  /** Replay: the schedule string a previous run printed. */
  replay?: string;
}

/** A schedule string: "sab1.<workers>.<steps>.<base64url of the deflated decision bytes>". */
export function encodeSchedule(workers: number, decisions: ArrayLike<number>): string {
  const bytes = Uint8Array.from(decisions as ArrayLike<number>);
  return `sab1.${workers}.${bytes.length}.${deflateRawSync(bytes, { level: 9 }).toString('base64url')}`;
}

export function decodeSchedule(text: string): { workers: number; decisions: Uint8Array } {
  const m = /^sab1\.(\d+)\.(\d+)\.([A-Za-z0-9_-]*)$/.exec(String(text).trim());
  if (m === null) throw new ConfigError('replay', 'is not a schedule string (expected "sab1.<workers>.<steps>.<data>" as printed by a controlled run)');
  const workers = Number(m[1]);
  const steps = Number(m[2]);
  let decisions: Uint8Array;
  try {
    decisions = new Uint8Array(inflateRawSync(Buffer.from(m[3]!, 'base64url')));
  } catch {
    throw new ConfigError('replay', 'schedule data is corrupt (truncated or altered)');
  }
  if (decisions.length !== steps) throw new ConfigError('replay', `schedule says ${steps} steps but holds ${decisions.length}`);
  if (decisions.some((w) => w >= workers)) throw new ConfigError('replay', `schedule names a worker ≥ ${workers}`);
  return { workers, decisions };
}

/** PCT's guarantee for n workers, k steps, depth d: 1 / (n · k^(d−1)). */
export function pctBound(n: number, k: number, d: number): number {
  return 1 / (n * k ** (d - 1));
}

export class Scheduler {
  readonly rc: RaceControl;
  private readonly ctl: Int32Array;
  private readonly ww: Int32Array;

  constructor(rc: RaceControl) {
    this.rc = rc;
    this.ctl = rc.ctl;
    this.ww = rc.workerWords;
  }

  /** Main thread, before the run: every worker runnable, the first decision made. */
  configure(o: ScheduleOptions): void {
    const n = this.rc.workers;
    const mode = checkOneOf('schedule', o.mode, ['random', 'pct', 'replay'] as const);
    checkInt('seed', o.seed, 0, 0xffffffff);
    const rng = streamRng(o.seed, 0x5c4ed);
    for (let w = 0; w < n; w++) {
      Atomics.store(this.ww, w * WORKER_WORDS + Wk.sched, SchedState.runnable);
      Atomics.store(this.ww, w * WORKER_WORDS + Wk.priority, 0);
    }
    Atomics.store(this.ctl, Sch.mode, mode === 'random' ? 0 : mode === 'pct' ? 1 : 2);
    Atomics.store(this.ctl, Sch.workers, n);
    Atomics.store(this.ctl, Sch.step, 0);
    Atomics.store(this.ctl, Sch.diverged, 0);
    Atomics.store(this.ctl, Sch.changePoints, 0);
    if (mode === 'pct') {
      const d = checkInt('depth', o.depth ?? 3, 1, MAX_PCT_DEPTH);
      const k = checkInt('steps', o.steps ?? 10_000, 1, 2 ** 30);
      Atomics.store(this.ctl, Sch.depth, d);
      Atomics.store(this.ctl, Sch.k, k);
      // Distinct initial priorities d..d+n−1 in random order (Fisher–Yates).
      const prio = Array.from({ length: n }, (_, i) => d + i);
      for (let i = n - 1; i > 0; i--) {
        const j = rng.below(i + 1);
        [prio[i], prio[j]] = [prio[j]!, prio[i]!];
      }
      prio.forEach((p, w) => Atomics.store(this.ww, w * WORKER_WORDS + Wk.priority, p));
      for (let i = 0; i < d - 1; i++) Atomics.store(this.ctl, Sch.changeAt + i, 1 + rng.below(k));
      Atomics.store(this.ctl, Sch.changePoints, d - 1);
    }
    if (mode === 'replay') {
      const { workers, decisions } = decodeSchedule(o.replay ?? '');
      if (workers !== n) throw new ConfigError('replay', `schedule was recorded with ${workers} workers, this run has ${n}`);
      if (decisions.length > this.rc.decisions.length) throw new ConfigError('replay', `schedule has ${decisions.length} steps, more than maxDecisions ${this.rc.decisions.length}`);
      this.rc.decisions.set(decisions);
      Atomics.store(this.ctl, Sch.replayLength, decisions.length);
    }
    this.saveRng(rng);
    Atomics.store(this.ctl, Sch.turn, TURN_NONE);
    Atomics.store(this.ctl, Sch.turn, this.decide(-1));
    this.rc.setPolicy('controlled');
  }

  /** Worker: drive this worker's hook by the schedule. */
  attach(hook: WorkerHook): void {
    const w = hook.worker;
    hook.onSchedulePoint = () => this.yieldAt(w);
  }

  /** Worker: wait for the first turn before doing anything. */
  begin(worker: number): void {
    this.waitTurn(worker);
  }

  /** Worker: done with its workload; hand the turn on. */
  finish(worker: number): void {
    Atomics.store(this.ww, worker * WORKER_WORDS + Wk.sched, SchedState.done);
    this.handOn(worker);
  }

  /**
   * Main thread: a worker was killed. If it held the turn, decide for it. Also repairs a turn handed
   * to a worker after it died (the runner calls this again from its watchdog).
   */
  markDead(worker: number): void {
    Atomics.store(this.ww, worker * WORKER_WORDS + Wk.sched, SchedState.dead);
    if (Atomics.load(this.ctl, Sch.turn) === worker) this.handOn(worker);
  }

  /** Main thread: if the turn sits with a dead worker, pass it on. */
  repair(): void {
    const t = Atomics.load(this.ctl, Sch.turn);
    if (t >= 0 && Atomics.load(this.ww, t * WORKER_WORDS + Wk.sched) === SchedState.dead) this.handOn(t);
  }

  private handOn(from: number): void {
    const next = this.anyRunnable() ? this.decide(from) : TURN_FINISHED;
    Atomics.store(this.ctl, Sch.turn, next);
    Atomics.notify(this.ctl, Sch.turn);
  }

  private yieldAt(worker: number): void {
    const next = this.decide(worker);
    if (next === worker) return;
    Atomics.store(this.ctl, Sch.turn, next);
    Atomics.notify(this.ctl, Sch.turn);
    this.waitTurn(worker);
  }

  private waitTurn(worker: number): void {
    const timeout = Atomics.load(this.ctl, Ctl.waitTimeoutMs);
    const deadline = performance.now() + timeout;
    for (;;) {
      const t = Atomics.load(this.ctl, Sch.turn);
      if (t === worker || t === TURN_FINISHED) return;
      const left = deadline - performance.now();
      if (left <= 0) {
        const pos = t >= 0 ? this.rc.position(t) : undefined;
        const where = pos === undefined ? 'nobody holds the turn' : `worker ${t} holds the turn, last at ${pos.lastPoint ?? 'its start'} (bucket ${pos.lastBucket})`;
        throw new ScheduleStallError(`controlled schedule: worker ${worker} waited ${timeout} ms for its turn; ${where}`);
      }
      Atomics.wait(this.ctl, Sch.turn, t, Math.min(left, 50));
    }
  }

  private anyRunnable(): boolean {
    for (let w = 0; w < this.rc.workers; w++) if (this.state(w) === SchedState.runnable) return true;
    return false;
  }

  private state(w: number): number {
    return Atomics.load(this.ww, w * WORKER_WORDS + Wk.sched);
  }

  /** One scheduling decision, logged at decisions[step]. Only the turn holder calls it. */
  private decide(current: number): number {
    const step = Atomics.load(this.ctl, Sch.step);
    const mode = Atomics.load(this.ctl, Sch.mode);
    const rng = this.loadRng();
    let next = -1;
    if (mode === 2) {
      const len = Atomics.load(this.ctl, Sch.replayLength);
      const forced = step < len ? this.rc.decisions[step]! : -1;
      if (forced >= 0 && this.state(forced) === SchedState.runnable) next = forced;
      else if (Atomics.load(this.ctl, Sch.diverged) === 0) Atomics.store(this.ctl, Sch.diverged, step + 1);
    } else if (mode === 1) {
      const cps = Atomics.load(this.ctl, Sch.changePoints);
      const d = Atomics.load(this.ctl, Sch.depth);
      for (let i = 0; i < cps; i++) {
        if (Atomics.load(this.ctl, Sch.changeAt + i) === step && current >= 0) {
          Atomics.store(this.ww, current * WORKER_WORDS + Wk.priority, d - 1 - i);
        }
      }
      let best = -Infinity;
      for (let w = 0; w < this.rc.workers; w++) {
        const p = Atomics.load(this.ww, w * WORKER_WORDS + Wk.priority);
        if (this.state(w) === SchedState.runnable && p > best) { best = p; next = w; }
      }
    }
    if (next < 0) next = this.pickRandom(rng);
    if (mode !== 2 && step < this.rc.decisions.length) this.rc.decisions[step] = next;
    Atomics.store(this.ctl, Sch.step, step + 1);
    this.saveRng(rng);
    return next;
  }

  private pickRandom(rng: Rng): number {
    let count = 0;
    for (let w = 0; w < this.rc.workers; w++) if (this.state(w) === SchedState.runnable) count++;
    if (count === 0) return TURN_FINISHED;
    let k = rng.below(count);
    for (let w = 0; w < this.rc.workers; w++) {
      if (this.state(w) !== SchedState.runnable) continue;
      if (k-- === 0) return w;
    }
    return TURN_FINISHED;
  }

  private loadRng(): Rng {
    const r = new Rng(0);
    r.restore([Atomics.load(this.ctl, Sch.rng), Atomics.load(this.ctl, Sch.rng + 1), Atomics.load(this.ctl, Sch.rng + 2), Atomics.load(this.ctl, Sch.rng + 3)]);
    return r;
  }

  private saveRng(r: Rng): void {
    r.state().forEach((v, i) => Atomics.store(this.ctl, Sch.rng + i, v));
  }

  /** Steps taken so far. */
  steps(): number {
    return Atomics.load(this.ctl, Sch.step);
  }

  /** The schedule this run followed, as a string a replay accepts. */
  schedule(): string {
    const n = Math.min(this.steps(), this.rc.decisions.length);
    return encodeSchedule(this.rc.workers, this.rc.decisions.subarray(0, n));
  }

  /** Replay only: the step (0-based) where the run stopped following the schedule, or null. */
  divergence(): { step: number; recordedSteps: number } | null {
    const d = Atomics.load(this.ctl, Sch.diverged);
    const len = Atomics.load(this.ctl, Sch.replayLength);
    if (Atomics.load(this.ctl, Sch.mode) !== 2) return null;
    if (d > 0) return { step: d - 1, recordedSteps: len };
    if (this.steps() !== len) return { step: Math.min(this.steps(), len), recordedSteps: len };
    return null;
  }

  /** PCT parameters and its bound for this run. */
  pct(): { n: number; k: number; d: number; bound: number } | null {
    if (Atomics.load(this.ctl, Sch.mode) !== 1) return null;
    const n = this.rc.workers;
    const k = Atomics.load(this.ctl, Sch.k);
    const d = Atomics.load(this.ctl, Sch.depth);
    return { n, k, d, bound: pctBound(n, k, d) };
  }

  /** For stall reports. */
  describeTurn(): string {
    const t = Atomics.load(this.ctl, Sch.turn);
    if (t === TURN_FINISHED) return 'all workers finished';
    if (t < 0) return 'no turn assigned';
    const pos = this.rc.position(t);
    return `worker ${t} holds the turn at ${pos.lastPoint ?? 'its start'}`;
  }
}

