/**
 * Exploration worker entry. `setup` attaches the filesystem (placement worker + 1, so its extent
 * entries do not depend on attach order), the race control and the exploration's shared state, and
 * installs the engine as its race hook's scheduling point. `loop` then runs one execution per epoch
 * the main thread starts, on a fresh thread-local view of memory the main thread has just reset, and
 * returns when told to quit. Comlink carries only these two calls; executions go through shared memory.
 */
import { parentPort } from 'node:worker_threads';
import { exposeToParent } from '../shared/worker-pool.js';
import { attachFilesystem, Filesystem } from '../alloc/filesystem.js';
import { FsCore } from '../alloc/fs-core.js';
import { RaceControl, type WorkerHook } from './control.js';
import { WordMap } from './explore-footprint.js';
import { EPOCH_QUIT, ExploreShared } from './explore-shared.js';
import { ExploreEngine } from './explore-engine.js';
import { runProgram, type ProgramSpec } from './explore-program.js';

export interface ExploreSetup {
  fs: unknown;
  race: unknown;
  explore: unknown;
  worker: number;
  program: ProgramSpec;
}

let base: Filesystem | null = null;
let engine: ExploreEngine | null = null;
let hook: WorkerHook | null = null;
let program: ProgramSpec | null = null;
let placement = 0;

const api = {
  setup(req: ExploreSetup): { member: number } {
    placement = req.worker + 1;
    const fs = attachFilesystem(req.fs, { placement });
    const rc = RaceControl.attach(req.race);
    const sh = ExploreShared.attach(req.explore);
    const c = fs.config;
    const e = new ExploreEngine(sh, rc, { worker: req.worker, member: fs.member, placement }, fs.region.buffers, new WordMap(fs.region, c), {
      buckets: c.buckets, slots: c.openBuckets, early: c.allocator === 'early', cursorFix: c.cursorFix, lockCandidate: fs.core.lockCandidate,
    });
    const h = rc.hookFor(req.worker);
    h.onSchedulePoint = (point) => e.onPoint(point);
    base = fs;
    engine = e;
    hook = h;
    program = req.program;
    return { member: fs.member };
  },

  /** Runs executions until the main thread says quit; returns how many ran. */
  loop(idleTimeoutMs: number): number {
    if (base === null || engine === null || hook === null || program === null) throw new Error('explore worker: loop before setup');
    const b = base;
    const e = engine;
    const h = hook;
    const p = program;
    let epoch = 0;
    let runs = 0;
    for (;;) {
      epoch = e.awaitEpoch(epoch, idleTimeoutMs);
      if (epoch === EPOCH_QUIT) return runs;
      e.run(() => {
        // A fresh view each execution: its thread-local state (the extent claim hint above all)
        // starts as it did in every other execution, over memory reset to the same image.
        const fs = new Filesystem(new FsCore(b.core.region, b.config, b.member, placement));
        fs.setRaceHook(h);
        runProgram(fs, p, e);
      });
      runs++;
    }
  },
};

export type ExploreWorkerApi = typeof api;
exposeToParent(api, parentPort);
