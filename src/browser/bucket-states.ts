/**
 * What the page's bucket map shows: each bucket's state, read lock-free from shared memory by any
 * thread (the page's main thread reads it every frame while workers allocate). A snapshot, not a
 * consistent cut: each bucket's state is one Atomics.load of its record's packed state word and one
 * walk of its open-bucket hash chain (a hint, as bch2_bucket_is_open is).
 */
import type { Filesystem } from '../alloc/filesystem.js';
import { RECORD_WORDS, Rec, stateType } from '../alloc/bucket-table.js';
import { DataType } from '../alloc/types.js';

/** A bucket's state on the map. `open` wins over the record's data type: a writer holds it now. */
export const BUCKET_STATES = ['free', 'open', 'user', 'btree', 'need_discard', 'cached'] as const;
/** One of BUCKET_STATES: what the page's bucket map colours a bucket by. */
export type BucketState = (typeof BUCKET_STATES)[number];
/** The code of each state in a states array. */
export const BucketCode = { free: 0, open: 1, user: 2, btree: 3, need_discard: 4, cached: 5 } as const;

const BY_TYPE: Record<number, number> = {
  [DataType.free]: BucketCode.free,
  [DataType.need_discard]: BucketCode.need_discard,
  [DataType.user]: BucketCode.user,
  [DataType.btree]: BucketCode.btree,
  [DataType.cached]: BucketCode.cached,
};

/** Fills `out` (one byte a bucket) with every bucket's BucketCode and returns it. */
export function readBucketStates(fs: Filesystem, out: Uint8Array = new Uint8Array(fs.config.buckets)): Uint8Array {
  const rec = fs.records;
  const open = fs.open;
  const n = Math.min(out.length, fs.config.buckets);
  for (let b = 0; b < n; b++) {
    if (open.isOpen(b)) {
      out[b] = BucketCode.open;
      continue;
    }
    out[b] = BY_TYPE[stateType(Atomics.load(rec, b * RECORD_WORDS + Rec.state))] ?? BucketCode.free;
  }
  return out;
}

/** One bucket's state by name. */
export function bucketState(fs: Filesystem, b: number): BucketState {
  if (fs.open.isOpen(b)) return 'open';
  return BUCKET_STATES[BY_TYPE[stateType(Atomics.load(fs.records, b * RECORD_WORDS + Rec.state))] ?? BucketCode.free]!;
}
