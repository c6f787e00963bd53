export * from './neutral.js';
export * from './worker-pool.js';
export * from './watch-worker.js';
