/**
 * Bench worker entry (compiled to dist/src/bench/worker.js; workers always load compiled JS).
 *
 * Started once per benchmark session and kept alive across rounds, so worker start-up (tens of ms)
 * is never inside a timed window. Each round the main thread posts a fresh filesystem handle and a
 * fresh start barrier; the worker attaches (untimed), arrives at the barrier, and when released runs
 * allocate + write + put + free cycles for a fixed duration by its own clock, then answers with its
 * counts and the time it actually ran. Comlink carries only set-up and results; the round itself
 * touches nothing but shared memory.
 */
import { parentPort, threadId } from 'node:worker_threads';
import { exposeToParent } from '../shared/worker-pool.js';
import { StartBarrier } from '../shared/barrier.js';
import { attachFilesystem } from '../alloc/filesystem.js';
import { RaceControl, type WorkerHook } from '../race/control.js';
import { CycleRunner, type CycleCounts } from './cycle.js';

export interface BenchInit {
  race: unknown;
  worker: number;
  seed: number;
}

export interface BenchRunRequest {
  fs: unknown;
  /** Three words: a StartBarrier made for this round. */
  barrier: Int32Array;
  durationMs: number;
  writeSectors: number;
  /**
   * Install this worker's race hook (the race sweep, whose delays it injects). Off for throughput:
   * even at policy none a hook costs an Atomics.load at every race point a cycle passes (nine), which
   * is not the allocator's cost.
   */
  raceHook: boolean;
  /** Cycles between clock checks: 1 when delays make a cycle long, more when it is ~1 µs. */
  checkEvery: number;
  barrierTimeoutMs: number;
}

export interface BenchRunResult extends CycleCounts {
  worker: number;
  /** How long this worker's loop ran (its own clock, from release to its last cycle). */
  elapsedMs: number;
}

let hook: WorkerHook | null = null;
let me = -1;

const api = {
  init(req: BenchInit): { threadId: number } {
    const rc = RaceControl.attach(req.race);
    me = req.worker;
    hook = rc.hookFor(req.worker, req.seed);
    return { threadId };
  },

  run(req: BenchRunRequest): BenchRunResult {
    if (hook === null) throw new Error('bench worker: run before init');
    const fs = attachFilesystem(req.fs);
    if (req.raceHook) fs.setRaceHook(hook);
    const runner = new CycleRunner(fs, req.writeSectors);
    const barrier = new StartBarrier(req.barrier, 0);
    const every = Math.max(1, req.checkEvery | 0);
    barrier.arriveAndWait(req.barrierTimeoutMs);
    const t0 = performance.now();
    const end = t0 + req.durationMs;
    let now = t0;
    for (;;) {
      for (let i = 0; i < every; i++) runner.cycle();
      now = performance.now();
      if (now >= end || barrier.stopRequested()) break;
    }
    return { ...runner.counts, worker: me, elapsedMs: now - t0 };
  },
};

export type BenchWorkerApi = typeof api;
exposeToParent(api, parentPort);
