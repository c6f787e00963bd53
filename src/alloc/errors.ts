/**
 * Errors the allocator returns to callers. A commit error is also recorded in the shared error log
 * first; the write it reports has landed (as it would have on disk), so the caller still owns the
 * extent and gets it on the error.
 */
import type { ErrorKindName } from './types.js';

export interface ExtentInfo {
  id: number;
  bucket: number;
  gen: number;
  offset: number;
  sectors: number;
  dataType: 'user' | 'btree' | 'cached';
  owner: number;
  opId: number;
}

/**
 * duplicate_backpointer, data_type_mismatch and/or gen_mismatch, detected by one commit. `kind` is
 * the most direct of them (in that order), `kinds` all of them; each is also in the error log.
 */
export class AllocError extends Error {
  readonly kind: ErrorKindName;
  readonly kinds: ErrorKindName[];
  readonly bucket: number;
  readonly owner: number;
  readonly otherOwner: number;
  readonly opId: number;
  readonly otherOpId: number;
  /** The extent that was written anyway. */
  readonly extent: ExtentInfo;

  constructor(kinds: ErrorKindName[], extent: ExtentInfo, otherOwner: number, otherOpId: number, detail: string) {
    const kind = kinds[0]!;
    super(`${kinds.join(' + ')} in bucket ${extent.bucket}: owner ${extent.owner} (op ${extent.opId}) vs owner ${otherOwner} (op ${otherOpId}); ${detail}`);
    this.name = 'AllocError';
    this.kind = kind;
    this.kinds = kinds;
    this.bucket = extent.bucket;
    this.owner = extent.owner;
    this.otherOwner = otherOwner;
    this.opId = extent.opId;
    this.otherOpId = otherOpId;
    this.extent = extent;
  }
}

/** An OpenBucket or Extent handle that no longer matches shared state (already put, freed, reused). */
export class StaleHandleError extends Error {
  readonly param: string;
  constructor(param: string, message: string) {
    super(`${param}: ${message}`);
    this.name = 'StaleHandleError';
    this.param = param;
  }
}
