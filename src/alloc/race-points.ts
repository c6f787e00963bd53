/**
 * Named race points: the places in the allocator where preemption matters. The allocator calls its
 * hook at each; with no hook installed a race point costs one null check. What a hook does (nothing,
 * a delay, a scripted or controlled schedule) is decided by src/race, above this layer: the
 * allocator only announces where it is.
 *
 * Some points are also plain events (a fix refusing a candidate) so that a trace can show why.
 */
import { namesByCode } from './types.js';

/** The race points by name, with their codes (what a RaceHook's `at` receives as `point`). */
export const RacePoint = {
  /** A scan read a candidate's record and found it free and not open; nothing is locked yet. */
  candidateRead: 0,
  /** About to take the open-bucket freelist lock to publish the candidate. */
  beforeFreelistLock: 1,
  /** The bucket is in the open-bucket hash and the freelist lock is released. */
  afterPublish: 2,
  /** A write is about to commit: nothing taken or written yet (sectors are taken inside the commit). */
  beforeCommit: 3,
  /** The commit is done and its record lock released. */
  afterCommit: 4,
  /** About to drop the open bucket's pin (the last put releases it). */
  beforePut: 5,
  /** The put is done; if it was the last, the bucket has left the open-bucket hash. */
  afterPut: 6,
  /** Event: the seqlock fix found the record's sequence changed and skipped the candidate. */
  revalidateFailed: 7,
  /** Event: the locked re-read (key lock / locked lookup) found the candidate no longer free. */
  lockedRereadRefused: 8,
  /** Event: under the freelist lock the candidate turned out to be open already. */
  foundOpen: 9,
  /** About to take a need_discard bucket's record lock and discard it. */
  beforeDiscard: 10,
  /** About to free an extent (overwrite or delete). */
  beforeFree: 11,
  /** Event: the commit just done found corruption (logged in the error log, thrown as AllocError). */
  commitFailed: 12,
  /** An allocation is about to scan: nothing read yet. A scheduling point; not traced. */
  allocStart: 13,
} as const;

/** A race point's name ("candidateRead"). */
export type RacePointName = keyof typeof RacePoint;
/** Race point names indexed by code. */
export const RACE_POINT_NAMES: readonly RacePointName[] = namesByCode(RacePoint);
export const RACE_POINT_COUNT = RACE_POINT_NAMES.length;

/** Kebab-case names for the CLI and traces ("candidate-read"). */
export function racePointLabel(point: number): string {
  const name = RACE_POINT_NAMES[point];
  return name === undefined ? `point-${point}` : name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** A point's index from its name ("candidateRead") or label ("candidate-read"); -1 if unknown. */
export function racePointIndex(nameOrLabel: string): number {
  return RACE_POINT_NAMES.findIndex((n, i) => n === nameOrLabel || racePointLabel(i) === nameOrLabel);
}

/**
 * A hook may throw (a controlled schedule that stalls does). At a point before an operation's change
 * the call then fails with nothing changed. At a point after it the change stands, and nothing is
 * lost: afterPublish puts the bucket back before the error propagates (the caller never got it),
 * afterCommit's and commitFailed's error carries the committed extent as `error.extent` (as an
 * AllocError does), afterPut's put is done.
 *
 * What a hook receives. `lockHeld` is true where the thread holds a lock (the key lock before the
 * freelist lock): a controlled scheduler must not park a thread there, or the thread it lets run
 * could block on that lock.
 */
export interface RaceHook {
  /** Called at race point `point` (a RacePoint code) of operation `opId` on `bucket`. */
  at(point: number, bucket: number, opId: number, lockHeld: boolean): void;
}
