/**
 * Per-thread allocator counters (one padded block per attached thread, see shared/counters.ts):
 * every candidate the scan looks at and why it was skipped, so a run can say where the time went.
 */
export const ALLOC_COUNTERS = [
  'allocs',
  'allocFailures',
  'reserveRefusals',
  'bucketsSeen',
  'skippedOpen',
  'skippedNotFree',
  'skippedNeedDiscard',
  'revalidationRetries',
  'keylockRefusals',
  'commits',
  'frees',
  'discards',
  'puts',
] as const;
export type AllocCounter = (typeof ALLOC_COUNTERS)[number];
