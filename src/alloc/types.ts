/**
 * The allocator's vocabulary: data types, watermarks, allocators and fixes, as small integers in
 * shared memory and as names at the API. docs/design.md defines what each means.
 */

/** The names of a { name: code } table, ordered by code (codes are dense from the first). */
export function namesByCode<K extends string>(table: Record<K, number>): K[] {
  return (Object.keys(table) as K[]).sort((a, b) => table[a] - table[b]);
}

/** A bucket's data type, derived from its record (never set freely). */
export const DataType = { free: 0, need_discard: 1, user: 2, btree: 3, cached: 4 } as const;
/** A bucket data type's name: free, need_discard, user, btree or cached. */
export type DataTypeName = keyof typeof DataType;
/** Data type names indexed by their DataType code. */
export const DATA_TYPE_NAMES: readonly DataTypeName[] = namesByCode(DataType);

/** Types a writer can allocate a bucket for. */
export type WriteType = 'user' | 'btree' | 'cached';
/** Every WriteType, for validation and option lists. */
export const WRITE_TYPES: readonly WriteType[] = ['user', 'btree', 'cached'];
/** A Map, so that a name such as "toString" is unknown rather than a prototype member. */
export const WRITE_TYPE_CODES: ReadonlyMap<string, number> = new Map([['user', DataType.user], ['btree', DataType.btree], ['cached', DataType.cached]]);

/** A write type's DataType code, -1 for anything else (hot paths: no Map, no prototype lookup). */
export function writeTypeCode(name: unknown): number {
  return name === 'user' ? DataType.user : name === 'btree' ? DataType.btree : name === 'cached' ? DataType.cached : -1;
}

/**
 * How much of the open-bucket table an allocation may use: a normal allocation leaves the last half
 * of the slots free, btree the last quarter, reclaim may take them all — so metadata and reclaim can
 * always make progress when user writes have taken every slot they may.
 */
export type Watermark = 'normal' | 'btree' | 'reclaim';
/** Every Watermark, from normal (leaves the most slots in reserve) to reclaim (may take them all). */
export const WATERMARKS: readonly Watermark[] = ['normal', 'btree', 'reclaim'];
/** A watermark's code, as a validated request carries it and a slot records it: 0 normal, 1 btree, 2 reclaim. */
export const WATERMARK_CODES: ReadonlyMap<string, number> = new Map([['normal', 0], ['btree', 1], ['reclaim', 2]]);

/**
 * Which allocator scans for a free bucket: `early` walks the alloc records themselves, `freelist`
 * walks the free-space index (bcachefs had both).
 */
export type AllocatorKind = 'early' | 'freelist';
/** Every AllocatorKind. */
export const ALLOCATORS: readonly AllocatorKind[] = ['early', 'freelist'];

/**
 * none: under the freelist lock only "is it open?" is checked (the 2023 bug).
 * seqlock: the record's sequence count seen while scanning is re-checked under the freelist lock.
 * keylock: the candidate's record is read-locked, re-read, and held across check and publish.
 */
export type FixKind = 'none' | 'seqlock' | 'keylock';
/** Every FixKind, the unfixed code first. */
export const FIXES: readonly FixKind[] = ['none', 'seqlock', 'keylock'];

/**
 * Freelist allocator only: `locked` tries each candidate's record read lock, re-reads the record and
 * holds the lock across check and publish (the key lock's shape); `unlocked` checks only "is it open?".
 */
export type FreelistLookup = 'locked' | 'unlocked';
/** Every FreelistLookup. */
export const FREELIST_LOOKUPS: readonly FreelistLookup[] = ['locked', 'unlocked'];

/**
 * Record flags. need_discard and need_inc_gen as in bcachefs; `emptied` is the model's own: set when
 * the bucket's data drops to nothing during this gen, cleared when the gen moves. A write into an
 * emptied bucket by any allocation but the one whose data it held is a write the discard would wipe.
 */
export const Flag = { need_discard: 1, need_inc_gen: 2, emptied: 4 } as const;

/**
 * Kinds of error a commit records in the shared error log, most direct first (a commit may hit
 * several; its AllocError leads with the first):
 *
 *   duplicate_backpointer  an extent already starts at the new extent's first sector
 *   extent_overlap         some sector the write covers already belongs to another live extent
 *   data_type_mismatch     the bucket holds dirty data of another type
 *   gen_mismatch           the open bucket's gen is not the bucket's: the data is invisible
 *   write_after_empty      the bucket was emptied and not discarded since; the discard would wipe it
 *   foreign_allocation     the bucket holds data of another allocation at this gen (no sector shared)
 */
export const ErrorKind = {
  duplicate_backpointer: 1, extent_overlap: 2, data_type_mismatch: 3, gen_mismatch: 4, write_after_empty: 5, foreign_allocation: 6,
} as const;
/** A commit error kind's name (see ErrorKind). */
export type ErrorKindName = keyof typeof ErrorKind;
/** Error kind names in code order: ERROR_KIND_NAMES[code - 1] (codes start at 1). */
export const ERROR_KIND_NAMES: readonly ErrorKindName[] = namesByCode(ErrorKind);
/** How many error kinds there are (the error log keeps a count per kind). */
export const ERROR_KIND_COUNT = ERROR_KIND_NAMES.length;

/** gen a is newer than gen b, with u8 wraparound (bcachefs gen_after). */
export function genAfter(a: number, b: number): boolean {
  return ((a - b) << 24) >> 24 > 0;
}
