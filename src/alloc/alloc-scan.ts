/**
 * The two allocators' scans — bcachefs's bch2_bucket_alloc_early and bch2_bucket_alloc_freelist —
 * and what they share: reading a candidate's record. Each hands every candidate that looks free and
 * not open to tryAllocBucket (alloc-publish.ts), where the race window closes or, unfixed, does not.
 *
 *   early     walks the bucket table itself, bucket by bucket, reading every record
 *   freelist  walks the free-space index (next member at or after b), reading only free candidates
 */
import type { FsCore } from './fs-core.js';
import { C } from './counters.js';
import { RECORD_WORDS, Rec, stateType } from './bucket-table.js';
import { DataType } from './types.js';
import { RacePoint } from './race-points.js';
import { tryAllocBucket, type AllocAttempt } from './alloc-publish.js';

/**
 * Reads candidate b's record: its state word when it looks free, not mid-update and not open, else
 * -1 (the reason counted). The sequence the seqlock fix re-checks is read first and left in
 * core.candidateSeq.
 */
export function readCandidate(core: FsCore, b: number, opId: number): number {
  const ctr = core.ctr;
  const base = core.ctrBase;
  ctr[base + C.bucketsSeen]!++;
  const at = b * RECORD_WORDS;
  const seq = core.seqlockFix ? Atomics.load(core.records, at + Rec.seq) : 0;
  const st = Atomics.load(core.records, at + Rec.state);
  const type = stateType(st);
  if (type !== DataType.free) {
    ctr[base + (type === DataType.need_discard ? C.skippedNeedDiscard : C.skippedNotFree)]!++;
    return -1;
  }
  if ((seq & 1) !== 0) {
    // Mid-update: whatever the state says is about to change.
    ctr[base + C.revalidationRetries]!++;
    return -1;
  }
  if (core.open.isOpen(b)) {
    ctr[base + C.skippedOpen]!++;
    return -1;
  }
  core.candidateSeq = seq;
  if (core.hook !== null) core.hook.at(RacePoint.candidateRead, b, opId, false);
  return st;
}

/** The early allocator: every bucket in [lo, hi), in order. True when one was published. */
export function scanEarly(core: FsCore, lo: number, hi: number, p: AllocAttempt): boolean {
  for (let b = lo; b < hi; b++) {
    const st = readCandidate(core, b, p.opId);
    if (st < 0) continue;
    if (tryAllocBucket(core, b, st, core.candidateSeq, p)) return true;
    if (core.reserveHit) return false;
  }
  return false;
}

/** The freelist allocator: the free-space index's members in [lo, hi), in order. True when one was published. */
export function scanFreelist(core: FsCore, lo: number, hi: number, p: AllocAttempt): boolean {
  let b = lo;
  while (b < hi) {
    const cand = core.freeSpace.next(b, hi);
    if (cand < 0) break;
    b = cand + 1;
    const st = readCandidate(core, cand, p.opId);
    if (st < 0) continue;
    if (tryAllocBucket(core, cand, st, core.candidateSeq, p)) return true;
    if (core.reserveHit) return false;
  }
  return false;
}
