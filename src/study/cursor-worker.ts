/**
 * Cursor-study worker entry. Started once per study and kept; each run posts a fresh filesystem,
 * a fresh start barrier and a fresh mechanism block (cursor-probe.ts). The worker attaches,
 * installs its probe as the race hook, waits at the barrier, and runs its workload until the
 * deadline — or, in a first-duplicate run, until any worker's allocation turns out to be a duplicate.
 */
import { parentPort } from 'node:worker_threads';
import { exposeToParent } from '../shared/worker-pool.js';
import { StartBarrier } from '../shared/barrier.js';
import { attachFilesystem } from '../alloc/filesystem.js';
import { RaceControl, type WorkerHook } from '../race/control.js';
import { runWorkload } from '../torture/workload.js';
import { Probe, runCycles, type StudyRunRequest, type StudyRunResult } from './cursor-probe.js';

let hook: WorkerHook | null = null;
let me = -1;

const api = {
  init(req: { race: unknown; worker: number; seed: number }): number {
    const rc = RaceControl.attach(req.race);
    me = req.worker;
    hook = rc.hookFor(req.worker, req.seed);
    return me;
  },

  run(req: StudyRunRequest): StudyRunResult {
    if (hook === null) throw new Error('cursor-study worker: run before init');
    const fs = attachFilesystem(req.fs, { placement: me + 1 });
    const barrier = new StartBarrier(req.barrier, 0);
    const probe = new Probe(me, hook, fs, req.mech, req.workers, barrier, req.untilFirstDuplicate);
    fs.setRaceHook(probe);
    // As the torture runner sizes it (40% of the space, mean extent 2.5 sectors), but of the space
    // the fill left free, so a nearly full device is not asked to hold more than it has.
    const liveTarget = Math.max(8, Math.floor((fs.stats().buckets.free * fs.config.bucketSectors * 0.4) / 2.5 / req.workers));
    barrier.arriveAndWait(req.barrierTimeoutMs);
    const t0 = performance.now();
    probe.t0 = t0;
    const end = t0 + req.durationMs;
    const stop = (): boolean => barrier.stopRequested() || performance.now() >= end;
    let allocations: number;
    if (req.shape === 'cycle') {
      allocations = runCycles(fs, req.writeSectors, me + 1, stop);
    } else {
      allocations = runWorkload({
        worker: me, seed: req.seed, ops: Infinity, streams: 4, maxExtentSectors: 4, liveTarget, putProbability: 0.5, discardEvery: 8,
      }, {
        fs, stopRequested: stop, positionOf: () => null, recent: () => [], progress: () => {},
      }).allocations;
    }
    const elapsedMs = performance.now() - t0;
    fs.detach();
    return { worker: me, allocations, elapsedMs, mech: probe.m, firstDuplicate: probe.firstDuplicate };
  },
};

export type CursorWorkerApi = typeof api;
exposeToParent(api, parentPort);
