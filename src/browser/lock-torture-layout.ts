/**
 * Shared words of the browser lock torture (lock-torture.ts). Three Int32Arrays over their own
 * SharedArrayBuffers, so that the lock, the record and the control words never share a cache line:
 *
 *   control  [0..2]  StartBarrier (arrived, go, stop)
 *   lock     [0..1]  the lock under test (seqlock: sequence, writer word; the others use word 0)
 *   data     [0]     canary: 0 while nobody is inside the critical section, else the owner id inside
 *            [1]     last: owner id of the last critical section; a section that finds another's
 *                    id here is a hand-off, the evidence that the workers took turns rather than
 *                    running one after the other
 *            [2..]   the record: R words, each incremented once per critical section with plain
 *                    reads and writes
 */

/** Word indices (see the header). */
export const LT = { barrier: 0, canary: 0, last: 1, record: 2 } as const;

/** What each torture worker is asked to do. */
export interface LockTortureRequest {
  control: Int32Array;
  lock: Int32Array;
  data: Int32Array;
  kind: string;
  iterations: number;
  recordWords: number;
  /** Steps of plain arithmetic between sections, outside the lock. */
  outside: number;
  timeoutMs: number;
}

/** What one worker saw: caught exclusion failures, and when its loop ran (epoch ms). */
export interface LockTortureWorkerResult {
  canaryTrips: number;
  /** Sections that followed another worker's section. */
  handoffs: number;
  startedAt: number;
  endedAt: number;
  ownerId: number;
}
