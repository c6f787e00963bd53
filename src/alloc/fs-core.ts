/**
 * FsCore: one thread's view of a filesystem — the shared structures (all in one region) and this
 * thread's own state (its thread-registry member, counter block, intent record, race hook, fault
 * plan). Every path (alloc-*.ts, commit.ts, put.ts, free.ts, discard.ts) is a function over it;
 * `Filesystem` is the public face.
 *
 * Lock order, which every path keeps (a path holds at most one record lock):
 *
 *     a bucket's record lock  (write: every update of that bucket; read: key lock, locked lookup)
 *       → the open-bucket freelist lock  (every open-slot, hash and slot-freelist change)
 *
 * Nothing takes a record lock while holding the freelist lock. Race points fire only outside locks,
 * except where the hook's `lockHeld` says so. Every lock acquisition goes through the methods below,
 * which are where a dead holder is taken over (and its update finished from its intent record, see
 * recovery.ts), and where a test can make the N-th acquisition fail (setFaultPlan).
 */
import type { Region } from '../shared/region.js';
import { CounterBlocks } from '../shared/counters.js';
import { LockTimeoutError } from '../locks/common.js';
import { RwLockArray } from '../locks/rwlock.js';
import { ThreadRegistry } from '../locks/thread-registry.js';
import type { FilesystemConfig } from './config.js';
import { RECORD_WORDS, Rec } from './bucket-table.js';
import { BitmapIndex } from './bitmap-index.js';
import { OpenBuckets } from './open-buckets.js';
import { ExtentTable } from './extents.js';
import { ErrorLog } from './error-log.js';
import { MEMBER_COUNTERS, type MemberCounter } from './counters.js';
import { Dev64 } from './device.js';
import { INTENT_F64, INTENT_WORDS, type IntentView } from './intents.js';
import { RecordUpdate } from './record-update.js';
import type { RaceHook } from './race-points.js';
import { RECORD_LOCK_DOMAIN, repairFreelistHolder, repairRecordHolder } from './recovery.js';
import type { AllocAttempt } from './alloc-publish.js';
import { newCommitArgs, type CommitArgs } from './commit.js';

/** Test-only faults: make the N-th lock acquisition (counted from when the plan is set) fail. */
export interface FaultPlan {
  /** 1-based: the acquisition that fails. A blocking one throws a LockTimeoutError; a try-lock reports "busy". */
  failLockAcquisition: number;
}

/**
 * Where inside an update a test can stop a thread (to kill it there): the lock taken; the intent
 * record published; half of the update applied; all of it applied; the intent cleared (the lock is
 * still held at every one of them).
 */
export type UpdateStage = 'locked' | 'published' | 'half-applied' | 'applied' | 'cleared';

/** A test's hook inside updates: `kind` is 'record', 'publish' or 'unpin'. */
export type StageHook = (kind: 'record' | 'publish' | 'unpin', stage: UpdateStage, target: number) => void;

/** Thrown by a detached Filesystem. */
export class DetachedError extends Error {
  constructor(what: string) {
    super(`${what}: this Filesystem was detached; attach again (attachFilesystem(handle)) to use the filesystem`);
    this.name = 'DetachedError';
  }
}


export class FsCore {
  readonly config: FilesystemConfig;
  readonly region: Region;
  /** The filesystem's random identity (in every buffer header; carried by its handles). */
  readonly identity: number;
  readonly dev: Int32Array;
  readonly dev64: BigInt64Array;
  readonly records: Int32Array;
  /** The same memory as float64s: cycleOp (bucket-table.ts). */
  readonly recF64: Float64Array;
  readonly sectorMap: Int32Array;
  readonly freeSpace: BitmapIndex;
  readonly needDiscard: BitmapIndex;
  readonly open: OpenBuckets;
  readonly extents: ExtentTable;
  readonly errorLog: ErrorLog;
  readonly counters: CounterBlocks<MemberCounter>;
  readonly ctr: Float64Array;
  readonly registry: ThreadRegistry;
  readonly recordLocks: RwLockArray;
  readonly intentI32: Int32Array;
  readonly intentF64: Float64Array;

  /** This thread's member in the registry, and where its counters and intent record are. */
  readonly member: number;
  /** The member's epoch and lock owner id when this view joined: detach frees only its own member. */
  readonly epoch: number;
  readonly ownerId: number;
  readonly ctrBase: number;
  readonly intent: IntentView;
  /** The record update this view is planning or applying (record-update.ts); reused. */
  readonly update = new RecordUpdate();

  readonly early: boolean;
  readonly seqlockFix: boolean;
  /** Candidates are read-locked across check and publish: the key-lock fix, or freelist's locked lookup. */
  readonly lockCandidate: boolean;
  readonly oracle: boolean;
  readonly timeout: number;

  hook: RaceHook | null = null;
  /** Test-only: called at each stage of every update this view makes (null: never). */
  stageHook: StageHook | null = null;
  detached = false;
  /** Set by a scan step when the open-bucket reserve refused: the scan stops there. */
  reserveHit = false;
  /** The sequence readCandidate saw with the candidate it returned (seqlock fix). */
  candidateSeq = 0;
  /** The write in progress (reused). */
  readonly commit: CommitArgs = newCommitArgs();
  /** The allocation in progress (reused: an allocation makes no garbage). */
  readonly attempt: AllocAttempt = { dataType: 0, watermark: 0, writer: 0, opId: 0, slot: 0, gen: 0 };
  private faults: FaultPlan | null = null;
  private acquisitions = 0;

  constructor(region: Region, config: FilesystemConfig, member: number, placement: number) {
    this.region = region;
    this.config = config;
    this.identity = region.identity;
    this.dev = region.i32('device');
    this.dev64 = region.i64('device64');
    this.records = region.i32('records');
    this.recF64 = new Float64Array(this.records.buffer, this.records.byteOffset, this.records.length >>> 1);
    this.sectorMap = region.i32('sectorMap');
    this.freeSpace = new BitmapIndex(region.i32('freeSpace'), config.buckets);
    this.needDiscard = new BitmapIndex(region.i32('needDiscard'), config.buckets);
    this.registry = new ThreadRegistry(region.i32('registry'), 0, config.maxThreads);
    this.open = new OpenBuckets(region.i32('slots'), region.i32('hash'), this.dev, config.openBuckets, this.registry);
    this.extents = new ExtentTable(region.i32('extents'), config.extents, Math.floor(((placement % config.maxThreads) * config.extents) / config.maxThreads));
    this.errorLog = new ErrorLog(region.i32('errors'), this.dev64, config.errorLogSize);
    this.counters = new CounterBlocks(region.f64('counters'), MEMBER_COUNTERS, config.maxThreads);
    this.ctr = this.counters.raw;
    this.recordLocks = new RwLockArray(this.records, Rec.lock, RECORD_WORDS, config.buckets, { name: 'bucket record lock', registry: this.registry, domain: RECORD_LOCK_DOMAIN });
    this.intentI32 = region.i32('intents');
    this.intentF64 = new Float64Array(this.intentI32.buffer, this.intentI32.byteOffset, this.intentI32.length >>> 1);
    this.member = member;
    this.epoch = this.registry.epochOf(member);
    this.ownerId = this.registry.ownerOf(member);
    this.ctrBase = this.counters.base(member);
    this.intent = this.intentOf(member);
    this.early = config.allocator === 'early';
    this.seqlockFix = config.fix === 'seqlock';
    this.lockCandidate = config.fix === 'keylock' || (config.allocator === 'freelist' && config.freelistLookup === 'locked');
    this.oracle = config.oracle;
    this.timeout = config.lockTimeoutMs;
  }

  /** Member m's intent record. */
  intentOf(m: number): IntentView {
    return { i32: this.intentI32, f64: this.intentF64, at: m * INTENT_WORDS, atF: m * INTENT_F64 };
  }

  /** Throws if this view was detached. One boolean test: every public call makes it. */
  live(what: string): void {
    if (this.detached) throw new DetachedError(what);
  }

  nextOpId(): number {
    return Number(Atomics.add(this.dev64, Dev64.opSeq, 1n)) + 1;
  }

  setFaultPlan(plan: FaultPlan | null): void {
    this.faults = plan;
    this.acquisitions = 0;
  }

  /** Lock acquisitions since the fault plan was set (a test counts a path's, then fails each in turn). */
  get lockAcquisitions(): number {
    return this.acquisitions;
  }

  /** True when this acquisition is the one the fault plan fails. */
  private injected(): boolean {
    return this.faults !== null && ++this.acquisitions === this.faults.failLockAcquisition;
  }

  private injectedTimeout(what: string): LockTimeoutError {
    return new LockTimeoutError(`${what} (fault injected: acquisition ${this.acquisitions})`, 0, this.timeout, 'nobody: the failure was injected');
  }

  /** Takes bucket b's record lock for write. A dead holder is taken over and its update finished. */
  lockRecordWrite(b: number): void {
    if (this.faults !== null && this.injected()) throw this.injectedTimeout(`bucket record lock[${b}]`);
    if (this.recordLocks.writeLock(b, this.timeout) === 'owner-died') {
      repairRecordHolder(this, b);
      this.recordLocks.markConsistent(b);
    }
  }

  unlockRecordWrite(b: number): void {
    this.recordLocks.writeUnlock(b);
  }

  /** Read-locks bucket b's record if that can be done at once (never waits: a busy record is being updated). */
  tryLockRecordRead(b: number): boolean {
    if (this.faults !== null && this.injected()) return false;
    // A thread with several views lists its read holds under the member of the view that takes them.
    if (this.registry.selfMember !== this.member) this.registry.useMember(this.member);
    return this.recordLocks.tryReadLock(b);
  }

  unlockRecordRead(b: number): void {
    this.recordLocks.readUnlock(b);
  }

  /** Takes the freelist lock. A dead holder is taken over and its update finished. */
  lockFreelist(): void {
    if (this.faults !== null && this.injected()) throw this.injectedTimeout('open-bucket freelist lock');
    if (this.open.lock.lock(this.timeout) === 'owner-died') {
      repairFreelistHolder(this);
      this.open.lock.markConsistent();
    }
  }

  unlockFreelist(): void {
    this.open.lock.unlock();
  }

  /** Authoritative "is bucket b open?": the hash walk under the freelist lock. */
  isOpenSafe(b: number): boolean {
    this.lockFreelist();
    try {
      return this.open.isOpenLocked(b);
    } finally {
      this.unlockFreelist();
    }
  }
}
