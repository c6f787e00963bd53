/**
 * Lock torture worker entry (runs from dist/). Attaches the run's region from workerData and serves
 * one call per phase over Comlink; the hot loops themselves never do RPC, they only touch shared
 * memory. Each call waits at the run's StartBarrier first, so every worker's loop starts together.
 *
 * Progress goes into this worker's own padded block (plain writes, one writer), so the runner's
 * watchdog can say where each worker was if the run stalls.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachRegion } from '../shared/region.js';
import { StartBarrier } from '../shared/barrier.js';
import { CounterBlocks } from '../shared/counters.js';
import { exposeToParent } from '../shared/worker-pool.js';
import {
  LockStats, LockTimeoutError, RwLock, SeqCount, SeqLock, ThreadRegistry, cpuRelax, currentOwnerId,
} from '../locks/index.js';
import { type LockKind, makeTortureLock } from './lock-kinds.js';
import {
  BARRIER_AT, CANARY, HAMMER, LOCK_TORTURE_KIND, LOCK_TORTURE_VERSION, PROGRESS_NAMES, Phase, READERS_DONE, RECORD_AT, SEQ_STRIDE, STOP,
  type TortureWorkerData, epochMs, lockTortureSpec, seqRecordWord, seqSnapshotConsistent,
} from './lock-torture-layout.js';

const data = workerData as TortureWorkerData;
const region = attachRegion(data.handle, {
  kind: LOCK_TORTURE_KIND,
  version: LOCK_TORTURE_VERSION,
  spec: lockTortureSpec(data.workers, data.recordWords),
});
const control = region.i32('control');
const lockWords = region.i32('lock');
const words = region.i32('data');
const progress = new CounterBlocks(region.f64('progress'), PROGRESS_NAMES, data.workers);
const mine = progress.base(data.index);
const P = progress.raw;
const PHASE = mine + progress.offsetOf('phase');
const PROGRESS = mine + progress.offsetOf('progress');
const TRIPS = mine + progress.offsetOf('canaryTrips');
const BROKEN = mine + progress.offsetOf('broken');
const barrier = new StartBarrier(control, BARRIER_AT);
/** Robust runs: this worker's registry, joined at start-up, which every lock is built with. */
const registry = data.robust ? new ThreadRegistry(region.i32('registry'), 0, data.workers) : null;
if (registry !== null && registry.join() < 0) throw new Error(`worker ${data.index}: the torture's registry is full`);
const robust = registry !== null ? { registry } : {};
P[PHASE] = Phase.attached;

/**
 * The watchdog may read the phase at any moment. Counters are 64-bit floats (Atomics has no float
 * operations): an aligned float never tears, and the watchdog only needs a recent value.
 */
function setPhase(phase: number): void {
  P[PHASE] = phase;
}

/** Runs a phase; a throw (a lock timeout, misuse) marks this worker failed for the watchdog's report. */
function phase<R>(fn: () => R): R {
  try {
    return fn();
  } catch (e) {
    setPhase(Phase.failed);
    throw e;
  }
}

function waitForGo(timeoutMs: number): void {
  setPhase(Phase.atBarrier);
  barrier.arriveAndWait(timeoutMs);
  setPhase(Phase.running);
}

export interface ExclusionResult {
  canaryTrips: number;
  startedAt: number;
  endedAt: number;
  stats: Record<string, number>;
}

export interface RwReaderResult {
  /** Read sections that found a writer's id in the canary: a writer was inside with them. */
  canaryTrips: number;
  /** Read sections whose record words disagreed: they saw a write half done. */
  tornReads: number;
  startedAt: number;
  endedAt: number;
  stats: Record<string, number>;
}

export interface CrashWriterResult {
  sections: number;
  canaryTrips: number;
  /** Acquisitions answered 'owner-died': a dead reader's hold was in the count and was released. */
  takeovers: number;
  stats: Record<string, number>;
}

export interface SeqWriterResult {
  writes: number;
  startedAt: number;
  endedAt: number;
  stats: Record<string, number>;
}

/** honour: check readRetry; read-fn: use SeqLock.read(fn); ignore: skip the check (the negative control). */
export type SeqReaderMode = 'honour' | 'ignore' | 'read-fn';

/** One seqlock reader's counts: snapshots taken, retries, broken snapshots accepted or seen. */
export interface SeqReaderResult {
  mode: SeqReaderMode;
  /** Snapshots taken as valid (for 'ignore': every snapshot). */
  accepted: number;
  /** Passes started, including those thrown away by readRetry. */
  attempts: number;
  /** Snapshots that broke the invariant and were accepted anyway (honouring readers: must be 0). */
  brokenAccepted: number;
  /** 'ignore' only: broken snapshots among those it read. */
  brokenSeen: number;
  stats: Record<string, number>;
  startedAt: number;
  endedAt: number;
}

/** How one bounded lock() ended: taken, or timed out naming the holder it waited for. */
export interface LockAttempt {
  acquired: boolean;
  errorName: string | null;
  message: string | null;
  /** Owner id the error named (0 if none). */
  owner: number;
  elapsedMs: number;
  /** Owner id in the lock word, read after the failure. */
  ownerInWord: number;
}

const api = {
  /**
   * The mutual-exclusion torture loop. The record is read in full with plain reads into a private
   * scratch copy and written back afterwards, so that without exclusion the window between read and
   * write is as wide as the record: a busted lock loses updates quickly.
   */
  exclusion(kind: LockKind, iterations: number, barrierTimeoutMs: number): ExclusionResult {
    return phase(() => {
      const stats = new LockStats();
      const lock = makeTortureLock(kind, lockWords, 0, stats, registry ?? undefined);
      const n = data.recordWords;
      const scratch = new Int32Array(n);
      const me = currentOwnerId();
      let trips = 0;
      waitForGo(barrierTimeoutMs);
      const startedAt = epochMs();
      for (let i = 0; i < iterations; i++) {
        lock.lock();
        if (words[CANARY] !== 0) trips++;
        words[CANARY] = me;
        for (let k = 0; k < n; k++) scratch[k] = words[RECORD_AT + k]!;
        for (let k = 0; k < n; k++) words[RECORD_AT + k] = (scratch[k]! + 1) | 0;
        words[CANARY] = 0;
        lock.unlock();
        if ((i & 1023) === 0) P[PROGRESS] = i;
      }
      const endedAt = epochMs();
      P[PROGRESS] = iterations;
      P[TRIPS] = trips;
      setPhase(Phase.done);
      return { canaryTrips: trips, startedAt, endedAt, stats: stats.toJSON() };
    });
  },

  /**
   * A reader beside the exclusion writers (kind 'rwlock', or 'busted' as the control): under the
   * read lock no writer may be inside, so the canary must read 0 and the record words must agree.
   */
  rwReader(kind: 'rwlock' | 'busted', iterations: number, barrierTimeoutMs: number): RwReaderResult {
    return phase(() => {
      const stats = new LockStats();
      const rw = kind === 'rwlock' ? new RwLock(lockWords, 0, { stats, ...robust }) : null;
      const n = data.recordWords;
      let trips = 0;
      let torn = 0;
      waitForGo(barrierTimeoutMs);
      const startedAt = epochMs();
      for (let i = 0; i < iterations; i++) {
        rw?.readLock();
        if (words[CANARY] !== 0) trips++;
        const first = words[RECORD_AT]!;
        for (let k = 1; k < n; k++) {
          if (words[RECORD_AT + k] !== first) {
            torn++;
            break;
          }
        }
        rw?.readUnlock();
        if ((i & 1023) === 0) P[PROGRESS] = i;
      }
      const endedAt = epochMs();
      P[PROGRESS] = iterations;
      P[TRIPS] = trips;
      P[BROKEN] = torn;
      setPhase(Phase.done);
      return { canaryTrips: trips, tornReads: torn, startedAt, endedAt, stats: stats.toJSON() };
    });
  },

  /**
   * The single seqlock writer: rewrites the record under writeLock with Atomics.store until every
   * reader has finished (or the deadline passes), pausing `pause` relax iterations between writes so
   * that readers also find the sequence even.
   */
  seqWriter(readers: number, pause: number, deadlineMs: number, barrierTimeoutMs: number): SeqWriterResult {
    return phase(() => {
      const stats = new LockStats();
      const seq = new SeqLock(lockWords, 0, { stats });
      const n = data.recordWords;
      waitForGo(barrierTimeoutMs);
      const startedAt = epochMs();
      const deadline = performance.now() + deadlineMs;
      let v = 0;
      let writes = 0;
      for (;;) {
        if ((writes & 255) === 0) {
          P[PROGRESS] = writes;
          if (Atomics.load(control, READERS_DONE) >= readers || performance.now() > deadline) break;
        }
        seq.writeLock();
        v = (v + 1) | 0;
        for (let k = 0; k < n; k++) Atomics.store(words, RECORD_AT + k * SEQ_STRIDE, seqRecordWord(v, k));
        seq.writeUnlock();
        writes++;
        cpuRelax(pause);
      }
      const endedAt = epochMs();
      P[PROGRESS] = writes;
      setPhase(Phase.done);
      return { writes, startedAt, endedAt, stats: stats.toJSON() };
    });
  },

  /**
   * A seqlock reader: `reads` accepted snapshots, each checked against the invariant. 'honour' uses
   * readBegin/readRetry; 'read-fn' uses SeqLock.read(fn); 'ignore' is the negative control — the same
   * loop with the readRetry check left out, counting the broken snapshots it therefore takes.
   */
  seqReader(mode: SeqReaderMode, reads: number, pause: number, readTimeoutMs: number, barrierTimeoutMs: number): SeqReaderResult {
    return phase(() => {
      const stats = new LockStats();
      const seq = new SeqLock(lockWords, 0, { stats });
      const n = data.recordWords;
      const snap = new Int32Array(n);
      // Reads the record in word order, idling `pause` after each word: a reader that does a little
      // work per word keeps its snapshot open long enough for a write to land inside it.
      const load = (): void => {
        for (let k = 0; k < n; k++) {
          snap[k] = Atomics.load(words, RECORD_AT + k * SEQ_STRIDE);
          cpuRelax(pause);
        }
      };
      const take = (): boolean => {
        load();
        return seqSnapshotConsistent(snap);
      };
      let accepted = 0;
      let attempts = 0;
      let brokenAccepted = 0;
      let brokenSeen = 0;
      waitForGo(barrierTimeoutMs);
      const startedAt = epochMs();
      try {
        if (mode === 'read-fn') {
          const options = { timeoutMs: readTimeoutMs };
          while (accepted < reads) {
            if ((accepted & 1023) === 0) P[PROGRESS] = accepted;
            attempts++;
            if (!seq.read(take, options)) brokenAccepted++;
            accepted++;
          }
        } else {
          // 'honour' and its negative control 'ignore' are one loop: the control only skips readRetry.
          const honour = mode === 'honour';
          while (accepted < reads) {
            if ((attempts & 1023) === 0) P[PROGRESS] = accepted;
            attempts++;
            const s = seq.readBegin(readTimeoutMs);
            load();
            if (honour && seq.readRetry(s)) continue;
            accepted++;
            if (!seqSnapshotConsistent(snap)) {
              if (honour) brokenAccepted++;
              else brokenSeen++;
            }
          }
        }
      } finally {
        // Even a failed reader counts as done, so the writer never waits for it.
        Atomics.add(control, READERS_DONE, 1);
      }
      const endedAt = epochMs();
      P[PROGRESS] = accepted;
      P[BROKEN] = brokenAccepted + brokenSeen;
      setPhase(Phase.done);
      return { mode, accepted, attempts, brokenAccepted, brokenSeen, stats: stats.toJSON(), startedAt, endedAt };
    });
  },

  /**
   * Reader crash torture, writer side: until the runner says stop, take the robust RwLock for write
   * and update the record under the canary. A reclaim of a killed reader's hold answers 'owner-died';
   * readers write nothing, so the record is whole and the writer marks it consistent at once.
   * `lockTimeoutMs` bounds every wait: in the negative control (no registry) a dead reader's hold
   * makes this throw LockTimeoutError, which is what the control must see. `pause` relax iterations
   * after each section leave the readers room: without them the writers hold the lock nearly all the
   * time, and a killed reader is nearly always one that was waiting, not holding.
   */
  crashWriter(lockTimeoutMs: number, pause: number, barrierTimeoutMs: number): CrashWriterResult {
    return phase(() => {
      const stats = new LockStats();
      const rw = new RwLock(lockWords, 0, { stats, ...robust });
      const n = data.recordWords;
      const me = currentOwnerId();
      let sections = 0;
      let trips = 0;
      let takeovers = 0;
      waitForGo(barrierTimeoutMs);
      while (Atomics.load(control, STOP) === 0) {
        if (rw.writeLock(lockTimeoutMs) === 'owner-died') {
          takeovers++;
          rw.markConsistent();
        }
        if (words[CANARY] !== 0) trips++;
        words[CANARY] = me;
        for (let k = 0; k < n; k++) words[RECORD_AT + k] = (words[RECORD_AT + k]! + 1) | 0;
        words[CANARY] = 0;
        rw.writeUnlock();
        cpuRelax(pause);
        sections++;
        if ((sections & 255) === 0) P[PROGRESS] = sections;
      }
      P[PROGRESS] = sections;
      setPhase(Phase.done);
      return { sections, canaryTrips: trips, takeovers, stats: stats.toJSON() };
    });
  },

  /**
   * Reader crash torture, reader side: until stop (or until the runner kills it, at a random moment),
   * take the lock for read and check that no writer is inside and the record is whole, relaxing
   * `work` iterations inside the section and `rest` outside: with rest ≪ work a killed reader has
   * most likely died holding its read lock, the case the negative control must see.
   */
  crashReader(lockTimeoutMs: number, work: number, rest: number, barrierTimeoutMs: number): RwReaderResult {
    return phase(() => {
      const stats = new LockStats();
      const rw = new RwLock(lockWords, 0, { stats, ...robust });
      const n = data.recordWords;
      let trips = 0;
      let torn = 0;
      let sections = 0;
      waitForGo(barrierTimeoutMs);
      const startedAt = epochMs();
      while (Atomics.load(control, STOP) === 0) {
        rw.readLock(lockTimeoutMs);
        if (words[CANARY] !== 0) trips++;
        const first = words[RECORD_AT]!;
        cpuRelax(work);
        for (let k = 1; k < n; k++) {
          if (words[RECORD_AT + k] !== first) {
            torn++;
            break;
          }
        }
        rw.readUnlock();
        cpuRelax(rest);
        sections++;
        if ((sections & 255) === 0) P[PROGRESS] = sections;
      }
      P[PROGRESS] = sections;
      setPhase(Phase.done);
      return { canaryTrips: trips, tornReads: torn, startedAt, endedAt: epochMs(), stats: stats.toJSON() };
    });
  },

  /**
   * writeBegin race, the second writer: the runner has begun a write (the sequence is odd) and never
   * ends it; this hammers writeBegin without the writer lock. `legacy` is the negative control: the
   * old add-then-undo misuse check, which makes the sequence even for a moment. Runs `iterations`
   * calls, or (legacy) until the sampler saw an even value and said stop.
   */
  seqBeginHammer(legacy: boolean, iterations: number, barrierTimeoutMs: number): { calls: number; refused: number } {
    return phase(() => {
      const seq = new SeqCount(lockWords, 0);
      let calls = 0;
      let refused = 0;
      waitForGo(barrierTimeoutMs);
      Atomics.store(control, HAMMER, 1);
      try {
        while (calls < iterations && Atomics.load(control, STOP) === 0) {
          calls++;
          if (legacy) {
            const before = Atomics.add(lockWords, 0, 1);
            if ((before & 1) !== 0) {
              Atomics.sub(lockWords, 0, 1);
              refused++;
            }
          } else {
            try {
              seq.writeBegin();
            } catch {
              refused++;
            }
          }
          if ((calls & 1023) === 0) P[PROGRESS] = calls;
        }
      } finally {
        Atomics.store(control, HAMMER, 2);
      }
      P[PROGRESS] = calls;
      setPhase(Phase.done);
      return { calls, refused };
    });
  },

  /**
   * writeBegin race, the observer: samples the sequence while the hammer runs and counts the even
   * values it saw (each one is a moment a reader would have accepted a torn record). Says stop at
   * the first even value in the control, so the control does not run longer than it must.
   */
  seqBeginSample(maxMs: number, barrierTimeoutMs: number): { samples: number; whileHammering: number; evenSeen: number } {
    return phase(() => {
      let samples = 0;
      let during = 0;
      let even = 0;
      waitForGo(barrierTimeoutMs);
      const deadline = performance.now() + maxMs;
      for (;;) {
        const h = Atomics.load(control, HAMMER);
        const v = Atomics.load(lockWords, 0);
        samples++;
        if (h === 1) {
          during++;
          if ((v & 1) === 0) {
            even++;
            Atomics.store(control, STOP, 1);
          }
        } else if (h === 2) {
          break;
        }
        if ((samples & 65535) === 0) {
          P[PROGRESS] = samples >>> 16;
          if (performance.now() > deadline) {
            Atomics.store(control, STOP, 1);
            break;
          }
        }
      }
      setPhase(Phase.done);
      return { samples, whileHammering: during, evenSeen: even };
    });
  },

  /**
   * Dead-owner holder: takes the lock and publishes that it holds it. With `exit` it then ends its
   * own thread still holding it (process.exit in a worker ends only the worker); otherwise it returns
   * and the runner terminates it.
   */
  holdAndDie(kind: LockKind, exit: boolean): number {
    const lock = makeTortureLock(kind, lockWords, 0);
    lock.lock(1000);
    setPhase(Phase.holding);
    if (exit) process.exit(0);
    return currentOwnerId();
  },

  /** Dead-owner waiter: one bounded lock attempt, reporting how it failed. */
  lockWithTimeout(kind: LockKind, timeoutMs: number): LockAttempt {
    const lock = makeTortureLock(kind, lockWords, 0);
    setPhase(Phase.running);
    const t0 = performance.now();
    try {
      lock.lock(timeoutMs);
      lock.unlock();
      setPhase(Phase.done);
      return { acquired: true, errorName: null, message: null, owner: 0, elapsedMs: performance.now() - t0, ownerInWord: 0 };
    } catch (e) {
      const elapsedMs = performance.now() - t0;
      setPhase(Phase.done);
      const err = e as Error;
      const owner = e instanceof LockTimeoutError ? e.owner : 0;
      return { acquired: false, errorName: err.name, message: err.message, owner, elapsedMs, ownerInWord: lock.owner() };
    }
  },

  /** Dead-owner seqlock reader: a bounded readBegin while the dead writer left the sequence odd. */
  seqReadWithTimeout(timeoutMs: number): LockAttempt {
    const seq = new SeqLock(lockWords, 0);
    const t0 = performance.now();
    try {
      seq.readBegin(timeoutMs);
      return { acquired: true, errorName: null, message: null, owner: 0, elapsedMs: performance.now() - t0, ownerInWord: 0 };
    } catch (e) {
      const err = e as Error;
      const owner = e instanceof LockTimeoutError ? e.owner : 0;
      return { acquired: false, errorName: err.name, message: err.message, owner, elapsedMs: performance.now() - t0, ownerInWord: seq.writer.owner() };
    }
  },
};

export type LockTortureApi = typeof api;

exposeToParent(api, parentPort);
