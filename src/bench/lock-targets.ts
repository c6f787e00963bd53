/**
 * The lock targets, reported and never asserted (speed is not tested): uncontended lock + unlock
 * within 1.5 × the cost of two compareExchanges, a 4-word seqlock read within 1.5 × six loads
 * (readBegin, four words, readRetry), and SpinLock and Mutex at 4 workers keeping at least 60% of
 * their 2-worker throughput. The units (one compareExchange, one load) are measured in the same
 * run as the locks; a miss comes with the Atomics operations the path was counted doing.
 */
import { availableParallelism } from 'node:os';
import { fmtAtomics } from './atomics-count.js';
import type { MicroResult } from './micro.js';
import type { ContendedResult } from './contended.js';

export interface LockTarget {
  target: string;
  measured: string;
  met: boolean;
  /** Why it costs what it does, for a miss. */
  note: string;
}

const LOCK_PAIRS = ['SpinLock lock+unlock', 'Mutex lock+unlock', 'SeqLock writer lock+unlock', 'RwLock read lock+unlock', 'RwLock write lock+unlock'];
const SEQ_READ = 'SeqLock 4-word read';

const ns = (x: number): string => `${x.toFixed(1)} ns`;
const rate = (r: number): string => (r >= 1e6 ? `${(r / 1e6).toFixed(2)} M/s` : `${(r / 1e3).toFixed(0)} k/s`);

export function lockTargets(micro: MicroResult | undefined, contended: ContendedResult | undefined): LockTarget[] {
  const out: LockTarget[] = [];
  if (micro !== undefined) {
    const cas = micro.raw.compareExchange;
    const limit = 1.5 * 2 * cas;
    for (const name of LOCK_PAIRS) {
      const e = micro.entries.find((x) => x.name === name);
      if (e === undefined) continue;
      const t = e.ns.median;
      out.push({
        target: `${name} ≤ 1.5 × 2 CAS (${ns(limit)})`,
        measured: `${ns(t)} (≈ ${(t / cas).toFixed(1)} CAS)`,
        met: t <= limit,
        note: t <= limit || e.atomics === null ? '' : `${e.atomics.total} Atomics operations per lock + unlock (${fmtAtomics(e.atomics)})`,
      });
    }
    const read = micro.entries.find((x) => x.name === SEQ_READ);
    if (read !== undefined) {
      const load = micro.raw.load;
      const readLimit = 1.5 * 6 * load;
      const t = read.ns.median;
      out.push({
        target: `${SEQ_READ} ≤ 1.5 × 6 loads (${ns(readLimit)})`,
        measured: `${ns(t)} (≈ ${(t / load).toFixed(1)} loads)`,
        met: t <= readLimit,
        note: t <= readLimit || read.atomics === null ? '' : `${read.atomics.total} Atomics operations per read (${fmtAtomics(read.atomics)}); readBegin and readRetry are calls a loop may not inline`,
      });
    }
  }
  for (const kind of ['spin', 'mutex'] as const) {
    const two = contended?.cells.find((c) => c.kind === kind && c.workers === 2);
    const four = contended?.cells.find((c) => c.kind === kind && c.workers === 4);
    if (two === undefined || four === undefined) continue;
    const ratio = four.pairsPerSec.median / two.pairsPerSec.median;
    const met = ratio >= 0.6;
    out.push({
      target: `${kind}: 4-worker throughput ≥ 60% of 2-worker`,
      measured: `${(ratio * 100).toFixed(0)}% (${rate(four.pairsPerSec.median)} vs ${rate(two.pairsPerSec.median)})`,
      met,
      note: met ? '' : `4 workers on ${availableParallelism()} cores: a holder descheduled mid-section stalls every waiter until it runs again; `
        + `rounds spread ${rate(four.pairsPerSec.min)}–${rate(four.pairsPerSec.max)} (4) and ${rate(two.pairsPerSec.min)}–${rate(two.pairsPerSec.max)} (2), so compare with other runs before tuning`,
    });
  }
  return out;
}
