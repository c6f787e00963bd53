/**
 * The filesystem model: one device's bucket table, free-space and need-discard indexes, open
 * buckets, backpointers and extents, all in one shared region — and the paths over them (DOMAIN.md
 * §4): allocate, write (with its index-update commit), put, free, discard.
 *
 * `createFilesystem` lays out and initialises the memory; `attachFilesystem(fs.handle)` in any thread
 * gives a Filesystem over the same state. Each attached thread claims its own counter block, so a
 * thread uses its own Filesystem object (they are cheap views) and never shares one across threads.
 *
 * Lock order, which every path keeps: a bucket's record lock, then the open-bucket freelist lock.
 * Race points fire only outside locks, except where `lockHeld` says so.
 */
import { attachRegion, createRegion, type Region, type RegionHandle } from '../shared/region.js';
import { CounterBlocks } from '../shared/counters.js';
import { checkInt, ConfigError } from '../shared/validate.js';
import { RwLockArray } from '../locks/rwlock.js';
import {
  FILESYSTEM_KIND, FILESYSTEM_VERSION, filesystemSpec, normalizeConfig, type FilesystemConfig, type FilesystemOptions,
} from './config.js';
import { Dev } from './device.js';
import { RECORD_WORDS, Rec, deriveType, packState, stateFlags, stateGen, stateOldestGen, stateType } from './bucket-table.js';
import { BitmapIndex } from './bitmap-index.js';
import { OpenBuckets, Slot, WATERMARK_CODES } from './open-buckets.js';
import { EXTENT_LIVE, Ext, ExtentTable } from './extents.js';
import { ErrorLog, type ErrorEntry } from './error-log.js';
import { ALLOC_COUNTERS, type AllocCounter } from './counters.js';
import { RacePoint, type RaceHook } from './race-points.js';
import { AllocError, StaleHandleError, type ExtentInfo } from './errors.js';
import { fsck, type FsckOptions, type FsckReport } from './fsck.js';
import {
  ALLOCATORS, DATA_TYPE_NAMES, DataType, ERROR_KIND_NAMES, ErrorKind, FIXES, FREELIST_LOOKUPS, Flag, WATERMARKS, WRITE_TYPES,
  type DataTypeName, type ErrorKindName, type Watermark, type WriteType,
} from './types.js';

export interface FilesystemHandle {
  kind: typeof FILESYSTEM_KIND;
  config: FilesystemConfig;
  region: RegionHandle;
}

export interface AllocRequest {
  dataType?: WriteType;
  watermark?: Watermark;
  /** Who is allocating (a writer id, ≥ 0); defaults to this thread's counter slot. */
  owner?: number;
}

export type Extent = ExtentInfo;

/** A bucket this thread opened: write into it, then put it. */
export class OpenBucket {
  constructor(
    private readonly fs: Filesystem,
    readonly slot: number,
    readonly bucket: number,
    readonly gen: number,
    readonly dataType: WriteType,
    readonly owner: number,
    readonly opId: number,
  ) {}

  /** Sectors still free in the bucket (this writer's view); 0 once the bucket has been put. */
  get sectorsFree(): number {
    if (this.fs.open.field(this.slot, Slot.opId) !== this.opId || this.fs.open.field(this.slot, Slot.valid) !== 1) return 0;
    return this.fs.open.field(this.slot, Slot.sectorsFree);
  }
}

export interface FilesystemStats {
  buckets: Record<DataTypeName, number>;
  sectors: Record<'user' | 'btree' | 'cached', number>;
  openBuckets: { inUse: number; free: number; slots: number };
  counters: Record<AllocCounter, number>;
  errors: Record<ErrorKindName, number> & { total: number };
  cursor: number;
  opIds: number;
}

const WRITE_CODE: Record<string, number | undefined> = { user: DataType.user, btree: DataType.btree, cached: DataType.cached };
const C = Object.fromEntries(ALLOC_COUNTERS.map((n, i) => [n, i])) as Record<AllocCounter, number>;
const OWNER_MAX = 0x3fffffff;

export class Filesystem {
  readonly config: FilesystemConfig;
  readonly region: Region;
  /** This thread's counter block (also its worker number in error reports). */
  readonly threadSlot: number;
  readonly open: OpenBuckets;
  readonly freeSpace: BitmapIndex;
  readonly needDiscard: BitmapIndex;
  readonly extents: ExtentTable;
  readonly errorLog: ErrorLog;
  readonly counters: CounterBlocks<AllocCounter>;
  readonly records: Int32Array;
  readonly backpointers: Int32Array;
  readonly dev: Int32Array;
  private readonly recordLocks: RwLockArray;
  private readonly ctr: Int32Array;
  private readonly ctrBase: number;
  private readonly early: boolean;
  private readonly seqlockFix: boolean;
  /** Candidates are read-locked across check and publish: the key-lock fix, or freelist's locked lookup. */
  private readonly lockCandidate: boolean;
  private readonly timeout: number;
  private hook: RaceHook | null = null;
  private reserveHit = false;

  /** Use createFilesystem / attachFilesystem. */
  constructor(region: Region, config: FilesystemConfig, threadSlot: number, placement = threadSlot) {
    this.region = region;
    this.config = config;
    this.threadSlot = threadSlot;
    this.dev = region.i32('device');
    this.records = region.i32('records');
    this.backpointers = region.i32('backpointers');
    this.freeSpace = new BitmapIndex(region.i32('freeSpace'), config.buckets);
    this.needDiscard = new BitmapIndex(region.i32('needDiscard'), config.buckets);
    this.open = new OpenBuckets(region.i32('slots'), region.i32('hash'), this.dev, config.openBuckets);
    this.extents = new ExtentTable(region.i32('extents'), config.extents, Math.floor(((placement % config.maxThreads) * config.extents) / config.maxThreads));
    this.errorLog = new ErrorLog(region.i32('errors'), this.dev, config.errorLogSize);
    this.counters = countersOf(region, config);
    this.ctr = this.counters.raw;
    this.ctrBase = this.counters.base(threadSlot);
    this.recordLocks = new RwLockArray(this.records, Rec.lock, RECORD_WORDS, config.buckets, { name: 'bucket record lock' });
    this.early = config.allocator === 'early';
    this.seqlockFix = config.fix === 'seqlock';
    this.lockCandidate = config.fix === 'keylock' || (config.allocator === 'freelist' && config.freelistLookup === 'locked');
    this.timeout = config.lockTimeoutMs;
  }

  /** Plain, structured-cloneable: post it to a worker and call attachFilesystem there. */
  get handle(): FilesystemHandle {
    return { kind: FILESYSTEM_KIND, config: this.config, region: this.region.handle };
  }

  /** Installs (or removes, with null) this thread's race-point hook. */
  setRaceHook(hook: RaceHook | null): void {
    this.hook = hook;
  }

  // ---------------------------------------------------------------- allocate

  /**
   * Opens a free bucket for `dataType`, or returns null when none is free (or the open-bucket
   * reserve for this watermark is used up). The scan starts at the cursor (cursor fix) or at 0,
   * wraps once, and applies the configured fix to each candidate.
   */
  allocBucket(request: AllocRequest = {}): OpenBucket | null {
    if (typeof request !== 'object' || request === null) throw new ConfigError('request', 'must be an object { dataType?, watermark?, owner? }');
    for (const key in request) {
      if (key !== 'dataType' && key !== 'watermark' && key !== 'owner') {
        throw new ConfigError(`request.${key}`, 'unknown option; known options are dataType, watermark, owner');
      }
    }
    const dataType = request.dataType ?? 'user';
    const dt = WRITE_CODE[dataType];
    if (dt === undefined) throw new ConfigError('dataType', `must be one of ${WRITE_TYPES.join(', ')}, got ${String(dataType)}`);
    const wmName = request.watermark ?? 'normal';
    const wm = WATERMARK_CODES[wmName];
    if (wm === undefined) throw new ConfigError('watermark', `must be one of ${WATERMARKS.join(', ')}, got ${String(wmName)}`);
    const owner = request.owner === undefined ? this.threadSlot : checkInt('owner', request.owner, 0, OWNER_MAX);
    const ctr = this.ctr;
    const base = this.ctrBase;
    if (!this.open.reserveAllows(wm, this.open.freeSlots())) {
      ctr[base + C.reserveRefusals]!++;
      return null;
    }
    // The start point comes before the operation id, so a scheduled run numbers operations in the
    // order the schedule lets them start.
    if (this.hook !== null) this.hook.at(RacePoint.allocStart, -1, 0, false);
    const opId = Atomics.add(this.dev, Dev.opSeq, 1) + 1;
    const n = this.config.buckets;
    let start = this.config.cursorFix ? Atomics.load(this.dev, Dev.cursor) : 0;
    if (start >= n) start = 0;
    this.reserveHit = false;
    let ob = this.scan(start, n, dt, dataType, wm, owner, opId);
    if (ob === null && start > 0 && !this.reserveHit) ob = this.scan(0, start, dt, dataType, wm, owner, opId);
    if (ob === null && !this.reserveHit) ctr[base + C.allocFailures]!++;
    return ob;
  }

  private scan(lo: number, hi: number, dt: number, dataType: WriteType, wm: number, owner: number, opId: number): OpenBucket | null {
    const rec = this.records;
    const ctr = this.ctr;
    const base = this.ctrBase;
    const early = this.early;
    const seqFix = this.seqlockFix;
    let b = lo;
    while (b < hi) {
      const cand = early ? b : this.freeSpace.next(b, hi);
      if (cand < 0) break;
      b = cand + 1;
      ctr[base + C.bucketsSeen]!++;
      const at = cand * RECORD_WORDS;
      const seq = seqFix ? Atomics.load(rec, at + Rec.seq) : 0;
      const st = Atomics.load(rec, at + Rec.state);
      const type = stateType(st);
      if (type !== DataType.free) {
        ctr[base + (type === DataType.need_discard ? C.skippedNeedDiscard : C.skippedNotFree)]!++;
        continue;
      }
      if ((seq & 1) !== 0) {
        // Mid-commit: whatever the state says is about to change.
        ctr[base + C.revalidationRetries]!++;
        continue;
      }
      if (this.open.isOpen(cand)) {
        ctr[base + C.skippedOpen]!++;
        continue;
      }
      if (this.hook !== null) this.hook.at(RacePoint.candidateRead, cand, opId, false);
      const ob = this.tryOpen(cand, st, seq, dt, dataType, wm, owner, opId);
      if (ob !== null || this.reserveHit) return ob;
    }
    return null;
  }

  /** The check-and-publish step, with the configured fix. Null: skip this candidate. */
  private tryOpen(b: number, st: number, seq: number, dt: number, dataType: WriteType, wm: number, owner: number, opId: number): OpenBucket | null {
    const at = b * RECORD_WORDS;
    const ctr = this.ctr;
    const base = this.ctrBase;
    const locked = this.lockCandidate;
    let gen = stateGen(st);
    if (locked) {
      this.recordLocks.readLock(b, this.timeout);
      const again = Atomics.load(this.records, at + Rec.state);
      if (stateType(again) !== DataType.free) {
        this.recordLocks.readUnlock(b);
        ctr[base + C.keylockRefusals]!++;
        if (this.hook !== null) this.hook.at(RacePoint.lockedRereadRefused, b, opId, false);
        return null;
      }
      gen = stateGen(again);
    }
    let slot = 0;
    let refused: number = -1;
    try {
      if (this.hook !== null) this.hook.at(RacePoint.beforeFreelistLock, b, opId, locked);
      const open = this.open;
      open.lock.lock(this.timeout);
      try {
        if (!open.reserveAllows(wm, open.freeSlots())) {
          ctr[base + C.reserveRefusals]!++;
          this.reserveHit = true;
          return null;
        }
        if (open.isOpen(b)) {
          ctr[base + C.skippedOpen]!++;
          refused = RacePoint.foundOpen;
        } else if (this.seqlockFix && Atomics.load(this.records, at + Rec.seq) !== seq) {
          ctr[base + C.revalidationRetries]!++;
          refused = RacePoint.revalidateFailed;
        } else {
          slot = open.publish({ bucket: b, gen, dataType: dt, sectors: this.config.bucketSectors, owner, opId, watermark: wm });
        }
      } finally {
        open.lock.unlock();
      }
    } finally {
      if (locked) this.recordLocks.readUnlock(b);
    }
    if (slot === 0) {
      if (this.hook !== null) this.hook.at(refused, b, opId, false);
      return null;
    }
    if (this.config.cursorFix) Atomics.store(this.dev, Dev.cursor, b + 1 < this.config.buckets ? b + 1 : 0);
    ctr[base + C.allocs]!++;
    if (this.hook !== null) this.hook.at(RacePoint.afterPublish, b, opId, false);
    return new OpenBucket(this, slot, b, gen, dataType, owner, opId);
  }

  // ---------------------------------------------------------------- write (index-update commit)

  private checkOpenBucket(ob: OpenBucket): void {
    if (!(ob instanceof OpenBucket)) throw new StaleHandleError('openBucket', 'must be an OpenBucket returned by allocBucket');
    const s = ob.slot;
    if (this.open.field(s, Slot.valid) !== 1 || this.open.field(s, Slot.opId) !== ob.opId) {
      throw new StaleHandleError('openBucket', `bucket ${ob.bucket} (op ${ob.opId}) is no longer open: it was already put`);
    }
  }

  /**
   * Writes `sectors` into the open bucket and commits the index update: record, backpointer,
   * extent, free-space index, usage, sequence count — all under the bucket's record lock. A
   * duplicate backpointer, data-type mismatch or gen mismatch is logged and thrown as an AllocError
   * carrying the extent, which has landed regardless.
   */
  write(ob: OpenBucket, sectors: number, owner: number = ob.owner): Extent {
    this.checkOpenBucket(ob);
    const free = this.open.field(ob.slot, Slot.sectorsFree);
    const S = this.config.bucketSectors;
    if (typeof sectors !== 'number' || !Number.isInteger(sectors) || sectors < 1 || sectors > free) {
      throw new ConfigError('sectors', `must be an integer in [1, ${free}] (sectors left in open bucket ${ob.bucket}; buckets hold ${S}), got ${String(sectors)}`);
    }
    checkInt('owner', owner, 0, OWNER_MAX);
    const offset = S - free;
    // Claim the extent slot first: a full table throws here, before the open bucket gives up sectors.
    const id = this.extents.claim();
    this.open.setField(ob.slot, Slot.sectorsFree, free - sectors);
    if (this.hook !== null) this.hook.at(RacePoint.beforeCommit, ob.bucket, ob.opId, false);
    const extent: Extent = { id, bucket: ob.bucket, gen: ob.gen, offset, sectors, dataType: ob.dataType, owner, opId: ob.opId };
    const failure = this.commitWrite(extent);
    this.ctr[this.ctrBase + C.commits]!++;
    if (this.hook !== null) {
      this.hook.at(RacePoint.afterCommit, ob.bucket, ob.opId, false);
      if (failure !== null) this.hook.at(RacePoint.commitFailed, ob.bucket, ob.opId, false);
    }
    if (failure !== null) throw failure;
    return extent;
  }

  private commitWrite(e: Extent): AllocError | null {
    const b = e.bucket;
    const at = b * RECORD_WORDS;
    const rec = this.records;
    const dt = WRITE_CODE[e.dataType]!;
    this.recordLocks.writeLock(b, this.timeout);
    Atomics.add(rec, at + Rec.seq, 1);
    const st = Atomics.load(rec, at + Rec.state);
    const type = stateType(st);
    const flags = stateFlags(st);
    let dirty = rec[at + Rec.dirty]!;
    let cached = rec[at + Rec.cached]!;
    const lastOwner = rec[at + Rec.lastOwner]!;
    const lastOp = rec[at + Rec.lastOp]!;

    // Every problem this write has is logged; the thrown error leads with the most direct one.
    const problems: { kind: number; otherOwner: number; otherOp: number; detail: number }[] = [];
    const bpi = b * this.config.bucketSectors + e.offset;
    const existing = this.backpointers[bpi]!;
    if (existing !== 0) {
      problems.push({
        kind: ErrorKind.duplicate_backpointer,
        otherOwner: this.extents.get(existing - 1, Ext.owner),
        otherOp: this.extents.get(existing - 1, Ext.opId),
        detail: e.offset,
      });
    } else {
      this.backpointers[bpi] = e.id + 1;
    }
    if (dt !== DataType.cached && dirty > 0 && type !== dt) {
      problems.push({ kind: ErrorKind.data_type_mismatch, otherOwner: lastOwner, otherOp: lastOp, detail: type });
    }
    if (stateGen(st) !== e.gen) {
      problems.push({ kind: ErrorKind.gen_mismatch, otherOwner: lastOwner, otherOp: lastOp, detail: stateGen(st) });
    }

    const x = this.extents;
    x.set(e.id, Ext.bucket, b);
    x.set(e.id, Ext.gen, e.gen);
    x.set(e.id, Ext.offset, e.offset);
    x.set(e.id, Ext.sectors, e.sectors);
    x.set(e.id, Ext.dataType, dt);
    x.set(e.id, Ext.owner, e.owner);
    x.set(e.id, Ext.opId, e.opId);
    x.publish(e.id);

    // The record keeps the type of the dirty data it already holds; a mismatching write is logged.
    const dirtyType = dirty > 0 ? type : dt;
    if (dt === DataType.cached) cached += e.sectors;
    else dirty += e.sectors;
    let newFlags = flags;
    if ((flags & Flag.need_discard) !== 0) {
      // Data landed in a bucket waiting for discard (its writer still had it open): no discard now.
      newFlags &= ~(Flag.need_discard | Flag.need_inc_gen);
      this.needDiscard.remove(b);
    }
    const newType = deriveType(dirty, cached, newFlags, dirtyType);
    if (type === DataType.free) this.freeSpace.remove(b);
    this.moveUsage(type, newType);
    Atomics.add(this.dev, Dev.sectorsByType + (dt === DataType.cached ? DataType.cached : newType), e.sectors);
    rec[at + Rec.dirty] = dirty;
    rec[at + Rec.cached] = cached;
    rec[at + Rec.lastOwner] = e.owner;
    rec[at + Rec.lastOp] = e.opId;
    Atomics.store(rec, at + Rec.state, packState(stateGen(st), stateOldestGen(st), newType, newFlags));
    Atomics.add(rec, at + Rec.seq, 1);
    this.recordLocks.writeUnlock(b);

    if (problems.length === 0) return null;
    for (const p of problems) {
      this.errorLog.append(p.kind, { bucket: b, owner: e.owner, otherOwner: p.otherOwner, worker: this.threadSlot, opId: e.opId, otherOpId: p.otherOp, detail: p.detail });
    }
    const p = problems[0]!;
    const why = problems.map((q) => (q.kind === ErrorKind.duplicate_backpointer ? `a backpointer already exists at offset ${e.offset}`
      : q.kind === ErrorKind.data_type_mismatch ? `bucket holds ${DATA_TYPE_NAMES[q.detail]} data, write is ${e.dataType}`
        : `open bucket has gen ${e.gen}, bucket has gen ${q.detail}`)).join('; ');
    return new AllocError(problems.map((q) => ERROR_KIND_NAMES[q.kind - 1]!), e, p.otherOwner, p.otherOp, why);
  }

  private moveUsage(from: number, to: number): void {
    if (from === to) return;
    Atomics.sub(this.dev, Dev.bucketsByType + from, 1);
    Atomics.add(this.dev, Dev.bucketsByType + to, 1);
  }

  // ---------------------------------------------------------------- put

  /** Drops the open bucket's pin; the last put takes it out of the open-bucket hash. */
  put(ob: OpenBucket): void {
    this.checkOpenBucket(ob);
    if (this.hook !== null) this.hook.at(RacePoint.beforePut, ob.bucket, ob.opId, false);
    this.open.lock.lock(this.timeout);
    try {
      // Re-checked under the lock: a concurrent put of the same handle must not free the slot twice.
      if (this.open.field(ob.slot, Slot.valid) !== 1 || this.open.field(ob.slot, Slot.opId) !== ob.opId) {
        throw new StaleHandleError('openBucket', `bucket ${ob.bucket} (op ${ob.opId}) was put concurrently`);
      }
      this.open.unpin(ob.slot);
    } finally {
      this.open.lock.unlock();
    }
    this.ctr[this.ctrBase + C.puts]!++;
    if (this.hook !== null) this.hook.at(RacePoint.afterPut, ob.bucket, ob.opId, false);
  }

  // ---------------------------------------------------------------- free and discard

  /** The handle's shape, before its bucket is locked: nothing shared is read. */
  private checkExtentHandle(e: Extent): void {
    if (typeof e !== 'object' || e === null || typeof e.id !== 'number' || !Number.isInteger(e.id) || e.id < 0 || e.id >= this.config.extents
      || typeof e.bucket !== 'number' || !Number.isInteger(e.bucket) || e.bucket < 0 || e.bucket >= this.config.buckets) {
      throw new StaleHandleError('extent', 'must be an Extent returned by write');
    }
  }

  /** The handle against the stored extent; the caller holds the bucket's record lock. */
  private checkExtentLive(e: Extent): void {
    const x = this.extents;
    if (x.state(e.id) !== EXTENT_LIVE || x.get(e.id, Ext.bucket) !== e.bucket || x.get(e.id, Ext.offset) !== e.offset
      || x.get(e.id, Ext.opId) !== e.opId || x.get(e.id, Ext.sectors) !== e.sectors
      // free() takes the sectors off dirty or cached by the handle's dataType: it must be the stored one.
      || x.get(e.id, Ext.dataType) !== WRITE_CODE[e.dataType]) {
      throw new StaleHandleError('extent', `extent ${e.id} (bucket ${e.bucket}, offset ${e.offset}) is not live: already freed?`);
    }
  }

  /**
   * Drops an extent (overwrite or delete): its backpointer and sectors go; a bucket left empty goes
   * to need_discard, or with discards off straight to free with gen + 1 — unless it is still open,
   * whose gen must not move: it then waits in need_discard for the discard step.
   */
  free(e: Extent): void {
    this.checkExtentHandle(e);
    if (this.hook !== null) this.hook.at(RacePoint.beforeFree, e.bucket, e.opId, false);
    const b = e.bucket;
    const at = b * RECORD_WORDS;
    const rec = this.records;
    this.recordLocks.writeLock(b, this.timeout);
    try {
      // Under the lock: no other thread can free it (or reuse its slot) while we look.
      this.checkExtentLive(e);
      Atomics.add(rec, at + Rec.seq, 1);
      const bpi = b * this.config.bucketSectors + e.offset;
      if (this.backpointers[bpi] === e.id + 1) this.backpointers[bpi] = 0;
      this.extents.release(e.id);
      const st = Atomics.load(rec, at + Rec.state);
      const type = stateType(st);
      let dirty = rec[at + Rec.dirty]!;
      let cached = rec[at + Rec.cached]!;
      const isCached = e.dataType === 'cached';
      if (isCached) cached = Math.max(0, cached - e.sectors);
      else dirty = Math.max(0, dirty - e.sectors);
      Atomics.sub(this.dev, Dev.sectorsByType + (isCached ? DataType.cached : type), e.sectors);
      let gen = stateGen(st);
      let oldest = stateOldestGen(st);
      let flags = stateFlags(st);
      if (dirty === 0 && cached === 0 && type !== DataType.free && type !== DataType.need_discard) {
        if (this.config.discard || this.open.isOpenSafe(b, this.timeout)) {
          flags |= Flag.need_discard | (this.config.discard ? 0 : Flag.need_inc_gen);
          this.needDiscard.add(b);
        } else {
          gen = (gen + 1) & 0xff;
          oldest = gen;
          flags = 0;
          this.freeSpace.add(b);
        }
      }
      const newType = deriveType(dirty, cached, flags, type);
      this.moveUsage(type, newType);
      rec[at + Rec.dirty] = dirty;
      rec[at + Rec.cached] = cached;
      Atomics.store(rec, at + Rec.state, packState(gen, oldest, newType, flags));
      Atomics.add(rec, at + Rec.seq, 1);
    } finally {
      this.recordLocks.writeUnlock(b);
    }
    this.ctr[this.ctrBase + C.frees]!++;
  }

  /**
   * Discards up to `max` need_discard buckets: each gets gen + 1 and returns to the free-space
   * index. Buckets still open are skipped (their gen must not move) and stay for a later pass.
   * Returns how many were discarded.
   */
  discard(max = Infinity): number {
    if (max !== Infinity) checkInt('max', max, 0, 2 ** 31 - 1);
    const n = this.config.buckets;
    const start = Atomics.load(this.dev, Dev.discardCursor) % n;
    let done = 0;
    let last = start;
    for (let pass = 0; pass < 2 && done < max; pass++) {
      const lo = pass === 0 ? start : 0;
      const hi = pass === 0 ? n : start;
      let b = lo;
      while (done < max) {
        const cand = this.needDiscard.next(b, hi);
        if (cand < 0) break;
        b = cand + 1;
        last = b;
        if (this.hook !== null) this.hook.at(RacePoint.beforeDiscard, cand, 0, false);
        if (this.discardOne(cand)) done++;
      }
    }
    Atomics.store(this.dev, Dev.discardCursor, last % n);
    this.ctr[this.ctrBase + C.discards]! += done;
    return done;
  }

  private discardOne(b: number): boolean {
    const at = b * RECORD_WORDS;
    const rec = this.records;
    this.recordLocks.writeLock(b, this.timeout);
    try {
      const st = Atomics.load(rec, at + Rec.state);
      const flags = stateFlags(st);
      if ((flags & Flag.need_discard) === 0) {
        this.needDiscard.remove(b);
        return false;
      }
      if (rec[at + Rec.dirty]! > 0 || rec[at + Rec.cached]! > 0) return false;
      if (this.open.isOpenSafe(b, this.timeout)) return false;
      Atomics.add(rec, at + Rec.seq, 1);
      const gen = (stateGen(st) + 1) & 0xff;
      Atomics.store(rec, at + Rec.state, packState(gen, gen, DataType.free, 0));
      this.needDiscard.remove(b);
      this.freeSpace.add(b);
      this.moveUsage(stateType(st), DataType.free);
      Atomics.add(rec, at + Rec.seq, 1);
      return true;
    } finally {
      this.recordLocks.writeUnlock(b);
    }
  }

  // ---------------------------------------------------------------- observation

  /** Usage, open-bucket occupancy, counters summed over every thread, and error counts. */
  stats(): FilesystemStats {
    const buckets = {} as Record<DataTypeName, number>;
    DATA_TYPE_NAMES.forEach((name, t) => { buckets[name] = Atomics.load(this.dev, Dev.bucketsByType + t); });
    const free = this.open.freeSlots();
    return {
      buckets,
      sectors: {
        user: Atomics.load(this.dev, Dev.sectorsByType + DataType.user),
        btree: Atomics.load(this.dev, Dev.sectorsByType + DataType.btree),
        cached: Atomics.load(this.dev, Dev.sectorsByType + DataType.cached),
      },
      openBuckets: { inUse: this.open.usable - free, free, slots: this.open.usable },
      counters: this.counters.total(),
      errors: { ...this.errorLog.countByKind(), total: this.errorLog.total() },
      cursor: Atomics.load(this.dev, Dev.cursor),
      opIds: Atomics.load(this.dev, Dev.opSeq),
    };
  }

  /** Checks every invariant (DOMAIN.md §5). Run it quiescent: no thread mid-operation. */
  fsck(options: FsckOptions = {}): FsckReport {
    return fsck(this, options);
  }

  /** Error log entries (the first `errorLogSize`). */
  errors(): ErrorEntry[] {
    return this.errorLog.entries();
  }

  /**
   * Gives this thread's counter block back so another thread can attach (its counts stay in the
   * totals). Do not use this Filesystem object afterwards.
   */
  detach(): void {
    this.hook = null;
    this.counters.releaseSlot(this.threadSlot);
  }
}

function claimThreadSlot(counters: CounterBlocks<AllocCounter>, maxThreads: number): number {
  const slot = counters.claimSlot();
  if (slot < 0) {
    throw new ConfigError('maxThreads', `all ${maxThreads} thread slots are taken; detach() filesystems no longer used, or create the filesystem with a larger maxThreads`);
  }
  return slot;
}

/**
 * The settings that change behaviour but not layout, as device words: a handle whose config differs
 * in any of them would run other rules over the same memory, so attach refuses it.
 */
const BEHAVIOUR: readonly { key: keyof FilesystemConfig; code: (c: FilesystemConfig) => number }[] = [
  { key: 'allocator', code: (c) => ALLOCATORS.indexOf(c.allocator) },
  { key: 'fix', code: (c) => FIXES.indexOf(c.fix) },
  { key: 'cursorFix', code: (c) => (c.cursorFix ? 1 : 0) },
  { key: 'freelistLookup', code: (c) => FREELIST_LOOKUPS.indexOf(c.freelistLookup) },
  { key: 'discard', code: (c) => (c.discard ? 1 : 0) },
  { key: 'lockTimeoutMs', code: (c) => c.lockTimeoutMs },
];

function countersOf(region: Region, config: FilesystemConfig): CounterBlocks<AllocCounter> {
  return new CounterBlocks(region.i32('counters'), ALLOC_COUNTERS, config.maxThreads);
}

/** Lays out and initialises a filesystem: every bucket free, every open-bucket slot unused. */
export function createFilesystem(options: FilesystemOptions = {}): Filesystem {
  const config = normalizeConfig(options);
  const region = createRegion(filesystemSpec(config));
  const dev = region.i32('device');
  const free = new BitmapIndex(region.i32('freeSpace'), config.buckets);
  for (let b = 0; b < config.buckets; b++) free.add(b);
  Atomics.store(dev, Dev.bucketsByType + DataType.free, config.buckets);
  new OpenBuckets(region.i32('slots'), region.i32('hash'), dev, config.openBuckets).init();
  BEHAVIOUR.forEach((b, i) => Atomics.store(dev, Dev.behaviour + i, b.code(config)));
  return new Filesystem(region, config, claimThreadSlot(countersOf(region, config), config.maxThreads));
}

export interface AttachOptions {
  /**
   * Where this thread starts looking for free extent slots (0 ≤ placement < maxThreads). Threads
   * attach in no particular order, so a run that must replay exactly (a controlled schedule) passes
   * its worker index to make extent ids independent of attach order. Default: the thread slot.
   */
  placement?: number;
}

/** A Filesystem over the same shared state, in this thread. Validates the handle first. */
export function attachFilesystem(handle: unknown, options: AttachOptions = {}): Filesystem {
  if (typeof handle !== 'object' || handle === null || (handle as { kind?: unknown }).kind !== FILESYSTEM_KIND) {
    throw new ConfigError('handle', 'must be a filesystem handle (fs.handle), got something else');
  }
  const h = handle as FilesystemHandle;
  const config = normalizeConfig(h.config);
  const region = attachRegion(h.region, { kind: FILESYSTEM_KIND, version: FILESYSTEM_VERSION, spec: filesystemSpec(config) });
  const dev = region.i32('device');
  BEHAVIOUR.forEach((b, i) => {
    if (Atomics.load(dev, Dev.behaviour + i) !== b.code(config)) {
      throw new ConfigError(`handle.config.${b.key}`, `is ${JSON.stringify(config[b.key])}, but the filesystem in these buffers was created with another value; attach with its own handle`);
    }
  });
  const placement = options.placement === undefined ? undefined : checkInt('placement', options.placement, 0, config.maxThreads - 1);
  const slot = claimThreadSlot(countersOf(region, config), config.maxThreads);
  return new Filesystem(region, config, slot, placement ?? slot);
}
