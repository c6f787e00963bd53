/**
 * Web Worker entry of an allocator race run (alloc-race.ts): the torture workload (xfstests
 * generic/113 shape, src/torture/workload.ts) against the shared filesystem, with the run's race
 * policy at every race point. Control plane over Comlink (setup, run); everything hot is in shared
 * memory. Each allocation the oracle calls a duplicate is also counted against its bucket in the
 * run's `marks` array, which is how the page knows which cells to flash.
 */
import { exposeToHost } from '../shared/pool-web.js';
import { StartBarrier } from '../shared/barrier.js';
import { attachFilesystem, type Filesystem } from '../alloc/filesystem.js';
import type { AllocRequest } from '../alloc/request.js';
import { RaceControl } from '../race/control.js';
import { runWorkload, type WorkloadParams, type WorkloadResult } from '../torture/workload.js';

/** What a worker needs: the shared structures' handles and its place in the run. */
export interface AllocRaceSetup {
  fs: unknown;
  race: unknown;
  barrier: Int32Array;
  /** One word a bucket: duplicate allocations of that bucket (Atomics.add by the worker that made it). */
  marks: Int32Array;
  /** One word a worker: allocations so far (the page's per-worker throughput). */
  progress: Int32Array;
  worker: number;
  seed: number;
}

let fs: Filesystem | null = null;
let setupReq: AllocRaceSetup | null = null;
let rc: RaceControl | null = null;

const api = {
  setup(req: AllocRaceSetup): number {
    fs = attachFilesystem(req.fs, { placement: req.worker + 1 });
    rc = RaceControl.attach(req.race);
    setupReq = req;
    return fs.member;
  },

  run(workload: WorkloadParams, barrierTimeoutMs: number): WorkloadResult {
    if (fs === null || setupReq === null || rc === null) throw new Error('run before setup');
    const real = fs;
    const { marks, progress, worker, barrier: words } = setupReq;
    const hook = rc.hookFor(worker, setupReq.seed);
    real.setRaceHook(hook);
    // The workload sees the filesystem through a view whose allocBucket also marks duplicates.
    const watched = Object.create(real) as Filesystem;
    watched.allocBucket = (request?: AllocRequest) => {
      const ob = real.allocBucket(request);
      if (ob !== null && ob.duplicate) Atomics.add(marks, ob.bucket, 1);
      return ob;
    };
    const barrier = new StartBarrier(words, 0);
    barrier.arriveAndWait(barrierTimeoutMs);
    try {
      return runWorkload(workload, {
        fs: watched,
        stopRequested: () => barrier.stopRequested(),
        positionOf: () => null,
        recent: () => hook.recent(),
        progress: (n) => { Atomics.store(progress, worker, n); },
      });
    } finally {
      real.detach();
      fs = null;
    }
  },
};

export type AllocRaceWorkerApi = typeof api;
void exposeToHost(api);
