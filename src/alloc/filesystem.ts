/**
 * The filesystem model's public face: one device's bucket table, free-space and need-discard indexes,
 * open buckets, sector map and extents, all in one shared region, and the paths over them. Each path
 * lives in its own file, named by its step:
 *
 *   allocate.ts       allocBucket: request, reserve, cursor, wrap
 *   alloc-scan.ts     the early and freelist allocators' scans
 *   alloc-publish.ts  check and publish a candidate: the race window, each fix, the oracle
 *   commit.ts         write: the index-update commit and every problem it detects
 *   put.ts            put      free.ts   free      discard.ts   discard
 *   record-update.ts  the one shape of every record update (lock, plan, intent, apply, unlock)
 *   recovery.ts       finishing a dead thread's update, releasing what it held
 *   lifecycle.ts      create and attach
 *
 * A Filesystem is one thread's view: `createFilesystem` lays out the memory; `attachFilesystem(
 * fs.handle)` in any thread gives another view over the same state. Each view joins the filesystem's
 * thread registry as a member (its own counter block and intent record), so a thread uses its own
 * view and never shares one across threads. docs/design.md describes the model.
 */
import type { Region } from '../shared/region.js';
import { checkInt, ConfigError, readOptions } from '../shared/validate.js';
import type { ThreadRegistry } from '../locks/thread-registry.js';
import type { FilesystemConfig } from './config.js';
import { FILESYSTEM_KIND } from './config.js';
import { FsCore, type FaultPlan, type StageHook } from './fs-core.js';
import { Dev, Dev64 } from './device.js';
import { ALLOC_COUNTERS, type AllocCounter, usageBuckets, usageSectors } from './counters.js';
import { SLOT_WORDS, Slot } from './open-buckets.js';
import { DATA_TYPE_NAMES, DataType, type DataTypeName, type ErrorKindName } from './types.js';
import type { RaceHook } from './race-points.js';
import type { ErrorEntry } from './error-log.js';
import { fsck, type FsckOptions, type FsckReport } from './fsck.js';
import { allocBucket } from './allocate.js';
import { writeExtent } from './commit.js';
import { putOpenBucket, unpinSlot } from './put.js';
import { freeExtent } from './free.js';
import { discardBuckets } from './discard.js';
import { recoverMember, type RecoveryReport } from './recovery.js';
import type { AllocRequest } from './request.js';
import type { Extent, OpenBucket } from './handles.js';
import type { RegionHandle } from '../shared/region.js';
import type { BitmapIndex } from './bitmap-index.js';
import type { OpenBuckets } from './open-buckets.js';
import type { ExtentTable } from './extents.js';
import type { ErrorLog } from './error-log.js';
import type { CounterBlocks } from '../shared/counters.js';
import type { MemberCounter } from './counters.js';

/** A filesystem's shared buffers and config, structured-cloneable: what attachFilesystem takes in a thread. */
export interface FilesystemHandle {
  kind: typeof FILESYSTEM_KIND;
  config: FilesystemConfig;
  region: RegionHandle;
}

/** What `stats()` returns: usage by data type, open-bucket occupancy, counters summed over members, error counts. */
export interface FilesystemStats {
  buckets: Record<DataTypeName, number>;
  sectors: Record<'user' | 'btree' | 'cached', number>;
  openBuckets: { inUse: number; free: number; slots: number };
  counters: Record<AllocCounter, number>;
  errors: Record<ErrorKindName, number> & { total: number };
  cursor: number;
  /** Operation ids handed out (allocations started). */
  opIds: number;
  /** Thread-registry members by state. */
  members: { alive: number; dead: number; recovering: number; free: number };
}

/** What `watchWorker` needs of a worker: Node's Worker has both. */
export interface WatchableWorker {
  readonly threadId: number;
  /** Calls `listener` once, when the worker's thread has stopped. */
  once(event: 'exit', listener: (code: number) => void): unknown;
}

/**
 * One thread's view of a filesystem in shared memory (bucket records, indexes, open buckets, extents)
 * and the paths over it. Each view is a member of the thread registry: never share one across threads.
 */
export class Filesystem {
  /** @internal Every path's state; not part of the API. */
  readonly core: FsCore;

  /** Use createFilesystem / attachFilesystem. @internal */
  constructor(core: FsCore) {
    this.core = core;
  }

  get config(): FilesystemConfig { return this.core.config; }
  get region(): Region { return this.core.region; }
  /** This view's member number in the filesystem's thread registry (its counter block, its error-report name). */
  get member(): number { return this.core.member; }
  /** The filesystem's random identity: its handles carry it, and other filesystems refuse them. */
  get identity(): number { return this.core.identity; }
  get registry(): ThreadRegistry { return this.core.registry; }
  get open(): OpenBuckets { return this.core.open; }
  get freeSpace(): BitmapIndex { return this.core.freeSpace; }
  get needDiscard(): BitmapIndex { return this.core.needDiscard; }
  get extents(): ExtentTable { return this.core.extents; }
  get errorLog(): ErrorLog { return this.core.errorLog; }
  get counters(): CounterBlocks<MemberCounter> { return this.core.counters; }
  get records(): Int32Array { return this.core.records; }
  /** Per sector, the id + 1 of the live extent covering it (0: none); an extent's first sector is its backpointer. */
  get sectorMap(): Int32Array { return this.core.sectorMap; }
  get dev(): Int32Array { return this.core.dev; }

  /** Plain, structured-cloneable: post it to a worker and call attachFilesystem there. */
  get handle(): FilesystemHandle {
    return { kind: FILESYSTEM_KIND, config: this.core.config, region: this.core.region.handle };
  }

  /** Installs (or removes, with null) this view's race-point hook. */
  setRaceHook(hook: RaceHook | null): void {
    this.core.live('setRaceHook');
    this.core.hook = hook;
  }

  /**
   * Test-only fault injection: the N-th lock acquisition from now fails (a blocking one throws a
   * LockTimeoutError, a try-lock reports the lock busy). null switches it off.
   */
  setFaultPlan(plan: FaultPlan | null): void {
    this.core.live('setFaultPlan');
    if (plan !== null) {
      const p = readOptions<FaultPlan>('plan', plan, ['failLockAcquisition']);
      checkInt('plan.failLockAcquisition', p.failLockAcquisition, 1, 2 ** 31 - 1);
    }
    this.core.setFaultPlan(plan);
  }

  /**
   * Test-only: `hook(kind, stage, target)` is called at each stage of every update this view makes
   * (lock taken, intent published, half applied, applied, intent cleared — the lock held at each),
   * so a test can stop a thread there and kill it. null switches it off.
   */
  setStageHook(hook: StageHook | null): void {
    this.core.live('setStageHook');
    this.core.stageHook = hook;
  }

  /**
   * Opens a free bucket for `request.dataType`, or returns null when none is free (or the
   * open-bucket reserve for this watermark is used up). The scan starts at the cursor (cursor fix)
   * or at 0, wraps once, and applies the configured fix to each candidate.
   */
  allocBucket(request?: AllocRequest): OpenBucket | null {
    return allocBucket(this.core, request);
  }

  /**
   * Writes `sectors` into the open bucket and commits the index update — record, extent, sector
   * map, free-space index, usage, sequence count — under the bucket's record lock, all or nothing.
   * A duplicate backpointer, overlap, data-type or gen mismatch, a write into an emptied bucket or
   * beside another allocation's data is logged and thrown as an AllocError carrying the extent,
   * which has landed regardless. `writer` defaults to the open bucket's.
   */
  write(ob: OpenBucket, sectors: number, writer?: number): Extent {
    return writeExtent(this.core, ob, sectors, writer);
  }

  /** Drops the open bucket's pin; the last put takes it out of the open-bucket hash. */
  put(ob: OpenBucket): void {
    putOpenBucket(this.core, ob);
  }

  /**
   * Drops an extent (overwrite or delete): its sectors go; a bucket left empty goes to
   * need_discard, or with discards off straight to free with gen + 1 — unless it is still open.
   */
  free(e: Extent): void {
    freeExtent(this.core, e);
  }

  /**
   * Discards up to `max` need_discard buckets: each gets gen + 1 and returns to the free-space
   * index. Buckets still open are skipped and stay for a later pass. Returns how many were discarded.
   * Each bucket's discard is all or nothing on its own: if one fails (a lock timeout), those before
   * it stand, and the error carries their number as `.discarded`.
   */
  discard(max?: number): number {
    return discardBuckets(this.core, max);
  }

  /** Usage, open-bucket occupancy, counters summed over every member, error counts. */
  stats(): FilesystemStats {
    const core = this.core;
    core.live('stats');
    const totals = core.counters.total() as Record<string, number>;
    const byOffset = (off: number): number => {
      let sum = 0;
      for (let m = 0; m < core.counters.members; m++) sum += core.ctr[m * core.counters.stride + off]!;
      return sum;
    };
    const buckets = {} as Record<DataTypeName, number>;
    DATA_TYPE_NAMES.forEach((name, t) => { buckets[name] = byOffset(usageBuckets(t)); });
    const counters = {} as Record<AllocCounter, number>;
    for (const n of ALLOC_COUNTERS) counters[n] = totals[n]!;
    const free = core.open.freeSlots();
    const members = { alive: 0, dead: 0, recovering: 0, free: 0 };
    for (let m = 0; m < core.registry.members; m++) members[core.registry.state(m)]++;
    return {
      buckets,
      sectors: {
        user: byOffset(usageSectors(DataType.user)),
        btree: byOffset(usageSectors(DataType.btree)),
        cached: byOffset(usageSectors(DataType.cached)),
      },
      openBuckets: { inUse: core.open.usable - free, free, slots: core.open.usable },
      counters,
      errors: { ...core.errorLog.countByKind(), total: core.errorLog.total() },
      cursor: Atomics.load(core.dev, Dev.cursor),
      opIds: Number(Atomics.load(core.dev64, Dev64.opSeq)),
      members,
    };
  }

  /** Checks every invariant (docs/design.md). Run it quiescent: no thread mid-operation. */
  fsck(options: FsckOptions = {}): FsckReport {
    this.core.live('fsck');
    return fsck(this, options);
  }

  /** Error log entries (the first `errorLogSize`). */
  errors(): ErrorEntry[] {
    this.core.live('errors');
    return this.core.errorLog.entries();
  }

  /**
   * Reports that member `member` died (its thread is gone): robust locks it holds are taken over by
   * their next waiter at once, and `recover()` will clean up after it. Returns whether it was alive.
   */
  markDead(member: number): boolean {
    this.core.live('markDead');
    checkInt('member', member, 0, this.core.registry.members - 1);
    if (member === this.core.member) throw new ConfigError('member', 'is this view\'s own member: a thread cannot report its own death');
    return this.core.registry.markDead(member);
  }

  /**
   * Recovers dead members (all of them, or one): finishes the update each was in, releases the locks
   * it held, gives back extent entries it claimed, puts its open buckets and frees its member.
   * Returns one report per member recovered. Members still alive are not touched.
   */
  recover(member?: number): RecoveryReport[] {
    const core = this.core;
    core.live('recover');
    if (member !== undefined) {
      checkInt('member', member, 0, core.registry.members - 1);
      const r = recoverMember(core, member);
      return r === null ? [] : [r];
    }
    const out: RecoveryReport[] = [];
    for (let m = 0; m < core.registry.members; m++) {
      if (core.registry.state(m) !== 'dead') continue;
      const r = recoverMember(core, m);
      if (r !== null) out.push(r);
    }
    return out;
  }

  /**
   * For the thread that owns a worker attached to this filesystem: when the worker exits, its members
   * are marked dead and recovered, here, by this view. `onRecovered` gets the reports. Returns a
   * function that stops watching. The worker's death is reported by its `exit` event, so this thread
   * must not be blocked on a lock the worker might hold when it dies (it would not see the event).
   */
  watchWorker(worker: WatchableWorker, onRecovered?: (reports: RecoveryReport[]) => void): () => void {
    this.core.live('watchWorker');
    const threadId = checkInt('worker.threadId', worker?.threadId, 0, 2 ** 31 - 1);
    let active = true;
    worker.once('exit', () => {
      if (!active || this.core.detached) return;
      const dead = this.core.registry.markThreadDead(threadId);
      const reports = dead.flatMap((m) => this.recover(m));
      onRecovered?.(reports);
    });
    return () => { active = false; };
  }

  /**
   * Leaves the filesystem: puts the open buckets this view still holds (their handles go stale) and
   * gives its registry member back for another thread; its counts stay in the totals. Every method
   * of a detached view throws; detaching twice does nothing.
   */
  detach(): void {
    const core = this.core;
    if (core.detached) return;
    core.hook = null;
    core.setFaultPlan(null);
    const reg = core.registry;
    if (reg.state(core.member) === 'alive' && reg.epochOf(core.member) === core.epoch && reg.ownerOf(core.member) === core.ownerId) {
      core.lockFreelist();
      try {
        for (let s = 1; s < core.config.openBuckets; s++) {
          const at = s * SLOT_WORDS;
          if (Atomics.load(core.open.slots, at + Slot.valid) !== 1 || Atomics.load(core.open.slots, at + Slot.member) !== core.member) continue;
          while (Atomics.load(core.open.slots, at + Slot.valid) === 1) unpinSlot(core, s, core.ctrBase);
        }
      } finally {
        core.unlockFreelist();
      }
      reg.leave(core.member);
    }
    core.detached = true;
  }
}

export type { AllocRequest } from './request.js';
export type { Extent } from './handles.js';
export { OpenBucket } from './handles.js';
export type { RecoveryReport } from './recovery.js';
export { attachFilesystem, createFilesystem, type AttachOptions } from './lifecycle.js';
