/**
 * Torture worker entry. Control plane over Comlink (setup, run); everything hot goes through shared
 * memory: the filesystem, the race policy, the start barrier and the stop flag. `run` answers only
 * when the workload is over, so while it runs the main thread watches shared counters instead.
 */
import { parentPort, threadId } from 'node:worker_threads';
import { exposeToParent } from '../shared/worker-pool.js';
import { StartBarrier } from '../shared/barrier.js';
import { attachFilesystem, type Filesystem } from '../alloc/filesystem.js';
import type { RaceHook } from '../alloc/race-points.js';
import { RaceControl, type WorkerHook } from '../race/control.js';
import { Scheduler } from '../race/scheduler.js';
import { runWorkload, type WorkloadParams, type WorkloadResult } from './workload.js';

export interface SetupRequest {
  fs: unknown;
  race: unknown;
  barrier: Int32Array;
  worker: number;
  seed: number;
  controlled: boolean;
}

export interface KillPoint {
  point: number;
  pass: number;
  /** Word the victim sets (and notifies) once parked at its kill point. */
  signal: Int32Array;
}

export interface RunRequest {
  workload: WorkloadParams;
  barrierTimeoutMs: number;
  kill: KillPoint | null;
}

let fs: Filesystem | null = null;
let rc: RaceControl | null = null;
let hook: WorkerHook | null = null;
let sched: Scheduler | null = null;
let barrier: StartBarrier | null = null;

/** Parks this worker for good at its kill point so the main thread can terminate it there. */
function killable(inner: WorkerHook, k: KillPoint): RaceHook {
  let passes = 0;
  return {
    at(point, bucket, opId, lockHeld) {
      inner.at(point, bucket, opId, lockHeld);
      if (point !== k.point || lockHeld || ++passes !== k.pass) return;
      Atomics.store(k.signal, 0, 1);
      Atomics.notify(k.signal, 0);
      // Bounded: the main thread terminates us within moments; if it never does, fail loudly.
      for (let i = 0; i < 600; i++) Atomics.wait(k.signal, 1, 0, 100);
      throw new Error('kill point: parked for 60 s and never terminated');
    },
  };
}

const api = {
  setup(req: SetupRequest): { member: number; threadId: number } {
    fs = attachFilesystem(req.fs, { placement: req.worker + 1 });
    rc = RaceControl.attach(req.race);
    hook = rc.hookFor(req.worker, req.seed);
    fs.setRaceHook(hook);
    barrier = new StartBarrier(req.barrier, 0);
    if (req.controlled) {
      sched = new Scheduler(rc);
      sched.attach(hook);
    }
    return { member: fs.threadSlot, threadId };
  },

  run(req: RunRequest): WorkloadResult {
    if (fs === null || rc === null || hook === null || barrier === null) throw new Error('run before setup');
    const h = hook;
    const r = rc;
    const b = barrier;
    if (req.kill !== null) fs.setRaceHook(killable(h, req.kill));
    b.arriveAndWait(req.barrierTimeoutMs);
    sched?.begin(h.worker);
    try {
      const result = runWorkload(req.workload, {
        fs,
        stopRequested: () => b.stopRequested(),
        positionOf: (w) => (w < r.workers ? r.position(w) : null),
        recent: () => h.recent(),
        progress: (n) => h.setPhase(1, n),
      });
      h.setPhase(2, result.allocations);
      return result;
    } finally {
      // Even a failing worker hands the turn on, so the others are not left waiting for it.
      sched?.finish(h.worker);
    }
  },
};

export type TortureWorkerApi = typeof api;
exposeToParent(api, parentPort);
