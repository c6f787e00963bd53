/**
 * The worker side of an exploration: one worker runs at a time between race points, and at each of
 * its scheduling points the worker holding the turn closes the step it just ran — measures what it
 * wrote, models what it read (explore-footprint.ts), wakes no sleeping step it did not touch — and
 * decides who runs next. As in the controlled scheduler (scheduler.ts), the turn holder is the only
 * writer of the exploration's shared state, so there is no scheduler thread.
 *
 * Decision j is forced while j < prefix (the schedule the main thread asked for). After that the
 * choice is never a preemption: the worker that just ran goes on; when it has finished, the lowest
 * enabled worker that is not asleep runs. Every other choice is the main thread's to explore later
 * (explore.ts). When every enabled worker is asleep, the execution is *sleep-blocked*: whatever it
 * would do next is a reordering of an execution already explored, so it stops there.
 *
 * Every wait is bounded (the control word waitMs): a worker that waits longer for its turn stops the
 * execution as stalled, and names who held the turn and where.
 */
import { WORKER_WORDS, Wk, type RaceControl } from './control.js';
import {
  FOOT_WORDS, FINISH_POINT, START_POINT, WordKind, dependent, setBit, stepReads, type ReadContext, type WordMap,
} from './explore-footprint.js';
import { EPOCH_QUIT, FOOT_STRIDE, Status, TURN_FINISHED, TURN_STOPPED, X, type ExploreShared } from './explore-shared.js';

/** Thrown out of a race point when the execution was cut short; the program unwinds and stops. */
export class ExploreAbort extends Error {
  constructor() {
    super('exploration: this execution was stopped');
    this.name = 'ExploreAbort';
  }
}

export interface EngineIdentity {
  worker: number;
  /** The worker's thread-registry member (its own counters, intent record, read holds). */
  member: number;
  /** The worker's attach placement: the extent entries it may claim. */
  placement: number;
}

export class ExploreEngine {
  /** The open slot the program holds (0: none); set by the program, used by the read model. */
  ownSlot = 0;
  private readonly sh: ExploreShared;
  private readonly ctl: Int32Array;
  private readonly rc: RaceControl;
  private readonly me: number;
  private readonly bit: number;
  private readonly id: EngineIdentity;
  private readonly fsWords: Int32Array[];
  private readonly map: WordMap;
  private readonly ctx: ReadContext;
  private lastPoint = START_POINT;
  private lastBucket = -1;

  constructor(sh: ExploreShared, rc: RaceControl, id: EngineIdentity, fsBuffers: readonly SharedArrayBuffer[], map: WordMap, ctx: ReadContext) {
    this.sh = sh;
    this.ctl = sh.ctl;
    this.rc = rc;
    this.id = id;
    this.me = id.worker;
    this.bit = 1 << id.worker;
    this.fsWords = fsBuffers.map((b) => new Int32Array(b));
    this.map = map;
    this.ctx = ctx;
  }

  /** Waits (bounded) for the main thread to start another execution; returns its epoch or EPOCH_QUIT. */
  awaitEpoch(last: number, timeoutMs: number): number {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const e = Atomics.load(this.ctl, X.epoch);
      if (e !== last) return e;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`exploration worker ${this.me}: no execution started within ${timeoutMs} ms`);
      Atomics.wait(this.ctl, X.epoch, last, Math.min(left, 1000));
    }
  }

  /**
   * One execution of this worker's program: wait for the first turn, run, close the last step and
   * hand the turn on; then count this worker idle (the last one wakes the main thread). A program
   * that throws anything but ExploreAbort ends there, its message kept for the verdict.
   */
  run(body: () => void): void {
    this.lastPoint = START_POINT;
    this.lastBucket = -1;
    this.ownSlot = 0;
    try {
      if (!this.waitTurn()) return;
      try {
        body();
      } catch (e) {
        if (e instanceof ExploreAbort) return;
        this.sh.setMessage(this.me, `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`);
      }
      this.finish();
    } finally {
      if (Atomics.add(this.ctl, X.idle, 1) + 1 === this.sh.workers) Atomics.notify(this.ctl, X.idle);
    }
  }

  /** The race hook's scheduling point (WorkerHook.onSchedulePoint), called while holding the turn. */
  onPoint(point: number): void {
    const bucket = Atomics.load(this.rc.workerWords, this.me * WORKER_WORDS + Wk.lastBucket);
    if (!this.endStep(point, bucket, false)) throw new ExploreAbort();
    const d = this.decide(true);
    if (d === this.me) return;
    if (d < 0) throw new ExploreAbort();
    Atomics.store(this.ctl, X.turn, d);
    Atomics.notify(this.ctl, X.turn);
    if (!this.waitTurn()) throw new ExploreAbort();
  }

  private finish(): void {
    if (!this.endStep(FINISH_POINT, -1, true)) return;
    const enabled = Atomics.and(this.ctl, X.enabled, ~this.bit) & ~this.bit;
    if (enabled === 0) {
      Atomics.store(this.ctl, X.status, Status.complete);
      Atomics.store(this.ctl, X.turn, TURN_FINISHED);
      Atomics.notify(this.ctl, X.turn);
      return;
    }
    const d = this.decide(false);
    if (d < 0) return;
    Atomics.store(this.ctl, X.turn, d);
    Atomics.notify(this.ctl, X.turn);
  }

  /** Cuts the execution short: every waiting worker returns from its wait and unwinds. */
  private stop(status: number): void {
    if (Atomics.compareExchange(this.ctl, X.status, Status.running, status) !== Status.running) return;
    Atomics.store(this.ctl, X.turn, TURN_STOPPED);
    Atomics.notify(this.ctl, X.turn);
  }

  private waitTurn(): boolean {
    const ctl = this.ctl;
    const timeout = Atomics.load(ctl, X.waitMs);
    const deadline = performance.now() + timeout;
    for (;;) {
      const t = Atomics.load(ctl, X.turn);
      if (t === this.me) return true;
      if (t === TURN_STOPPED || t === TURN_FINISHED || Atomics.load(ctl, X.epoch) === EPOCH_QUIT) return false;
      const left = deadline - performance.now();
      if (left <= 0) {
        const where = t >= 0 ? `worker ${t} holds the turn, last at ${this.rc.position(t).lastPoint ?? 'its start'} (bucket ${this.rc.position(t).lastBucket})` : 'nobody holds the turn';
        this.sh.setMessage(this.me, `stalled: worker ${this.me} waited ${timeout} ms for its turn; ${where}`);
        this.stop(Status.stalled);
        return false;
      }
      Atomics.wait(ctl, X.turn, t, Math.min(left, 50));
    }
  }

  /**
   * Closes step j (the one this worker just ran): its footprint, its final flag, and the sleep set
   * it leaves. False when the execution has been stopped (a write the model does not allow).
   */
  private endStep(q: number, qb: number, final: boolean): boolean {
    const ctl = this.ctl;
    const j = Atomics.load(ctl, X.step) - 1;
    this.sh.final[j] = final ? 1 : 0;
    const from = Atomics.load(ctl, X.sleepFrom);
    if (Atomics.load(ctl, X.por) !== 0 && j >= from - 1) {
      // Footprints are needed from step `from` on (the forced steps before it were measured in the
      // execution that first ran them); the step before it only brings the shadow up to date.
      if (j === from - 1) {
        this.syncShadow();
        this.lastPoint = q;
        this.lastBucket = qb;
        return true;
      }
      const foot = this.sh.foot;
      const fo = j * FOOT_STRIDE;
      stepReads(foot, fo, this.lastPoint, this.lastBucket, q, qb, this.ownSlot, this.ctx);
      if (!this.measureWrites(j, foot, fo + FOOT_WORDS)) return false;
      let sleep = Atomics.load(ctl, X.sleep);
      for (let rest = sleep; rest !== 0; rest &= rest - 1) {
        const w = 31 - Math.clz32(rest & -rest);
        const so = w * FOOT_STRIDE;
        if (dependent(this.sh.sleepFoot, so, so + FOOT_WORDS, foot, fo, fo + FOOT_WORDS)) sleep &= ~(1 << w);
      }
      Atomics.store(ctl, X.sleep, sleep);
    }
    this.lastPoint = q;
    this.lastBucket = qb;
    return true;
  }

  /**
   * The step's writes: every word that differs from the shadow, mapped to its object; the shadow is
   * brought up to date as it goes. A word outside the model stops the execution as a violation.
   */
  private measureWrites(j: number, foot: Int32Array, wo: number): boolean {
    foot.fill(0, wo, wo + FOOT_WORDS);
    const map = this.map;
    const ranges = map.ranges;
    for (let r = 0; r < ranges.length; r += 3) {
      const i = ranges[r]!;
      const cur = this.fsWords[i]!;
      const sh = this.sh.shadow[i]!;
      const code = map.code[i]!;
      const arg = map.arg[i]!;
      const to = ranges[r + 2]!;
      for (let w = ranges[r + 1]!; w < to; w++) {
        const v = cur[w]!;
        const old = sh[w]!;
        if (v === old) continue;
        sh[w] = v;
        const c = code[w]!;
        if (c >= 0) { setBit(foot, wo, c); continue; }
        if (c === WordKind.derived) continue;
        if (c === WordKind.bitmapLeaf) {
          for (let x = v ^ old; x !== 0; x &= x - 1) {
            const b = arg[w]! * 32 + (31 - Math.clz32(x & -x));
            if (b < map.buckets) setBit(foot, wo, b);
          }
          continue;
        }
        if (c === WordKind.member && arg[w] === this.id.member) continue;
        if (c === WordKind.extent && arg[w] === this.id.placement) continue;
        const ctl = this.ctl;
        Atomics.store(ctl, X.violation, j + 1);
        Atomics.store(ctl, X.violWorker, this.me);
        Atomics.store(ctl, X.violBuffer, i);
        Atomics.store(ctl, X.violWord, w);
        Atomics.store(ctl, X.violOld, old);
        Atomics.store(ctl, X.violNew, v);
        this.stop(Status.violation);
        return false;
      }
    }
    return true;
  }

  /** Brings the shadow up to the memory as it is now, without looking at what changed. */
  private syncShadow(): void {
    const ranges = this.map.ranges;
    for (let r = 0; r < ranges.length; r += 3) {
      const i = ranges[r]!;
      this.sh.shadow[i]!.set(this.fsWords[i]!.subarray(ranges[r + 1]!, ranges[r + 2]!), ranges[r + 1]!);
    }
  }

  /**
   * Decision j. Forced below the prefix; after it, this worker goes on if it can, else the lowest
   * enabled worker not asleep. Returns the worker, or −1 when the execution stops here.
   */
  private decide(selfEnabled: boolean): number {
    const ctl = this.ctl;
    const j = Atomics.load(ctl, X.step);
    if (j >= this.sh.capacity) {
      this.stop(Status.overflow);
      return -1;
    }
    const enabled = Atomics.load(ctl, X.enabled);
    const sleep = Atomics.load(ctl, X.sleep);
    this.sh.enabledAt[j] = enabled;
    this.sh.sleepAt[j] = sleep;
    let d: number;
    if (j < Atomics.load(ctl, X.prefix)) {
      d = this.sh.decisions[j]!;
      if (d < 0 || d >= 31 || (enabled & (1 << d)) === 0) {
        this.stop(Status.diverged);
        return -1;
      }
    } else if (selfEnabled) {
      d = this.me;
    } else {
      const awake = enabled & ~sleep;
      if (awake === 0) {
        this.stop(Status.sleepBlocked);
        return -1;
      }
      d = 31 - Math.clz32(awake & -awake);
    }
    this.sh.decisions[j] = d;
    Atomics.store(ctl, X.step, j + 1);
    return d;
  }
}
