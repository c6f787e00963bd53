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
}

/** The first corruption a worker hit: the bucket, both writers and operations, and its last race points. */
export interface FirstViolation {
  kinds: string[];
  bucket: number;
  owner: number;
  otherOwner: number;
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
}

interface Stream {
  type: WriteType;
  ob: OpenBucket | null;
}

export function runWorkload(p: WorkloadParams, env: WorkloadEnv): WorkloadResult {
  const { fs } = env;
  const rng = streamRng(p.seed, 1000 + p.worker);
  const streams: Stream[] = Array.from({ length: p.streams }, (_, i) => ({ type: i % 4 === 3 ? 'btree' : 'user', ob: null }));
  const live: Extent[] = [];
  const owner = p.worker;
  const result: WorkloadResult = { worker: p.worker, allocations: 0, writes: 0, frees: 0, allocFailures: 0, errors: 0, racyAllocations: 0, firstViolation: null };
  let lastRacyOp = -1;

  const freeOne = (): void => {
    const i = rng.below(live.length);
    const e = live[i]!;
    live[i] = live[live.length - 1]!;
    live.pop();
    fs.free(e);
    result.frees++;
  };

  for (let iter = 1; result.allocations < p.ops; iter++) {
    if ((iter & 15) === 0 && env.stopRequested()) break;
    const s = streams[rng.below(streams.length)]!;
    if (s.ob === null) {
      s.ob = fs.allocBucket({ dataType: s.type, watermark: s.type === 'btree' ? 'btree' : 'normal', owner });
      if (s.ob === null) {
        result.allocFailures++;
        fs.discard(32);
        for (let k = 0; k < 4 && live.length > 0; k++) freeOne();
        continue;
      }
      result.allocations++;
      env.progress(result.allocations);
    }
    const ob = s.ob;
    const sectors = Math.min(ob.sectorsFree, 1 + rng.below(p.maxExtentSectors));
    try {
      live.push(fs.write(ob, sectors, owner));
    } catch (e) {
      if (!(e instanceof AllocError)) throw e;
      live.push(e.extent);
      result.errors++;
      if (e.opId !== lastRacyOp) {
        lastRacyOp = e.opId;
        result.racyAllocations++;
      }
      if (result.firstViolation === null) {
        result.firstViolation = {
          kinds: e.kinds, bucket: e.bucket, owner: e.owner, otherOwner: e.otherOwner, opId: e.opId, otherOpId: e.otherOpId,
          recent: env.recent(), other: e.otherOwner >= 0 ? env.positionOf(e.otherOwner) : null, message: e.message,
        };
      }
    }
    result.writes++;
    if (ob.sectorsFree === 0 || rng.chance(p.putProbability)) {
      fs.put(ob);
      s.ob = null;
    }
    while (live.length > p.liveTarget || (live.length > 0 && rng.chance(0.3))) freeOne();
    if (iter % p.discardEvery === 0) fs.discard(16);
  }
  for (const s of streams) {
    if (s.ob !== null) fs.put(s.ob);
    s.ob = null;
  }
  return result;
}
