/**
 * The allocation oracle's bookkeeping. At each publish (alloc-publish.ts) the oracle decides whether
 * the bucket was in truth free at the gen being published; a publish that was not is a *duplicate
 * allocation*, counted once, there. Its open slot carries the verdict in its `oracle` word, and every
 * commit through that slot adds what the write broke (commit.ts). When the slot is put — by its
 * holder, or by recovery after the holder died — the duplicate is tallied by consequence: each kind
 * its writes caused, or `latent` when it wrote nothing harmful.
 *
 *   overwrote        a write covered a sector of another allocation's live extent
 *   staleGen         a write carried a gen the bucket no longer has: the data is invisible
 *   awaitingDiscard  a write landed in a bucket emptied and waiting for discard, which would wipe it
 *   mixedTypes       a write of one data type into a bucket holding dirty data of another
 *   shared           a write beside another allocation's live data at the same gen (no sector shared)
 *
 * and by class, each duplicate once: it *lost data* (overwrote, staleGen or awaitingDiscard), it
 * only corrupted metadata (mixedTypes or shared: the data is there, the accounting is wrong), or it
 * was *latent*.
 */
import { C } from './counters.js';
import { addCounterTarget, type IntentView } from './intents.js';

export const OracleBit = {
  duplicate: 1, overwrote: 2, staleGen: 4, awaitingDiscard: 8, mixedTypes: 16, shared: 32,
} as const;

const TALLY: readonly [number, number][] = [
  [OracleBit.overwrote, C.dupOverwrote],
  [OracleBit.staleGen, C.dupStaleGen],
  [OracleBit.awaitingDiscard, C.dupAwaitingDiscard],
  [OracleBit.mixedTypes, C.dupMixedTypes],
  [OracleBit.shared, C.dupShared],
];

/**
 * Adds the consequence counters of a duplicate's slot being put to intent record `v` (the putting
 * member's counters, whose current values are at `ctr[base + …]`). Nothing for a slot that was not
 * a duplicate.
 */
export function tallyConsequences(v: IntentView, oracle: number, ctr: Float64Array, base: number): void {
  if ((oracle & OracleBit.duplicate) === 0) return;
  let harmed = false;
  for (const [bit, counter] of TALLY) {
    if ((oracle & bit) === 0) continue;
    harmed = true;
    addCounterTarget(v, counter, ctr[base + counter]! + 1);
  }
  if (!harmed) addCounterTarget(v, C.dupLatent, ctr[base + C.dupLatent]! + 1);
  else if ((oracle & LOSES_DATA) !== 0) addCounterTarget(v, C.dupLosesData, ctr[base + C.dupLosesData]! + 1);
  else addCounterTarget(v, C.dupMetadataOnly, ctr[base + C.dupMetadataOnly]! + 1);
}

/** The consequences after which the data a duplicate wrote (or overwrote) is gone. */
const LOSES_DATA = OracleBit.overwrote | OracleBit.staleGen | OracleBit.awaitingDiscard;
