/**
 * The benchmark workload: one allocate + write + put + free cycle, the unit every allocator figure
 * here is counted in, shared by the single-thread benchmarks and the bench workers so that both
 * measure exactly the same path.
 *
 * Filesystems are made with `discard: false`: a freed bucket goes straight back to free with gen + 1,
 * so each cycle is one allocation and leaves the device as it found it. With discards on, every freed
 * bucket would wait in need_discard until a discard step; without one in the loop they pile up and
 * the early scan walks over more of them each cycle (the cost would grow with the cycle count, not
 * with the configuration), and with one in the loop its cost would be charged to every
 * configuration alike. The only discard here is the recovery one in `CycleRunner` for a run whose
 * racy allocations left buckets in need_discard (an unfixed allocator at several workers).
 */
import { AllocError, StaleHandleError } from '../alloc/errors.js';
import { createFilesystem, type Filesystem } from '../alloc/filesystem.js';
import { ALLOCATORS, FIXES, type AllocatorKind, type FixKind } from '../alloc/types.js';
import { MEMBER_COUNTERS } from '../alloc/counters.js';

export interface AllocConfig {
  allocator: AllocatorKind;
  fix: FixKind;
  cursorFix: boolean;
}

/** Every allocator × fix × cursor setting (12), in a stable order. */
export const ALL_CONFIGS: readonly AllocConfig[] = ALLOCATORS.flatMap((allocator) =>
  [false, true].flatMap((cursorFix) => FIXES.map((fix) => ({ allocator, fix, cursorFix }))));

/** "early/none", "early/seqlock+cursor": the name a configuration has in every table and chart. */
export function configLabel(c: AllocConfig): string {
  return `${c.allocator}/${c.fix}${c.cursorFix ? '+cursor' : ''}`;
}

export interface CycleFsOptions {
  buckets: number;
  bucketSectors: number;
  /** Fraction of buckets filled with data before the benchmark (so a scan must walk over them). */
  fill?: number;
  openBuckets?: number;
  /** Threads that will attach (plus one for the filler). */
  threads?: number;
  lockTimeoutMs?: number;
  /** The allocation oracle (default on, as createFilesystem has it); off to price it. */
  oracle?: boolean;
}

/** A filesystem for the cycle benchmark: discard off (see above), room for the fill's extents. */
export function createCycleFs(config: AllocConfig, o: CycleFsOptions): Filesystem {
  const fill = o.fill ?? 0;
  const fs = createFilesystem({
    ...config,
    buckets: o.buckets,
    bucketSectors: o.bucketSectors,
    openBuckets: o.openBuckets ?? 1024,
    discard: false,
    // Room for a half fill's extents and as many free entries again: a claim walks the filled run of the
    // table once per wrap (amortised one load per cycle).
    extents: Math.min(1 << 24, Math.max(4096, o.buckets)),
    maxThreads: (o.threads ?? 1) + 2,
    lockTimeoutMs: o.lockTimeoutMs ?? 10_000,
    oracle: o.oracle ?? true,
  });
  if (fill > 0) fillDevice(fs, fill);
  return fs;
}

/**
 * Fills the first `fraction` of the device with one full-bucket extent each: the shape an allocator
 * leaves behind, a prefix of used buckets that an early scan from bucket 0 must walk over.
 *
 * Filling through the configuration under test would cost O(n²) for the early scan without the
 * cursor fix (hours at a million buckets), and a filesystem refuses an attachment configured with
 * other rules. So the fill is written through the public API into a twin filesystem of identical
 * layout configured as freelist + cursor (O(n)), and its memory image is copied into `fs` through
 * `fs.region`, without knowing any section's word layout: two fresh filesystems of one layout differ
 * only in the words that describe each (the device's record of the rules it was created with), so
 * those keep `fs`'s values and every other word takes the twin's — in every section but the
 * per-thread counters, whose counts are the twin's own work and whose claim flags say which members are attached.
 * The result is state the allocator itself wrote; small devices are fsck'd to prove the copy whole.
 * Call on a new filesystem, before any other thread attaches. The shared cursor ends at the end of
 * the fill, where a cursor-fixed allocator would have left it.
 */
const USAGE_COUNTERS = MEMBER_COUNTERS.filter((n) => n.startsWith('usage'));

export function fillDevice(fs: Filesystem, fraction: number): number {
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`fill: must be a number in [0, 1), got ${String(fraction)}`);
  const count = Math.floor(fs.config.buckets * fraction);
  if (count === 0) return 0;
  if (fs.stats().opIds !== 0) throw new Error('fill: the filesystem has been used; fill it as soon as it is created');
  const twin = createFilesystem({ ...fs.config, allocator: 'freelist', fix: 'none', cursorFix: true, freelistLookup: 'locked' });
  if (twin.region.layout.hash !== fs.region.layout.hash) throw new Error('fill: the twin filesystem has a different layout');
  // Per section, the words in which the two differ while both are new: the ones describing `fs`.
  // The thread registry says who is attached to each, and the counters are each member's own work:
  // neither is copied, except the usage share, which moves with the data (below).
  const view = (f: Filesystem, name: string, type: string): Int32Array | Float64Array | BigInt64Array =>
    type === 'i64' ? f.region.i64(name) : type === 'f64' ? f.region.f64(name) : f.region.i32(name);
  const own = new Map<string, { type: string; differ: number[] }>();
  for (const { name, type } of fs.region.layout.sections) {
    if (name === 'counters' || name === 'registry') continue;
    const mine = view(fs, name, type);
    const theirs = view(twin, name, type);
    const differ: number[] = [];
    for (let w = 0; w < mine.length; w++) if (mine[w] !== theirs[w]) differ.push(w);
    own.set(name, { type, differ });
  }
  const S = fs.config.bucketSectors;
  for (let i = 0; i < count; i++) {
    const ob = twin.allocBucket();
    if (ob === null) throw new Error(`fill: allocation ${i} of ${count} failed`);
    twin.write(ob, S);
    twin.put(ob);
  }
  for (const [name, { type, differ }] of own) {
    const to = view(fs, name, type);
    const kept = differ.map((w) => to[w]!);
    (to as Int32Array).set(view(twin, name, type) as Int32Array);
    differ.forEach((w, k) => { (to as Int32Array)[w] = kept[k] as number; });
  }
  // The twin's usage share (its only member did the fill) becomes fs's creator's.
  const shareOf = (f: Filesystem): { raw: Float64Array; base: number } => ({ raw: f.counters.raw, base: f.counters.base(f.member) });
  const from = shareOf(twin);
  const to = shareOf(fs);
  for (const name of USAGE_COUNTERS) {
    const off = fs.counters.offsetOf(name);
    to.raw[to.base + off] = from.raw[from.base + off]!;
  }
  if (fs.config.buckets <= 1 << 14) {
    const report = fs.fsck({ maxErrors: 3 });
    if (!report.ok) throw new Error(`fill: fsck after the copy found ${report.errorCount} violation(s): ${JSON.stringify(report.errors)}`);
  }
  return count;
}

export interface CycleCounts {
  cycles: number;
  /** Allocations that returned a bucket. */
  allocations: number;
  /** Allocations whose commit hit an AllocError (duplicate backpointer, type or gen mismatch). */
  racy: number;
  /** allocBucket returned null (device or open-bucket reserve exhausted). */
  allocFailures: number;
  /** Frees refused as stale (only after corruption: another writer's extent state). */
  staleFrees: number;
}

/** Runs cycles on one thread's Filesystem and counts what happened. */
export class CycleRunner {
  readonly fs: Filesystem;
  readonly sectors: number;
  readonly counts: CycleCounts = { cycles: 0, allocations: 0, racy: 0, allocFailures: 0, staleFrees: 0 };

  constructor(fs: Filesystem, writeSectors = 4) {
    this.fs = fs;
    this.sectors = Math.max(1, Math.min(writeSectors, fs.config.bucketSectors));
  }

  /** One allocate + write + put + free. */
  cycle(): void {
    const fs = this.fs;
    const c = this.counts;
    c.cycles++;
    const ob = fs.allocBucket();
    if (ob === null) {
      c.allocFailures++;
      // Recovery only: racy runs can strand buckets in need_discard (their writer still had them open).
      fs.discard(64);
      return;
    }
    c.allocations++;
    let extent;
    try {
      extent = fs.write(ob, this.sectors);
    } catch (e) {
      if (!(e instanceof AllocError)) throw e;
      c.racy++;
      extent = e.extent;
    }
    fs.put(ob);
    try {
      fs.free(extent);
    } catch (e) {
      if (!(e instanceof StaleHandleError)) throw e;
      c.staleFrees++;
    }
  }

  /** The four phases apart, for counting Atomics per phase. Leaves the device as it found it. */
  phases(): { alloc: () => unknown; write: () => unknown; put: () => unknown; free: () => unknown } {
    const fs = this.fs;
    let ob: ReturnType<Filesystem['allocBucket']> = null;
    let extent: ReturnType<Filesystem['write']> | null = null;
    return {
      alloc: () => { ob = fs.allocBucket(); if (ob === null) throw new Error('phases: allocation failed'); },
      write: () => { extent = fs.write(ob!, this.sectors); },
      put: () => { fs.put(ob!); },
      free: () => { fs.free(extent!); },
    };
  }
}
