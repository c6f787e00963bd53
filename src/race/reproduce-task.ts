/**
 * One task of the reported interleaving, as both runtimes run it: attach the shared filesystem and
 * race control, wait at the start barrier, then allocate one bucket, write into it and put it — the
 * race points inside those calls are where the script parks it. The Node worker
 * (reproduce-worker.ts) runs it as is; the browser's (src/browser/reproduce-worker.ts) wraps the
 * race hook to log each step. Runtime-neutral: imports nothing from Node.
 */
import { StartBarrier } from '../shared/barrier.js';
import { attachFilesystem, type Filesystem } from '../alloc/filesystem.js';
import { AllocError } from '../alloc/errors.js';
import type { RaceHook } from '../alloc/race-points.js';
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

/** Runs the task; `wrapHook` (optional) wraps the script's race hook, e.g. to log every step. */
export function runReproduceTask(req: TaskRequest, wrapHook: (fs: Filesystem, hook: RaceHook) => RaceHook = (_fs, hook) => hook): TaskOutcome {
  // Placed by task, not by attach order: extent ids (and so fsck's order of findings) repeat exactly.
  const fs = attachFilesystem(req.fs, { placement: req.worker + 1 });
  const rc = RaceControl.attach(req.race);
  fs.setRaceHook(wrapHook(fs, rc.hookFor(req.worker)));
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
}
