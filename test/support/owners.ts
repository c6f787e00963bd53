/**
 * One thread playing several: owner ids are what lock words record, so calling as another owner id
 * (setOwnerId) is exactly what another thread's calls look like to a lock.
 */
import { currentOwnerId, setOwnerId } from '../../src/locks/index.js';

/** This thread's own owner id. */
export const ME = currentOwnerId();

/** n fresh shared words. */
export function words(n = 4): Int32Array {
  return new Int32Array(new SharedArrayBuffer(n * 4));
}

/** Runs `fn` as owner `id`, then switches back to ME. */
export function as<T>(id: number, fn: () => T): T {
  setOwnerId(id);
  try {
    return fn();
  } finally {
    setOwnerId(ME);
  }
}
