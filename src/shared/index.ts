export * from './validate.js';
export * from './region.js';
export * from './prng.js';
export * from './counters.js';
export * from './barrier.js';
export * from './worker-pool.js';
export * from './watch-worker.js';
