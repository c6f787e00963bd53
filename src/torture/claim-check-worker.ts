/**
 * An independent duplicate-allocation check, for the test that holds the allocation oracle to
 * account. It uses only the public API (attach, allocBucket, write, put, free, discard, a race
 * hook) and a claim array of its own: one 64-bit word per bucket holding the operation id of the
 * allocation whose bucket it is, set (compareExchange from 0) right after allocBucket returns and
 * cleared before the holder lets go of its last data in the bucket (before the put of a bucket it
 * wrote nothing into, or before freeing its last extent there). A bucket whose claim is already
 * taken when allocBucket hands it out was handed out twice.
 *
 * The check can miss duplicates (a claim is cleared a moment before the bucket is really let go) but
 * never invents one; and of a pair it may blame the earlier allocation (claims are taken after the
 * publish, in whatever order the threads get there), so the test accepts the oracle flagging
 * either allocation of each pair.
 */
import { parentPort } from 'node:worker_threads';
import { exposeToParent } from '../shared/worker-pool.js';
import { StartBarrier } from '../shared/barrier.js';
import { streamRng } from '../shared/prng.js';
import { attachFilesystem, type Extent } from '../alloc/filesystem.js';
import { AllocError } from '../alloc/errors.js';
import { RaceControl } from '../race/control.js';

export interface ClaimCheckRequest {
  fs: unknown;
  race: unknown;
  claims: BigInt64Array;
  barrier: Int32Array;
  worker: number;
  seed: number;
  iterations: number;
}

export interface ClaimCheckResult {
  allocations: number;
  /** Duplicates the claim array saw: this allocation, and the one whose claim was there. */
  seen: { mine: number; other: number }[];
  /** Allocations the oracle flagged as duplicates (OpenBucket.duplicate). */
  flagged: number[];
}

const api = {
  run(req: ClaimCheckRequest): ClaimCheckResult {
    const fs = attachFilesystem(req.fs, { placement: req.worker + 1 });
    fs.setRaceHook(RaceControl.attach(req.race).hookFor(req.worker, req.seed));
    const rng = streamRng(req.seed, 4000 + req.worker);
    const claims = req.claims;
    const out: ClaimCheckResult = { allocations: 0, seen: [], flagged: [] };
    const live: { e: Extent; op: bigint }[] = [];
    /** My live extents per claim (bucket, op): when it drops to 0 the claim is released. */
    const held = new Map<string, number>();
    const key = (bucket: number, op: bigint): string => `${bucket}:${op}`;
    const release = (bucket: number, op: bigint): void => { Atomics.compareExchange(claims, bucket, op, 0n); };
    const freeOne = (): void => {
      const i = rng.below(live.length);
      const { e, op } = live[i]!;
      live[i] = live[live.length - 1]!;
      live.pop();
      const k = key(e.bucket, op);
      const n = held.get(k)! - 1;
      if (n === 0) { held.delete(k); release(e.bucket, op); } else held.set(k, n);
      fs.free(e);
    };
    new StartBarrier(req.barrier, 0).arriveAndWait(30_000);
    for (let it = 0; it < req.iterations; it++) {
      const ob = fs.allocBucket();
      if (ob === null) {
        fs.discard(8);
        for (let k = 0; k < 4 && live.length > 0; k++) freeOne();
        continue;
      }
      out.allocations++;
      if (ob.duplicate) out.flagged.push(ob.opId);
      const op = BigInt(ob.opId);
      const before = Atomics.compareExchange(claims, ob.bucket, 0n, op);
      if (before !== 0n) out.seen.push({ mine: ob.opId, other: Number(before) });
      const writes = rng.below(3);
      let mine = 0;
      for (let w = 0; w < writes && ob.sectorsFree > 0; w++) {
        let e: Extent;
        try {
          e = fs.write(ob, Math.min(ob.sectorsFree, 1 + rng.below(3)));
        } catch (err) {
          if (!(err instanceof AllocError)) throw err;
          e = err.extent;
        }
        live.push({ e, op });
        mine++;
      }
      if (mine > 0) held.set(key(ob.bucket, op), mine);
      else release(ob.bucket, op);
      fs.put(ob);
      while (live.length > 12 || (live.length > 0 && rng.chance(0.4))) freeOne();
      if (it % 8 === 0) fs.discard(8);
    }
    while (live.length > 0) freeOne();
    fs.detach();
    return out;
  },
};

export type ClaimCheckApi = typeof api;
exposeToParent(api, parentPort);
