/**
 * watchWorker: the Node side of the ThreadRegistry's death reports. Shared memory cannot see a
 * thread die; the code that spawned the Worker can, from its `exit` and `error` events. This marks
 * the worker's members dead then, so robust locks it held are taken over by their waiters at once.
 *
 * Node-only (it takes a worker_threads Worker), which is why it lives here and not in src/locks:
 * src/locks imports nothing from `node:*`. A browser page does the same from its Worker's `error`
 * event or a heartbeat, calling registry.markThreadDead / markOwnerDead itself.
 */
import type { Worker } from 'node:worker_threads';

/**
 * Where deaths are reported: a ThreadRegistry (src/locks) has this method. Declared here, by shape,
 * so that src/shared depends on nothing above it.
 */
export interface DeathRegistry {
  /** Marks every alive member of thread `threadId` dead; returns the members marked. */
  markThreadDead(threadId: number): number[];
}

/**
 * Watches `worker`: on its `exit` or `error` event, every alive member with its thread id becomes
 * dead. `onDeath` (optional) gets the members marked. Returns a function that stops watching.
 *
 * `error` fires when an uncaught exception ends the worker: its JavaScript runs no further, so its
 * locks are already abandoned and waiting for `exit` would only delay the survivors.
 */
export function watchWorker(worker: Worker, registry: DeathRegistry, onDeath?: (members: number[]) => void): () => void {
  // worker.threadId reads -1 once the worker has exited: capture it while it is alive.
  const threadId = worker.threadId;
  if (threadId < 0) throw new RangeError('watchWorker: the worker has already exited (threadId -1)');
  let done = false;
  const report = (): void => {
    if (done) return;
    done = true;
    const members = registry.markThreadDead(threadId);
    onDeath?.(members);
  };
  const onError = (): void => report();
  worker.on('exit', report);
  worker.on('error', onError);
  return () => {
    worker.off('exit', report);
    worker.off('error', onError);
  };
}
