/**
 * What a cursor-study worker runs and counts: the probe it installs as its race hook (it counts
 * what the allocator does at each race point, then hands the point to the race control's hook,
 * which injects the delay), and the simple cycle workload. The worker entry is cursor-worker.ts.
 *
 * Mechanism block (i32, shared by the run's workers; MECH_HEADER words, then per worker, then per
 * bucket):
 *
 *   [0] first duplicate's operation id (0: none yet); the smallest wins (compareExchange)
 *   [1..15] reserved
 *   [16 + w]            candidate worker w holds: the bucket its scan read as free and has not yet
 *                       published or given up (−1 none)
 *   [16 + W + b]        operation id of bucket b's last publish (0: none)
 */
import type { StartBarrier } from '../shared/barrier.js';
import type { Extent, Filesystem } from '../alloc/filesystem.js';
import { AllocError, StaleHandleError } from '../alloc/errors.js';
import { RacePoint, type RaceHook } from '../alloc/race-points.js';
import { Dev } from '../alloc/device.js';
import { C } from '../alloc/counters.js';
import { RECORD_WORDS, Rec } from '../alloc/bucket-table.js';
import type { WorkerHook } from '../race/control.js';

export const MECH_HEADER = 16;
export const LAG_BINS = 24;
export type Shape = 'torture' | 'cycle';

export interface MechCounts {
  candidateReads: number;
  /** Candidate reads of a bucket another worker's in-flight scan held at that moment. */
  sameCandidate: number;
  /** Under the freelist lock the candidate was already open (the scan moves on). */
  foundOpen: number;
  /**
   * Stale windows: between the candidate read and the freelist lock the bucket's record changed (its
   * sequence count moved: someone opened, filled, put — and maybe freed — it). Each ends one of two
   * ways: `staleRescued`, the bucket is open again by then and the is-open check turns the holder
   * away; or `stalePublished`, it is not, and the holder publishes it — a duplicate.
   */
  staleRescued: number;
  stalePublished: number;
  publishes: number;
  /** Publishes of a bucket published before in this run; the lag is the allocations in between. */
  reuses: number;
  lagSum: number;
  /** Reuse lags by log2 bin: bin k holds lags in [2^k, 2^(k+1)). */
  lagBins: number[];
  /** Buckets from the scan's start (cursor or 0) to the published bucket, summed. */
  scanDistance: number;
}

export interface StudyRunRequest {
  fs: unknown;
  barrier: Int32Array;
  mech: Int32Array;
  shape: Shape;
  workers: number;
  durationMs: number;
  /** Stop every worker at the first duplicate allocation (cascade-free runs). */
  untilFirstDuplicate: boolean;
  seed: number;
  writeSectors: number;
  barrierTimeoutMs: number;
}

export interface StudyRunResult {
  worker: number;
  allocations: number;
  elapsedMs: number;
  mech: MechCounts;
  /** This worker's first duplicate, if it saw one: its operation id and ms after the release. */
  firstDuplicate: { opId: number; ms: number } | null;
}

export function emptyMech(): MechCounts {
  return { candidateReads: 0, sameCandidate: 0, foundOpen: 0, staleRescued: 0, stalePublished: 0, publishes: 0, reuses: 0, lagSum: 0, lagBins: new Array<number>(LAG_BINS).fill(0), scanDistance: 0 };
}

/** Counts at each race point, then hands it to the race control's hook (the delay). */
export class Probe implements RaceHook {
  readonly m = emptyMech();
  firstDuplicate: { opId: number; ms: number } | null = null;
  private start = 0;
  private dupsSeen = 0;
  /** The sequence count of the held candidate's record when the scan read it. */
  private heldSeq = 0;
  t0 = 0;

  constructor(
    private readonly me: number,
    private readonly inner: WorkerHook,
    private readonly fs: Filesystem,
    private readonly mech: Int32Array,
    private readonly workers: number,
    private readonly barrier: StartBarrier,
    private readonly untilFirst: boolean,
  ) {}

  at(point: number, bucket: number, opId: number, lockHeld: boolean): void {
    const mech = this.mech;
    const me = this.me;
    const held = MECH_HEADER + me;
    switch (point) {
      case RacePoint.allocStart:
        Atomics.store(mech, held, -1);
        this.start = this.fs.config.cursorFix ? Atomics.load(this.fs.dev, Dev.cursor) : 0;
        break;
      case RacePoint.candidateRead: {
        this.m.candidateReads++;
        this.heldSeq = Atomics.load(this.fs.records, bucket * RECORD_WORDS + Rec.seq);
        Atomics.store(mech, held, bucket);
        for (let w = 0; w < this.workers; w++) {
          if (w !== me && Atomics.load(mech, MECH_HEADER + w) === bucket) { this.m.sameCandidate++; break; }
        }
        break;
      }
      case RacePoint.foundOpen:
        this.m.foundOpen++;
        if (Atomics.load(this.fs.records, bucket * RECORD_WORDS + Rec.seq) !== this.heldSeq) this.m.staleRescued++;
        Atomics.store(mech, held, -1);
        break;
      case RacePoint.revalidateFailed:
      case RacePoint.lockedRereadRefused:
        Atomics.store(mech, held, -1);
        break;
      case RacePoint.afterPublish: {
        Atomics.store(mech, held, -1);
        const m = this.m;
        m.publishes++;
        if (Atomics.load(this.fs.records, bucket * RECORD_WORDS + Rec.seq) !== this.heldSeq) m.stalePublished++;
        const n = this.fs.config.buckets;
        m.scanDistance += (bucket - this.start + n) % n;
        const prev = Atomics.exchange(mech, MECH_HEADER + this.workers + bucket, opId);
        if (prev > 0 && opId > prev) {
          const lag = opId - prev;
          m.reuses++;
          m.lagSum += lag;
          m.lagBins[Math.min(LAG_BINS - 1, 31 - Math.clz32(lag))]!++;
        }
        // The oracle counted a duplicate in this member's block at this publish: is it the first?
        const core = this.fs.core;
        const dups = core.ctr[core.ctrBase + C.duplicateAllocations]!;
        if (dups > this.dupsSeen) {
          this.dupsSeen = dups;
          if (this.firstDuplicate === null) this.firstDuplicate = { opId, ms: performance.now() - this.t0 };
          for (;;) {
            const cur = Atomics.load(mech, 0);
            if ((cur !== 0 && cur <= opId) || Atomics.compareExchange(mech, 0, cur, opId) === cur) break;
          }
          if (this.untilFirst) this.barrier.requestStop();
        }
        break;
      }
      default:
        break;
    }
    this.inner.at(point, bucket, opId, lockHeld);
  }
}

/** allocate + write + put + free (+ a discard step every eighth cycle when discards are on). */
export function runCycles(fs: Filesystem, sectors: number, writer: number, stop: () => boolean): number {
  let allocations = 0;
  const discard = fs.config.discard;
  for (let i = 1; ; i++) {
    if (stop()) break;
    const ob = fs.allocBucket({ dataType: 'user', writer });
    if (ob === null) {
      fs.discard(64);
      continue;
    }
    allocations++;
    let e: Extent;
    try {
      e = fs.write(ob, sectors);
    } catch (err) {
      if (!(err instanceof AllocError)) throw err;
      e = err.extent;
    }
    fs.put(ob);
    try {
      fs.free(e);
    } catch (err) {
      // Only after corruption: another allocation's write took this extent's place.
      if (!(err instanceof StaleHandleError)) throw err;
    }
    if (discard && (i & 7) === 0) fs.discard(16);
  }
  return allocations;
}
