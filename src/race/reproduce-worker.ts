/**
 * Worker side of reproduceReportedRace: one task of the reported interleaving. It attaches the
 * shared filesystem and race control, waits at the start barrier, then allocates one bucket, writes
 * into it and puts it — the race points inside those calls are where the script parks it.
 */
import { parentPort } from 'node:worker_threads';
import { exposeToParent } from '../shared/worker-pool.js';
import { StartBarrier } from '../shared/barrier.js';
import { attachFilesystem } from '../alloc/filesystem.js';
import { AllocError } from '../alloc/errors.js';
import type { WriteType } from '../alloc/types.js';
import { RaceControl } from './control.js';

export interface TaskRequest {
  fs: unknown;
  race: unknown;
  barrier: Int32Array;
  worker: number;
  writer: number;
  dataType: WriteType;
  sectors: number;
  timeoutMs: number;
}

/** What one task of the reproduction got: its bucket, gen, operation, offset, and any commit error. */
export interface TaskOutcome {
  worker: number;
  bucket: number;
  gen: number;
  opId: number;
  offset: number;
  errorKinds: string[];
  error: string | null;
}

const api = {
  run(req: TaskRequest): TaskOutcome {
    // Placed by task, not by attach order: extent ids (and so fsck's order of findings) repeat exactly.
    const fs = attachFilesystem(req.fs, { placement: req.worker + 1 });
    const rc = RaceControl.attach(req.race);
    fs.setRaceHook(rc.hookFor(req.worker));
    new StartBarrier(req.barrier, 0).arriveAndWait(req.timeoutMs);
    const ob = fs.allocBucket({ dataType: req.dataType, writer: req.writer });
    if (ob === null) return { worker: req.worker, bucket: -1, gen: -1, opId: -1, offset: -1, errorKinds: [], error: 'no free bucket' };
    let offset = -1;
    let errorKinds: string[] = [];
    let error: string | null = null;
    try {
      offset = fs.write(ob, req.sectors).offset;
    } catch (e) {
      if (!(e instanceof AllocError)) throw e;
      offset = e.extent.offset;
      errorKinds = e.kinds;
      error = e.message;
    }
    fs.put(ob);
    fs.detach();
    return { worker: req.worker, bucket: ob.bucket, gen: ob.gen, opId: ob.opId, offset, errorKinds, error };
  },
};

export type ReproduceWorkerApi = typeof api;
exposeToParent(api, parentPort);
