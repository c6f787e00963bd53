/**
 * The torture journal: what each worker has been told, kept in shared memory so that it outlives a
 * worker killed at any moment — a history to check as Jepsen checks one. An operation whose result
 * the worker saw is *ok*: a write that returned is data that must stay in place until its writer
 * frees it; a free that returned is data that must be gone. The one operation in flight when a
 * worker dies is *indeterminate*: it may have happened or not — never half (the allocator's
 * recovery finishes or never starts each update).
 *
 * Region "sab-alloc/journal": one block per worker index (a replacement worker takes over its dead
 * predecessor's block, and with it the data it holds):
 *
 *   counts   f64 × workers × 16 (two cache lines per worker), written only by the block's worker:
 *     [0] completed operations (successful allocations, writes, puts, frees, discards): progress
 *     [1] allocations  [2] writes  [3] frees  [4] puts  [5] allocation failures
 *     [6] racy allocations (their own commit hit an AllocError)  [7] commit errors
 *     [8] the in-flight operation's op id (pending write: the open bucket's allocation)
 *   state    i32 × workers × 16:
 *     [0] pending   Pending: the operation in flight (0 none)
 *     [1] argument  the extent index in the live list being freed (pending free), else -1
 *     [2] live      entries in the live list
 *     [3] generation  workers that have owned this block (1 + replacements)
 *     [4] extent    the id of the extent being freed (pending free; with counts[8], its op id)
 *     [5] count     the live count when the pending operation began (a free's removeLive shortens it)
 *   live     i32 × workers × capacity × 8: acknowledged live extents, in the worker's own order:
 *     [0] extent id [1] bucket [2] offset [3] sectors [4] gen | dataType << 8 [5] writer
 *     [6..7] opId (float64)
 *
 * Every word has one writer (the block's worker; the main thread only between a worker's death and
 * its replacement's start), so plain stores do: the main thread reads a dead worker's block after
 * its thread has stopped.
 */
import { attachRegion, createRegion, type Region, type RegionHandle, type RegionSpec } from '../shared/region.js';
import { checkInt, ConfigError } from '../shared/validate.js';
import { writeTypeCode, WRITE_TYPES, type WriteType } from '../alloc/types.js';
import type { Extent } from '../alloc/filesystem.js';

export const Pending = { none: 0, allocate: 1, write: 2, put: 3, free: 4, discard: 5 } as const;
export const PENDING_NAMES = ['none', 'allocate', 'write', 'put', 'free', 'discard'] as const;

const COUNT_DOUBLES = 16;
const STATE_WORDS = 16;
const ENTRY_WORDS = 8;
export const J = { completed: 0, allocations: 1, writes: 2, frees: 3, puts: 4, allocFailures: 5, racy: 6, errors: 7, pendingOp: 8 } as const;
const S = { pending: 0, argument: 1, live: 2, generation: 3, extent: 4, count: 5 } as const;

export interface JournalConfig {
  workers: number;
  /** Live extents a worker may hold at once. */
  capacity: number;
}

export interface JournalHandle {
  kind: 'sab-alloc/journal';
  config: JournalConfig;
  region: RegionHandle;
}

function spec(c: JournalConfig): RegionSpec {
  return {
    kind: 'sab-alloc/journal',
    version: 1,
    sections: [
      { name: 'counts', type: 'f64', length: c.workers * COUNT_DOUBLES },
      { name: 'state', type: 'i32', length: c.workers * STATE_WORDS },
      { name: 'live', type: 'i32', length: c.workers * c.capacity * ENTRY_WORDS },
    ],
  };
}

function normalize(c: JournalConfig): JournalConfig {
  return { workers: checkInt('workers', c.workers, 1, 1024), capacity: checkInt('capacity', c.capacity, 1, 1 << 20) };
}

export interface JournalTotals {
  completed: number;
  allocations: number;
  writes: number;
  frees: number;
  puts: number;
  allocFailures: number;
  racy: number;
  errors: number;
}

export class Journal {
  readonly config: JournalConfig;
  readonly region: Region;
  private readonly counts: Float64Array;
  private readonly state: Int32Array;
  private readonly live: Int32Array;
  private readonly liveF64: Float64Array;

  private constructor(region: Region, config: JournalConfig) {
    this.region = region;
    this.config = config;
    this.counts = region.f64('counts');
    this.state = region.i32('state');
    this.live = region.i32('live');
    this.liveF64 = new Float64Array(this.live.buffer, this.live.byteOffset, this.live.length >>> 1);
  }

  static create(config: JournalConfig): Journal {
    const c = normalize(config);
    const j = new Journal(createRegion(spec(c)), c);
    for (let w = 0; w < c.workers; w++) j.state[w * STATE_WORDS + S.generation] = 1;
    return j;
  }

  static attach(handle: unknown): Journal {
    const h = handle as JournalHandle;
    if (typeof h !== 'object' || h === null || h.kind !== 'sab-alloc/journal') throw new ConfigError('journal', 'must be a journal handle');
    const c = normalize(h.config);
    return new Journal(attachRegion(h.region, { kind: 'sab-alloc/journal', version: 1, spec: spec(c) }), c);
  }

  get handle(): JournalHandle {
    return { kind: 'sab-alloc/journal', config: this.config, region: this.region.handle };
  }

  // ------------------------------------------------------------ worker side (one block each)

  /**
   * The operation about to start; `argument` names the live entry a free will drop, and `extent`
   * (with `opId`) the extent it frees: the entry's index alone is not enough, because a kill inside
   * removeLive can leave that index overwritten, whole or in part. The live count is kept too, so
   * that a dead worker's removeLive can be finished (finishRemove).
   */
  begin(w: number, pending: number, argument = -1, opId = 0, extent = -1): void {
    this.state[w * STATE_WORDS + S.argument] = argument;
    this.state[w * STATE_WORDS + S.extent] = extent;
    this.state[w * STATE_WORDS + S.count] = this.liveCount(w);
    this.counts[w * COUNT_DOUBLES + J.pendingOp] = opId;
    this.state[w * STATE_WORDS + S.pending] = pending;
  }

  /** The operation returned: it is ok. `counter` is what it counts as. */
  done(w: number, counter: number, progress = true): void {
    this.state[w * STATE_WORDS + S.pending] = Pending.none;
    this.counts[w * COUNT_DOUBLES + counter]!++;
    if (progress) this.counts[w * COUNT_DOUBLES + J.completed]!++;
  }

  bump(w: number, counter: number): void {
    this.counts[w * COUNT_DOUBLES + counter]!++;
  }

  liveCount(w: number): number {
    return this.state[w * STATE_WORDS + S.live]!;
  }

  /** Appends an acknowledged extent (its write returned). */
  addLive(w: number, e: Extent): void {
    const n = this.liveCount(w);
    if (n >= this.config.capacity) throw new ConfigError('capacity', `journal of worker ${w} is full (${n} live extents)`);
    this.setEntry(w, n, e);
    this.state[w * STATE_WORDS + S.live] = n + 1;
  }

  /** Drops live entry i (its free returned): the last entry takes its place, as the workload's array does. */
  removeLive(w: number, i: number): void {
    const n = this.liveCount(w) - 1;
    const from = this.entryAt(w, n);
    const to = this.entryAt(w, i);
    for (let k = 0; k < ENTRY_WORDS; k++) this.live[to + k] = this.live[from + k]!;
    this.state[w * STATE_WORDS + S.live] = n;
  }

  /** Live entry i as an Extent handle of the filesystem with identity `fs`. */
  entry(w: number, i: number, fs: number): Extent {
    const at = this.entryAt(w, i);
    const gt = this.live[at + 4]!;
    return {
      id: this.live[at]!, bucket: this.live[at + 1]!, offset: this.live[at + 2]!, sectors: this.live[at + 3]!,
      gen: gt & 0xff, dataType: WRITE_TYPES.find((t) => writeTypeCode(t) === ((gt >>> 8) & 0xf)) ?? 'user',
      writer: this.live[at + 5]!, opId: this.liveF64[(at >>> 1) + 3]!, fs,
    };
  }

  private entryAt(w: number, i: number): number {
    return (w * this.config.capacity + i) * ENTRY_WORDS;
  }

  private setEntry(w: number, i: number, e: Extent): void {
    const at = this.entryAt(w, i);
    this.live[at] = e.id;
    this.live[at + 1] = e.bucket;
    this.live[at + 2] = e.offset;
    this.live[at + 3] = e.sectors;
    this.live[at + 4] = (e.gen & 0xff) | (writeTypeCode(e.dataType as WriteType) << 8);
    this.live[at + 5] = e.writer;
    this.liveF64[(at >>> 1) + 3] = e.opId;
  }

  // ------------------------------------------------------------ main side

  pending(w: number): { kind: (typeof PENDING_NAMES)[number]; argument: number; opId: number; extent: number } {
    return {
      kind: PENDING_NAMES[this.state[w * STATE_WORDS + S.pending]!] ?? 'none',
      argument: this.state[w * STATE_WORDS + S.argument]!,
      opId: this.counts[w * COUNT_DOUBLES + J.pendingOp]!,
      extent: this.state[w * STATE_WORDS + S.extent]!,
    };
  }

  /**
   * A dead worker's free happened: finishes the removeLive it was doing or about to do. A kill can
   * have stopped it anywhere — before it, inside its copy loop (the freed entry's index holding part
   * of the last entry), or before its count store — and in each of those the count is still the one
   * at begin and the last entry intact, so the copy is made again, whole, and the count stored. A
   * count already shorter means it had finished. Main side only.
   */
  finishRemove(w: number): void {
    const count = this.state[w * STATE_WORDS + S.count]!;
    if (this.liveCount(w) !== count) return;
    this.removeLive(w, this.state[w * STATE_WORDS + S.argument]!);
  }

  /** Clears a dead worker's pending operation once its outcome has been decided. */
  clearPending(w: number): void {
    this.state[w * STATE_WORDS + S.pending] = Pending.none;
  }

  /** A replacement takes over block w. */
  nextGeneration(w: number): number {
    return ++this.state[w * STATE_WORDS + S.generation]!;
  }

  completed(w: number): number {
    return this.counts[w * COUNT_DOUBLES + J.completed]!;
  }

  totals(): JournalTotals {
    const t: JournalTotals = { completed: 0, allocations: 0, writes: 0, frees: 0, puts: 0, allocFailures: 0, racy: 0, errors: 0 };
    for (let w = 0; w < this.config.workers; w++) {
      const b = w * COUNT_DOUBLES;
      t.completed += this.counts[b + J.completed]!;
      t.allocations += this.counts[b + J.allocations]!;
      t.writes += this.counts[b + J.writes]!;
      t.frees += this.counts[b + J.frees]!;
      t.puts += this.counts[b + J.puts]!;
      t.allocFailures += this.counts[b + J.allocFailures]!;
      t.racy += this.counts[b + J.racy]!;
      t.errors += this.counts[b + J.errors]!;
    }
    return t;
  }

  allocations(w: number): number {
    return this.counts[w * COUNT_DOUBLES + J.allocations]!;
  }
}
