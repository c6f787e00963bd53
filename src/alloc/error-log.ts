/**
 * The shared error log: every commit error any thread hits, so a torture run can count them and name
 * the first. Appending is one Atomics.add to claim an entry; when the log is full the per-kind
 * counts and the total keep counting, only the details are dropped. Counts are 64-bit (device64
 * words, see device.ts), so a long run cannot carry them past 2^31 into a negative index.
 *
 * `errors` section: capacity × ERROR_WORDS (16 words, one cache line):
 *
 *   [0] kind          ErrorKind (0 = entry not yet written: it is stored last)
 *   [1] bucket
 *   [2] writer        who hit the error
 *   [3] otherWriter   the other party (whose data was already there), -1 unknown
 *   [4] member        thread-registry member that hit it
 *   [5] detail        kind-specific: offset for duplicate_backpointer, the first shared sector for
 *                     extent_overlap, the existing DataType for data_type_mismatch, the record's
 *                     gen for gen_mismatch
 *   [8..9] opId       (float64) the operation that hit it
 *   [10..11] otherOpId (float64) the other party's operation, -1 unknown
 */
import { Dev64 } from './device.js';
import { ERROR_KIND_NAMES, type ErrorKindName } from './types.js';

export const ERROR_WORDS = 16;

/** One commit error in the shared error log: its kind and bucket, both writers and both operations. */
export interface ErrorEntry {
  kind: ErrorKindName;
  bucket: number;
  writer: number;
  otherWriter: number;
  member: number;
  opId: number;
  otherOpId: number;
  detail: number;
}

/**
 * The shared error log (`fs.errorLog`): every commit error any thread hit, with per-kind and total
 * counts that keep going after the `errorLogSize` entries are full.
 */
export class ErrorLog {
  readonly capacity: number;
  private readonly words: Int32Array;
  private readonly f64: Float64Array;
  private readonly dev64: BigInt64Array;

  constructor(words: Int32Array, dev64: BigInt64Array, capacity: number) {
    this.words = words;
    this.f64 = new Float64Array(words.buffer, words.byteOffset, words.length >>> 1);
    this.dev64 = dev64;
    this.capacity = capacity;
  }

  /** Records an error of ErrorKind code `kind`: always counted, its details kept while there is room. */
  append(kind: number, e: Omit<ErrorEntry, 'kind'>): void {
    Atomics.add(this.dev64, Dev64.errorsByKind + kind - 1, 1n);
    const i = Atomics.add(this.dev64, Dev64.errorTotal, 1n);
    if (i >= BigInt(this.capacity)) return;
    const at = Number(i) * ERROR_WORDS;
    Atomics.store(this.words, at + 1, e.bucket);
    Atomics.store(this.words, at + 2, e.writer);
    Atomics.store(this.words, at + 3, e.otherWriter);
    Atomics.store(this.words, at + 4, e.member);
    Atomics.store(this.words, at + 5, e.detail);
    this.f64[(at >>> 1) + 4] = e.opId;
    this.f64[(at >>> 1) + 5] = e.otherOpId;
    Atomics.store(this.words, at, kind);
  }

  /** Errors recorded so far, including those past the log's capacity. */
  total(): number {
    return Number(Atomics.load(this.dev64, Dev64.errorTotal));
  }

  /** Errors recorded so far by kind, including those past the log's capacity. */
  countByKind(): Record<ErrorKindName, number> {
    const out = {} as Record<ErrorKindName, number>;
    ERROR_KIND_NAMES.forEach((name, i) => { out[name] = Number(Atomics.load(this.dev64, Dev64.errorsByKind + i)); });
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
        writer: Atomics.load(this.words, at + 2),
        otherWriter: Atomics.load(this.words, at + 3),
        member: Atomics.load(this.words, at + 4),
        detail: Atomics.load(this.words, at + 5),
        opId: this.f64[(at >>> 1) + 4]!,
        otherOpId: this.f64[(at >>> 1) + 5]!,
      });
    }
    return out;
  }
}
