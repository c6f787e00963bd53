/**
 * The shared error log: every allocation or commit error any thread hits, so a torture run can
 * count them and name the first. Appending is one Atomics.add to claim an entry; when the log is
 * full the per-kind counts and the total keep counting, only the details are dropped.
 *
 * `errors` section: capacity × ERROR_WORDS (8 words):
 *
 *   [0] kind        ErrorKind (0 = entry not yet written)
 *   [1] bucket
 *   [2] owner       who hit the error
 *   [3] otherOwner  the other party (whose extent or data was already there), -1 unknown
 *   [4] worker      counter slot of the thread that hit it
 *   [5] opId        the operation that hit it
 *   [6] otherOpId   the other party's operation, -1 unknown
 *   [7] detail      kind-specific: offset for duplicate_backpointer, existing DataType for
 *                   data_type_mismatch, record gen for gen_mismatch
 *
 * The total lives in device word Dev.errorTotal, per-kind counts at Dev.errorsByKind + kind.
 */
import { Dev } from './device.js';
import { ERROR_KIND_NAMES, type ErrorKindName } from './types.js';

export const ERROR_WORDS = 8;

export interface ErrorEntry {
  kind: ErrorKindName;
  bucket: number;
  owner: number;
  otherOwner: number;
  worker: number;
  opId: number;
  otherOpId: number;
  detail: number;
}

export class ErrorLog {
  readonly capacity: number;
  private readonly words: Int32Array;
  private readonly dev: Int32Array;

  constructor(words: Int32Array, dev: Int32Array, capacity: number) {
    this.words = words;
    this.dev = dev;
    this.capacity = capacity;
  }

  append(kind: number, e: Omit<ErrorEntry, 'kind'>): void {
    Atomics.add(this.dev, Dev.errorsByKind + kind, 1);
    const i = Atomics.add(this.dev, Dev.errorTotal, 1);
    if (i >= this.capacity) return;
    const at = i * ERROR_WORDS;
    Atomics.store(this.words, at + 1, e.bucket);
    Atomics.store(this.words, at + 2, e.owner);
    Atomics.store(this.words, at + 3, e.otherOwner);
    Atomics.store(this.words, at + 4, e.worker);
    Atomics.store(this.words, at + 5, e.opId);
    Atomics.store(this.words, at + 6, e.otherOpId);
    Atomics.store(this.words, at + 7, e.detail);
    Atomics.store(this.words, at, kind);
  }

  total(): number {
    return Atomics.load(this.dev, Dev.errorTotal);
  }

  countByKind(): Record<ErrorKindName, number> {
    const out = {} as Record<ErrorKindName, number>;
    ERROR_KIND_NAMES.forEach((name, i) => { out[name] = Atomics.load(this.dev, Dev.errorsByKind + i + 1); });
    return out;
  }

  /** Entries recorded so far (at most `capacity`), in order. */
  entries(): ErrorEntry[] {
    const n = Math.min(this.total(), this.capacity);
    const out: ErrorEntry[] = [];
    for (let i = 0; i < n; i++) {
      const at = i * ERROR_WORDS;
      const kind = Atomics.load(this.words, at);
      if (kind === 0) continue;
      out.push({
        kind: ERROR_KIND_NAMES[kind - 1]!,
        bucket: Atomics.load(this.words, at + 1),
        owner: Atomics.load(this.words, at + 2),
        otherOwner: Atomics.load(this.words, at + 3),
        worker: Atomics.load(this.words, at + 4),
        opId: Atomics.load(this.words, at + 5),
        otherOpId: Atomics.load(this.words, at + 6),
        detail: Atomics.load(this.words, at + 7),
      });
    }
    return out;
  }
}
