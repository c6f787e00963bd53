export * from './neutral.js';
export * from './worker-pool.js';
