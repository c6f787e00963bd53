/**
 * Per-member allocator counters (one padded block of 64-bit counters per thread-registry member,
 * see shared/counters.ts): every candidate the scan looks at and why it was skipped, what the
 * allocation oracle found, and the member's share of the device's usage.
 *
 * Activity counters (allocs, commits, frees, discards, puts, and the scan's) are statistics, bumped
 * after the update they count: a thread that dies inside an update may leave that one uncounted.
 * What an invariant or a verdict rests on is counted inside the update's intent record instead, so
 * it is exact even across a crash: usage, and the oracle's duplicate and consequence counts.
 *
 * Usage — buckets and sectors by data type — is kept here, as each member's signed share, not as
 * shared totals: an update's intent record holds the member's counter values after the update, so a
 * recovering thread can finish a dead member's update without knowing whether an increment had
 * happened (a shared Atomics.add cannot be known to have happened or not). Totals are sums over all
 * members; the creating member's share starts with every bucket free.
 */

/** The counters `stats().counters` reports: the scan's looks and skips, activity, the oracle's duplicates. */
export const ALLOC_COUNTERS = [
  'allocs',
  'allocFailures',
  'reserveRefusals',
  'bucketsSeen',
  'skippedOpen',
  'skippedNotFree',
  'skippedNeedDiscard',
  /** Key lock / locked lookup: the candidate's record lock was busy (it is being updated), so it was skipped. */
  'skippedBusy',
  'revalidationRetries',
  'keylockRefusals',
  'commits',
  'frees',
  'discards',
  'puts',
  /** Publishes of a bucket that was not, in truth, free at the gen the scan read (the oracle). */
  'duplicateAllocations',
  /** Of those, by what the stale holder's writes broke (one duplicate may break several things). */
  'dupOverwrote',
  'dupStaleGen',
  'dupAwaitingDiscard',
  'dupMixedTypes',
  'dupShared',
  /** Duplicates put without a harmful write. */
  'dupLatent',
  /** Duplicates whose writes lost data: overwrote live data, stale gen, or into a bucket awaiting discard. */
  'dupLosesData',
  /** Duplicates whose writes only corrupted metadata (mixed types, two allocations in one bucket). */
  'dupMetadataOnly',
] as const;
/** The name of one of ALLOC_COUNTERS (the keys of `stats().counters`). */
export type AllocCounter = (typeof ALLOC_COUNTERS)[number];

const USAGE_NAMES = [
  'usageBucketsFree', 'usageBucketsNeedDiscard', 'usageBucketsUser', 'usageBucketsBtree', 'usageBucketsCached',
  'usageSectorsFree', 'usageSectorsNeedDiscard', 'usageSectorsUser', 'usageSectorsBtree', 'usageSectorsCached',
] as const;

/** Everything in a member's block: the public counters, then usage. */
export const MEMBER_COUNTERS = [...ALLOC_COUNTERS, ...USAGE_NAMES] as const;
export type MemberCounter = (typeof MEMBER_COUNTERS)[number];

/** Offset of a counter within a member's block. */
export const C = Object.fromEntries(MEMBER_COUNTERS.map((n, i) => [n, i])) as Record<MemberCounter, number>;

/** Offset of "buckets of data type t" (t a DataType code). */
export const usageBuckets = (t: number): number => ALLOC_COUNTERS.length + t;
/** Offset of "sectors of data type t". */
export const usageSectors = (t: number): number => ALLOC_COUNTERS.length + 5 + t;

