/**
 * A worker that stops inside an update so that a test can kill it there. It attaches the
 * filesystem, prepares the state a path needs (an open bucket with data for a write, a put bucket
 * with one extent for a free, an emptied bucket for a discard, …), then runs the path with a stage
 * hook that parks it — for good, until it is terminated — when the update reaches the chosen stage:
 * the lock taken, the intent record published, half of the update applied, all of it applied, the
 * intent cleared. It signals the test through a shared word first.
 */
import { parentPort } from 'node:worker_threads';
import { exposeToParent } from '../shared/worker-pool.js';
import { attachFilesystem, type Filesystem, type OpenBucket, type Extent } from '../alloc/filesystem.js';
import type { UpdateStage } from '../alloc/fs-core.js';

export type ParkPath = 'allocate' | 'write' | 'put' | 'free' | 'discard';

export interface ParkRequest {
  fs: unknown;
  path: ParkPath;
  kind: 'record' | 'publish' | 'unpin';
  stage: UpdateStage;
  /** [0] set to 1 once parked; [1] the bucket the update is about. */
  signal: Int32Array;
}

/** Prepares what the path needs; returns the call that runs it. */
function prepare(fs: Filesystem, path: ParkPath): () => unknown {
  if (path === 'allocate') return () => fs.allocBucket();
  const ob: OpenBucket = fs.allocBucket()!;
  if (path === 'write') {
    fs.write(ob, 2);
    return () => fs.write(ob, 3);
  }
  const e: Extent = fs.write(ob, 4);
  if (path === 'put') return () => fs.put(ob);
  fs.put(ob);
  if (path === 'free') return () => fs.free(e);
  fs.free(e);
  return () => fs.discard();
}

const api = {
  /** Never returns normally: it parks inside the update (or fails if the stage is never reached). */
  run(req: ParkRequest): string {
    const fs = attachFilesystem(req.fs);
    const call = prepare(fs, req.path);
    fs.setStageHook((kind, stage, target) => {
      if (kind !== req.kind || stage !== req.stage) return;
      Atomics.store(req.signal, 1, target);
      Atomics.store(req.signal, 0, 1);
      Atomics.notify(req.signal, 0);
      // Bounded: the test terminates us within moments; if it never does, fail loudly.
      for (let i = 0; i < 600; i++) Atomics.wait(req.signal, 2, 0, 100);
      throw new Error('park-worker: parked for 60 s and never terminated');
    });
    call();
    return `the ${req.path} never reached ${req.kind} ${req.stage}`;
  },
};

export type ParkWorkerApi = typeof api;
exposeToParent(api, parentPort);
