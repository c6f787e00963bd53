/**
 * Turns a race trace into sentences a reader can follow: who read which bucket, who opened,
 * committed and released it, and where a fix refused.
 */
import type { TraceEntry } from './control.js';

const VERB: Record<string, string> = {
  'candidate-read': 'reads the record: free, not open',
  'before-freelist-lock': 'takes the freelist lock to open it',
  'after-publish': 'opened it (published in the open-bucket hash)',
  'before-commit': 'writes: the commit is next (nothing written yet)',
  'after-commit': 'committed the write (record, extent, sector map, indexes)',
  'before-put': 'puts the open bucket',
  'after-put': 'released it (gone from the open-bucket hash)',
  'revalidate-failed': 'seqlock re-check: sequence changed, skips it',
  'locked-reread-refused': 'locked re-read: no longer free, skips it',
  'found-open': 'under the freelist lock: already open, skips it',
  'before-discard': 'discards it',
  'before-free': 'frees an extent in it',
  'commit-failed': '!!! the commit found the bucket already holds data (see errors)',
};

/** One trace entry as a line: who, where, which bucket and operation, and what it means. */
export function describeTraceEntry(e: TraceEntry, names?: readonly string[]): string {
  const who = names?.[e.worker] ?? `worker ${e.worker}`;
  const op = e.opId > 0 ? ` (op ${e.opId})` : '';
  return `${who.padEnd(8)} ${e.point.padEnd(22)} bucket ${String(e.bucket).padStart(3)}${op}: ${VERB[e.point] ?? e.point}`;
}

/** A whole trace as lines, in order (`names` names the workers, e.g. "Task 1"). */
export function describeTrace(entries: readonly TraceEntry[], names?: readonly string[]): string[] {
  return entries.map((e) => describeTraceEntry(e, names));
}
