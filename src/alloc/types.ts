/**
 * The allocator's vocabulary: data types, watermarks, allocators and fixes, as small integers in
 * shared memory and as names at the API. DOMAIN.md §3 defines what each means.
 */

/** The names of a { name: code } table, ordered by code (codes are dense from the first). */
export function namesByCode<K extends string>(table: Record<K, number>): K[] {
  return (Object.keys(table) as K[]).sort((a, b) => table[a] - table[b]);
}

/** A bucket's data type, derived from its record (never set freely). */
export const DataType = { free: 0, need_discard: 1, user: 2, btree: 3, cached: 4 } as const;
export type DataTypeName = keyof typeof DataType;
export const DATA_TYPE_NAMES: readonly DataTypeName[] = namesByCode(DataType);

/** Types a writer can allocate a bucket for. */
export type WriteType = 'user' | 'btree' | 'cached';
export const WRITE_TYPES: readonly WriteType[] = ['user', 'btree', 'cached'];

/**
 * How much of the open-bucket table an allocation may use: a normal allocation leaves the last half
 * of the slots free, btree the last quarter, reclaim may take them all — so metadata and reclaim can
 * always make progress when user writes have taken every slot they may.
 */
export type Watermark = 'normal' | 'btree' | 'reclaim';
export const WATERMARKS: readonly Watermark[] = ['normal', 'btree', 'reclaim'];

export type AllocatorKind = 'early' | 'freelist';
export const ALLOCATORS: readonly AllocatorKind[] = ['early', 'freelist'];

/**
 * none: under the freelist lock only "is it open?" is checked (the 2023 bug).
 * seqlock: the record's sequence count seen while scanning is re-checked under the freelist lock.
 * keylock: the candidate's record is read-locked, re-read, and held across check and publish.
 */
export type FixKind = 'none' | 'seqlock' | 'keylock';
export const FIXES: readonly FixKind[] = ['none', 'seqlock', 'keylock'];

export type FreelistLookup = 'locked' | 'unlocked';
export const FREELIST_LOOKUPS: readonly FreelistLookup[] = ['locked', 'unlocked'];

/** Record flags (DOMAIN.md §3). */
export const Flag = { need_discard: 1, need_inc_gen: 2 } as const;

/** Kinds of error a commit or allocation records in the shared error log. */
export const ErrorKind = { duplicate_backpointer: 1, data_type_mismatch: 2, gen_mismatch: 3 } as const;
export type ErrorKindName = keyof typeof ErrorKind;
export const ERROR_KIND_NAMES: readonly ErrorKindName[] = namesByCode(ErrorKind);

/** gen a is newer than gen b, with u8 wraparound (bcachefs gen_after). */
export function genAfter(a: number, b: number): boolean {
  return ((a - b) << 24) >> 24 > 0;
}
