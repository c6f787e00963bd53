/**
 * The handles a filesystem gives out: an OpenBucket (allocBucket → write → put) and an Extent
 * (write → free). Both carry the filesystem's identity, so another filesystem — even one of the
 * same layout — refuses them with a clear error instead of reading their slot or entry numbers as
 * its own; and both are checked against shared memory (the slot's operation id, the stored extent)
 * before anything is changed, so a stale handle is refused too.
 */
import { StaleHandleError, type ExtentInfo } from './errors.js';
import { SLOT_WORDS, Slot } from './open-buckets.js';
import type { FsCore } from './fs-core.js';
import { writeTypeCode, type WriteType } from './types.js';

/** The handle of an extent a write committed: pass it to `free`. */
export type Extent = ExtentInfo;

/** A bucket this thread opened: write into it, then put it. */
export class OpenBucket {
  /** @internal */
  readonly core: FsCore;
  /** The identity of the filesystem that opened it. */
  readonly fs: number;

  /** @internal Use Filesystem.allocBucket. */
  constructor(
    core: FsCore,
    readonly slot: number,
    readonly bucket: number,
    readonly gen: number,
    readonly dataType: WriteType,
    readonly writer: number,
    readonly opId: number,
    /**
     * The allocation oracle's verdict on this allocation: the bucket was not, in truth, free at
     * the gen it was opened with — a duplicate allocation. Always false when the oracle is off.
     */
    readonly duplicate: boolean,
  ) {
    this.core = core;
    this.fs = core.identity;
    this.dataTypeCode = writeTypeCode(dataType);
  }

  /** @internal The data type as its DataType code. */
  readonly dataTypeCode: number;

  /** Sectors still free in the bucket (this writer's view); 0 once the bucket has been put. */
  get sectorsFree(): number {
    const open = this.core.open;
    if (open.field(this.slot, Slot.valid) !== 1 || open.opId(this.slot) !== this.opId) return 0;
    return open.field(this.slot, Slot.sectorsFree);
  }
}

/**
 * The handle is an OpenBucket of this filesystem. Whether its slot still holds its allocation is
 * checked under the lock that makes the answer exact (requireCurrent), not twice.
 */
export function checkOpenBucket(core: FsCore, ob: unknown): asserts ob is OpenBucket {
  if (!(ob instanceof OpenBucket)) throw new StaleHandleError('openBucket', 'must be an OpenBucket returned by allocBucket');
  if (ob.fs !== core.identity) {
    throw new StaleHandleError('openBucket', `belongs to another filesystem (identity ${ob.fs.toString(16)}, this one is ${core.identity.toString(16)})`);
  }
}

/** Throws unless the handle's slot still holds its allocation; call under the freelist lock or the bucket's record lock. */
export function requireCurrent(core: FsCore, ob: OpenBucket): void {
  if (!openBucketCurrent(core, ob)) {
    throw new StaleHandleError('openBucket', `bucket ${ob.bucket} (op ${ob.opId}) is no longer open: it was already put`);
  }
}

/**
 * Whether the handle's slot still holds its allocation. Exact under the freelist lock, which every
 * store to a slot's valid and opId words is made under, so plain reads do (an Atomics call would cost
 * as much as the rest of the check). Under the bucket's record lock (a commit) only a put of this very
 * handle can race it, and either answer is one the put and the commit can be ordered by; operation
 * ids are never reused (64-bit), so a slot opened again for another allocation never passes.
 */
export function openBucketCurrent(core: FsCore, ob: OpenBucket): boolean {
  return core.open.slots[ob.slot * SLOT_WORDS + Slot.valid] === 1 && core.open.opId(ob.slot) === ob.opId;
}

/** The extent handle's shape and identity, before its bucket is locked: nothing shared is read. */
export function checkExtentHandle(core: FsCore, e: unknown): asserts e is Extent {
  const x = e as Partial<Extent> | null;
  const { extents, buckets } = core.config;
  if (typeof x !== 'object' || x === null || !isIndex(x.id, extents) || !isIndex(x.bucket, buckets)) {
    throw new StaleHandleError('extent', 'must be an Extent returned by write');
  }
  if (x.fs !== core.identity) {
    throw new StaleHandleError('extent', `belongs to another filesystem (identity ${typeof x.fs === 'number' ? x.fs.toString(16) : String(x.fs)}, this one is ${core.identity.toString(16)})`);
  }
}

function isIndex(v: unknown, n: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < n;
}
