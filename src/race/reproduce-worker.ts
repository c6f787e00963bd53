/**
 * Worker side of reproduceReportedRace: one task of the reported interleaving (reproduce-task.ts),
 * served to the parent over Comlink.
 */
import { parentPort } from 'node:worker_threads';
import { exposeToParent } from '../shared/worker-pool.js';
import { runReproduceTask, type TaskOutcome, type TaskRequest } from './reproduce-task.js';

export type { TaskOutcome, TaskRequest } from './reproduce-task.js';

const api = {
  run(req: TaskRequest): TaskOutcome {
    return runReproduceTask(req);
  },
};

export type ReproduceWorkerApi = typeof api;
exposeToParent(api, parentPort);
