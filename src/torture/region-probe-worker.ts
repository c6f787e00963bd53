/**
 * A tiny worker that attaches region handles posted to it and touches their memory, so tests can
 * check that a handle survives structured clone into a real worker thread and that the memory is
 * the same (a write here is visible to the creator) — or that an attach error is reported from there.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type AttachExpectation, attachRegion } from '../shared/region.js';
import { exposeToParent } from '../shared/worker-pool.js';

export interface ProbeResult {
  ok: boolean;
  /** Sum of the i32 section read with Atomics.load (when ok). */
  sum: number;
  error: string | null;
}

function probe(handle: unknown, expect: AttachExpectation, section: string, mark: number): ProbeResult {
  try {
    const region = attachRegion(handle, expect);
    const words = region.i32(section);
    let sum = 0;
    for (let i = 0; i < words.length; i++) sum += Atomics.load(words, i);
    if (words.length > 0) Atomics.store(words, words.length - 1, mark);
    return { ok: true, sum, error: null };
  } catch (e) {
    return { ok: false, sum: 0, error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

const api = {
  /** Attaches a handle passed in the call (structured clone over the Comlink port). */
  probe,
  /** Attaches the handle the worker was started with (workerData). */
  probeWorkerData(expect: AttachExpectation, section: string, mark: number): ProbeResult {
    return probe((workerData as { handle?: unknown } | null)?.handle, expect, section, mark);
  },
};

export type RegionProbeApi = typeof api;

exposeToParent(api, parentPort);
