/**
 * The environment-neutral part of src/shared: regions, validation, PRNG streams, counters, the start
 * barrier, the worker pool's runtime-independent core and its web adapter. It imports nothing from
 * Node, so the browser entry point (src/browser/index.ts) and the `browser` condition of
 * `sab-alloc/shared` load this and not index.ts, which adds the Node adapter (worker-pool.ts).
 */
export * from './validate.js';
export * from './region.js';
export * from './prng.js';
export * from './counters.js';
export * from './barrier.js';
export { Pool, WorkerFailure, startPool, type SpawnedWorker, type StartPoolOptions, type WorkerAdapter, type WorkerDeath } from './pool.js';
export { exposeToHost, webWorkers, type WebWorkerLike, type WebWorkerStart } from './pool-web.js';
