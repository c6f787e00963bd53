/**
 * Errors the allocator returns to callers. A commit error is also recorded in the shared error log
 * first; the write it reports has landed (as it would have on disk), so the caller still owns the
 * extent and gets it on the error.
 */
import type { ErrorKindName } from './types.js';

/**
 * An extent: `sectors` sectors at `offset` in `bucket`, written with the open bucket's `gen`. The
 * Extent handle a write returns, and what an AllocError carries.
 */
export interface ExtentInfo {
  id: number;
  bucket: number;
  gen: number;
  offset: number;
  sectors: number;
  dataType: 'user' | 'btree' | 'cached';
  /** Who wrote it (a writer id: AllocRequest.writer). */
  writer: number;
  /** The allocation whose open bucket it was written through. */
  opId: number;
  /** Identity of the filesystem it lives in (any other filesystem refuses it). */
  fs: number;
}

/**
 * One commit's errors (see ErrorKind: duplicate_backpointer, extent_overlap, data_type_mismatch,
 * gen_mismatch, write_after_empty, foreign_allocation). `kind` is the most direct of them, `kinds`
 * all of them; each is also in the error log.
 */
export class AllocError extends Error {
  readonly kind: ErrorKindName;
  readonly kinds: ErrorKindName[];
  readonly bucket: number;
  readonly writer: number;
  readonly otherWriter: number;
  readonly opId: number;
  readonly otherOpId: number;
  /** The extent that was written anyway. */
  readonly extent: ExtentInfo;

  constructor(kinds: ErrorKindName[], extent: ExtentInfo, otherWriter: number, otherOpId: number, detail: string) {
    const kind = kinds[0]!;
    super(`${kinds.join(' + ')} in bucket ${extent.bucket}: writer ${extent.writer} (op ${extent.opId}) vs writer ${otherWriter} (op ${otherOpId}); ${detail}`);
    this.name = 'AllocError';
    this.kind = kind;
    this.kinds = kinds;
    this.bucket = extent.bucket;
    this.writer = extent.writer;
    this.otherWriter = otherWriter;
    this.opId = extent.opId;
    this.otherOpId = otherOpId;
    this.extent = extent;
  }
}

/** An OpenBucket or Extent handle that no longer matches shared state (already put, freed, reused), or of another filesystem. */
export class StaleHandleError extends Error {
  readonly param: string;
  constructor(param: string, message: string) {
    super(`${param}: ${message}`);
    this.name = 'StaleHandleError';
    this.param = param;
  }
}
