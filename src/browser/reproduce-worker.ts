/**
 * Web Worker entry of the browser reproduction of the reported interleaving (reproduce.ts): one task,
 * as src/race/reproduce-task.ts runs it under Node too, plus a step log. At every race point, before
 * the script may park it, the task appends to the shared log who it is, where, and the contested
 * bucket's state as it finds it on arrival (see reproduce.ts for the log's words).
 */
import { exposeToHost } from '../shared/pool-web.js';
import type { Filesystem } from '../alloc/filesystem.js';
import type { RaceHook } from '../alloc/race-points.js';
import { RECORD_WORDS, Rec } from '../alloc/bucket-table.js';
import { Slot } from '../alloc/open-buckets.js';
import { OracleBit } from '../alloc/oracle.js';
import { runReproduceTask, type TaskOutcome, type TaskRequest } from '../race/reproduce-task.js';
import { BUCKET_STATES, bucketState } from './bucket-states.js';
import { LOG_HEADER, LOG_WORDS } from './reproduce-log.js';

export interface BrowserTaskRequest extends TaskRequest {
  log: Int32Array;
  /** The contested bucket K. */
  contested: number;
}

/**
 * Valid open-bucket slots holding bucket b, and whether one of them is a duplicate allocation (the
 * oracle's verdict, recorded in the slot at publish).
 */
function openSlots(fs: Filesystem, b: number): { count: number; duplicate: boolean } {
  let count = 0;
  let duplicate = false;
  for (let s = 1; s < fs.config.openBuckets; s++) {
    if (fs.open.field(s, Slot.valid) !== 1 || fs.open.field(s, Slot.bucket) !== b) continue;
    count++;
    if ((fs.open.field(s, Slot.oracle) & OracleBit.duplicate) !== 0) duplicate = true;
  }
  return { count, duplicate };
}

function logging(fs: Filesystem, inner: RaceHook, worker: number, log: Int32Array, k: number): RaceHook {
  const capacity = Math.floor((log.length - LOG_HEADER) / LOG_WORDS);
  return {
    at(point, bucket, opId, lockHeld) {
      const i = Atomics.add(log, 0, 1);
      if (i < capacity) {
        const at = LOG_HEADER + i * LOG_WORDS;
        Atomics.store(log, at, worker);
        Atomics.store(log, at + 1, point);
        Atomics.store(log, at + 2, bucket);
        Atomics.store(log, at + 3, opId);
        const open = openSlots(fs, k);
        Atomics.store(log, at + 4, BUCKET_STATES.indexOf(bucketState(fs, k)));
        Atomics.store(log, at + 5, open.count);
        Atomics.store(log, at + 6, Atomics.load(fs.records, k * RECORD_WORDS + Rec.dirty));
        Atomics.store(log, at + 7, open.duplicate ? 1 : 0);
        Atomics.store(log, at + 8, 1);
      }
      inner.at(point, bucket, opId, lockHeld);
    },
  };
}

const api = {
  run(req: BrowserTaskRequest): TaskOutcome {
    return runReproduceTask(req, (fs, hook) => logging(fs, hook, req.worker, req.log, req.contested));
  },
};

export type BrowserReproduceWorkerApi = typeof api;
void exposeToHost(api);
