export * from './shared/index.js';
export * from './locks/index.js';
export * from './alloc/index.js';
export * from './race/index.js';
export * from './torture/index.js';
