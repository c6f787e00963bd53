/**
 * The browser suite's worker factories. Each is the literal pattern Vite looks for
 * (`new Worker(new URL('…', import.meta.url), { type: 'module' })`), so the worker entries are served
 * (and would be bundled) straight from src/ — no build step, no dist/.
 */
import { webWorkers } from '../../../src/shared/pool-web.js';

export const allocRaceWorkers = webWorkers(() => new Worker(new URL('../../../src/browser/alloc-race-worker.ts', import.meta.url), { type: 'module' }));
export const lockTortureWorkers = webWorkers(() => new Worker(new URL('../../../src/browser/lock-torture-worker.ts', import.meta.url), { type: 'module' }));
export const reproduceWorkers = webWorkers(() => new Worker(new URL('../../../src/browser/reproduce-worker.ts', import.meta.url), { type: 'module' }));
