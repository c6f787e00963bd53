/**
 * The browser entry point (`sab-alloc/browser`, and what a bundler gets for `sab-alloc` under the
 * `browser` condition): everything that runs without Node — the shared-memory plumbing, the worker
 * pool's core with its web adapter, the locks (with their async forms for a main thread), the
 * allocator with its oracle, the race policies, and the browser runs the page and the browser suite
 * use. Nothing it loads imports a `node:*` module (test/neutral.test.ts checks the whole graph).
 *
 * Worker entries (alloc-race-worker, lock-torture-worker, reproduce-worker) are not exported: a
 * bundler must see `new Worker(new URL('…-worker.js', import.meta.url), { type: 'module' })` where
 * the worker is created (see docs/browser.md and web/main.ts).
 */
export * from '../shared/neutral.js';
export * from '../locks/index.js';
export * from '../alloc/index.js';
export * from '../race/control.js';
export { describeTrace, describeTraceEntry } from '../race/trace-format.js';
export { raceRate, formatRate, type Rate } from '../torture/rates.js';
export { LOCK_KINDS, REAL_LOCK_KINDS, type LockKind } from '../torture/lock-kinds.js';
export { BUCKET_STATES, BucketCode, bucketState, readBucketStates, type BucketState } from './bucket-states.js';
export {
  AllocRace, normalizeAllocRace, type AllocRaceOptions, type AllocRaceParams, type AllocRaceResult, type AllocRaceSnapshot,
} from './alloc-race.js';
export { runLockTorture, type LockTortureOptions, type LockTortureResult } from './lock-torture.js';
export { reproduceInBrowser, type BrowserReproduceResult, type TimelineStep } from './reproduce.js';
export { runLockBench, type LockBenchFigure, type LockBenchOptions } from './lock-bench.js';
