export * from './shared/index.js';
export * from './locks/index.js';
