/**
 * The torture workload, shaped like xfstests generic/113 (aio-stress: many threads, many small
 * concurrent writes): each worker keeps several write streams, each with at most one open bucket;
 * it writes small extents of random size, puts buckets soon after opening them (short-lived open
 * buckets are what open the window), and overwrites/deletes earlier extents so that buckets empty,
 * get discarded and cycle back. Streams write user data, every fourth stream btree data, so a
 * duplicate allocation across types shows up as a data-type mismatch.
 *
 * Everything random comes from the worker's own seeded stream, and nothing depends on time unless
 * the run is time-boxed, so a controlled schedule replays exactly.
 */
import { streamRng } from '../shared/prng.js';
import type { Filesystem, Extent, OpenBucket } from '../alloc/filesystem.js';
import { AllocError } from '../alloc/errors.js';
import type { WriteType } from '../alloc/types.js';
import type { RecentPoint, WorkerPosition } from '../race/control.js';
import { J, Pending, type Journal } from './journal.js';

export interface WorkloadParams {
  worker: number;
  seed: number;
  /** Allocations this worker makes (Infinity: until told to stop). */
  ops: number;
  streams: number;
  maxExtentSectors: number;
  /** Live extents this worker keeps at most; more are freed (overwrites). */
  liveTarget: number;
  /** Probability of putting an open bucket right after a write (short-lived open buckets). */
  putProbability: number;
  /** Discard step every this many iterations. */
  discardEvery: number;
  /** Replacements before this worker (crash torture): its random stream differs from its predecessor's. */
  generation?: number;
}

/** The first corruption a worker hit: the bucket, both writers and operations, and its last race points. */
export interface FirstViolation {
  kinds: string[];
  bucket: number;
  writer: number;
  otherWriter: number;
  opId: number;
  otherOpId: number;
  /** This worker's last race points when it hit the error. */
  recent: RecentPoint[];
  /** Where the other party was at that moment (null when unknown). */
  other: WorkerPosition | null;
  message: string;
}

/** What one torture worker did: allocations, writes, frees, racy allocations, its first violation. */
export interface WorkloadResult {
  worker: number;
  allocations: number;
  writes: number;
  frees: number;
  allocFailures: number;
  /** Commit errors (a racy allocation may cause several). */
  errors: number;
  /** Allocations whose bucket turned out to be taken already: at least one commit error. */
  racyAllocations: number;
  firstViolation: FirstViolation | null;
}

export interface WorkloadEnv {
  fs: Filesystem;
  stopRequested: () => boolean;
  /** Snapshot the other party's race position (for the failure report). */
  positionOf: (worker: number) => WorkerPosition | null;
  recent: () => RecentPoint[];
  /** Bookkeeping for progress reports. */
  progress: (allocations: number) => void;
  /**
   * The shared journal (crash torture): every operation is recorded as begun and as done, and the
   * live extents as acknowledged, so a worker killed at any moment leaves its history behind. A
   * replacement worker starts from its predecessor's live extents and allocation count.
   */
  journal?: Journal | null;
}

interface Stream {
  type: WriteType;
  ob: OpenBucket | null;
  /** This stream's current allocation has already been counted as racy. */
  racy: boolean;
}

export function runWorkload(p: WorkloadParams, env: WorkloadEnv): WorkloadResult {
  const { fs } = env;
  const j = env.journal ?? null;
  const w = p.worker;
  const rng = streamRng(p.seed, 1000 + p.worker + (p.generation ?? 0) * 0x10000);
  const streams: Stream[] = Array.from({ length: p.streams }, (_, i) => ({ type: i % 4 === 3 ? 'btree' : 'user', ob: null, racy: false }));
  // A replacement takes over its predecessor's acknowledged data (the journal is the record of it).
  const live: Extent[] = j === null ? [] : Array.from({ length: j.liveCount(w) }, (_, i) => j.entry(w, i, fs.identity));
  const writer = p.worker;
  const result: WorkloadResult = {
    worker: p.worker, allocations: j === null ? 0 : j.allocations(w), writes: 0, frees: 0, allocFailures: 0, errors: 0, racyAllocations: 0, firstViolation: null,
  };

  const freeOne = (): void => {
    const i = rng.below(live.length);
    const e = live[i]!;
    j?.begin(w, Pending.free, i, e.opId, e.id);
    fs.free(e);
    live[i] = live[live.length - 1]!;
    live.pop();
    if (j !== null) { j.removeLive(w, i); j.done(w, J.frees); }
    result.frees++;
  };

  for (let iter = 1; result.allocations < p.ops; iter++) {
    if ((iter & 15) === 0 && env.stopRequested()) break;
    const s = streams[rng.below(streams.length)]!;
    if (s.ob === null) {
      j?.begin(w, Pending.allocate);
      s.ob = fs.allocBucket({ dataType: s.type, watermark: s.type === 'btree' ? 'btree' : 'normal', writer });
      if (s.ob === null) {
        if (j !== null) { j.clearPending(w); j.bump(w, J.allocFailures); }
        result.allocFailures++;
        discardStep(32);
        for (let k = 0; k < 4 && live.length > 0; k++) freeOne();
        continue;
      }
      j?.done(w, J.allocations);
      s.racy = false;
      result.allocations++;
      env.progress(result.allocations);
    }
    const ob = s.ob;
    const sectors = Math.min(ob.sectorsFree, 1 + rng.below(p.maxExtentSectors));
    j?.begin(w, Pending.write, -1, ob.opId);
    let landed: Extent;
    try {
      landed = fs.write(ob, sectors, writer);
    } catch (e) {
      if (!(e instanceof AllocError)) throw e;
      landed = e.extent;
      result.errors++;
      j?.bump(w, J.errors);
      // Once per allocation, whatever the other streams' allocations did in between.
      if (!s.racy) {
        s.racy = true;
        result.racyAllocations++;
        j?.bump(w, J.racy);
      }
      if (result.firstViolation === null) {
        result.firstViolation = {
          kinds: e.kinds, bucket: e.bucket, writer: e.writer, otherWriter: e.otherWriter, opId: e.opId, otherOpId: e.otherOpId,
          recent: env.recent(), other: e.otherWriter >= 0 ? env.positionOf(e.otherWriter) : null, message: e.message,
        };
      }
    }
    live.push(landed);
    if (j !== null) { j.addLive(w, landed); j.done(w, J.writes); }
    result.writes++;
    if (ob.sectorsFree === 0 || rng.chance(p.putProbability)) {
      putOne(s);
    }
    while (live.length > p.liveTarget || (live.length > 0 && rng.chance(0.3))) freeOne();
    if (iter % p.discardEvery === 0) discardStep(16);
  }
  for (const s of streams) if (s.ob !== null) putOne(s);
  return result;

  function putOne(s: Stream): void {
    j?.begin(w, Pending.put);
    fs.put(s.ob!);
    s.ob = null;
    j?.done(w, J.puts);
  }

  function discardStep(max: number): void {
    j?.begin(w, Pending.discard);
    const n = fs.discard(max);
    if (j !== null) { j.clearPending(w); if (n > 0) j.done(w, J.completed, false); }
  }
}
