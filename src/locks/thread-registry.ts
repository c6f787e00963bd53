/**
 * ThreadRegistry: which threads are attached to a set of shared structures, and which of them died.
 * It is what makes the locks robust (the POSIX robust-mutex idea): a lock word records its holder's
 * owner id, and a waiter that finds that owner marked dead here takes the lock over instead of
 * waiting out its timeout, and is told so ('owner-died'). Readers of an RwLock are counted, not
 * named, so each member also keeps the read locks it holds in its own words (Linux's robust-futex
 * list, in shared memory): a dead reader's holds can be found and released (see rwlock.ts).
 *
 * Nobody can see a thread die from inside shared memory: the code that owns a thread reports it —
 * the Node spawner from the worker's `exit` event (watchWorker in src/shared/watch-worker.ts), a
 * browser page from its Worker's `error` event or a heartbeat. Report only threads that have really
 * stopped: a lock taken over from a live holder no longer excludes anything.
 *
 * Memory: an Int32Array over a SharedArrayBuffer, `ThreadRegistry.words(members)` words at `index`,
 * a 16-word header and then one 16-word (64-byte) line per member, so that members never share a
 * cache line (each member's line is written by its own thread on every robust read lock):
 *
 *   index + 0                 header
 *     [0]  MAGIC 0x52454731 ("REG1"): init() has run
 *     [1]  members: the table's size, checked by every constructor
 *     [2]  id: random, non-zero; names this table in the per-thread "which member am I" map
 *     [3]  dead: members in state dead or recovering; 0 lets a waiter skip the scan (one load)
 *     [4]  reclaim lock: 0, or the owner id of the thread now reclaiming dead readers' holds of one
 *          RwLock (rwlock.ts); a thread whose owner is dead may be taken over
 *     [5]  reclaim target: the read-hold entry (below) of the lock being reclaimed, 0 when none
 *     [6..15] reserved, zero
 *   index + 16 + m × 16       member m
 *     [0]  state: 0 free, 1 alive, 2 dead, 3 recovering
 *     [1]  ownerId: the owner id its thread records in lock words (0 while free)
 *     [2]  threadId: the runtime's thread id (Node: worker.threadId), -1 if none
 *     [3]  epoch: +1 at every join, so a member index reused by a later thread is told apart
 *     [4..15] read holds: 12 entries, each 0 (empty) or ((domain + 1) << 24) | k — lock k of the
 *          robust RwLockArray given `domain` in its options. Only the member's own thread writes an
 *          entry while it is alive (Atomics.store); once it is dead, reclaimers clear them (CAS).
 *
 * Words 0..3 of a member are the registry's own; 4..15 belong to the RwLock robust list.
 *
 * Lifecycle of a member: free → join → alive → leave → free, or alive → markDead → dead →
 * beginRecovery (a CAS: exactly one recoverer wins) → recovering → finishRecovery → free.
 */
import { ConfigError, checkInt, checkSharedWords } from '../shared/validate.js';
import { LockMisuseError, currentOwnerId, currentThreadId } from './common.js';

/** Words per member: one 64-byte line. */
export const MEMBER_WORDS = 16;
/** Header words before member 0. */
export const REGISTRY_HEADER_WORDS = 16;
/** Read locks one member can hold at once on robust RwLocks (its words 4..15). */
export const READ_HOLD_ENTRIES = 12;
/** First word of a member that belongs to the read-hold list. */
export const READ_HOLDS_AT = 4;
/** Largest registry: members (attached threads) one table can hold. */
export const MAX_MEMBERS = 4096;
/** Domains of robust RwLockArrays are 0..MAX_DOMAIN (7 bits in an entry, 0 kept for "empty"). */
export const MAX_DOMAIN = 126;
/** A robust RwLockArray holds at most this many + 1 locks (24 bits of an entry). */
export const MAX_ROBUST_LOCK_INDEX = (1 << 24) - 1;

const MAGIC = 0x52454731;
const H_MAGIC = 0;
const H_MEMBERS = 1;
const H_ID = 2;
const H_DEAD = 3;
const H_RECLAIM = 4;
const H_TARGET = 5;

const M_STATE = 0;
const M_OWNER = 1;
const M_THREAD = 2;
const M_EPOCH = 3;

const FREE = 0;
const ALIVE = 1;
const DEAD = 2;
const RECOVERING = 3;

/** A member's place in its lifecycle: free → alive → (dead → recovering →) free. */
export type MemberState = 'free' | 'alive' | 'dead' | 'recovering';
const STATE_NAMES: readonly MemberState[] = ['free', 'alive', 'dead', 'recovering'];

/** One read lock a member holds: lock `index` of the robust RwLockArray with `domain`. */
export interface ReadHold {
  domain: number;
  index: number;
}

/** The entry word for lock k of domain `domain` (never 0). */
export function readHoldEntry(domain: number, k: number): number {
  return ((domain + 1) << 24) | k;
}

/**
 * Which member this thread joined as, per registry id: shared by every ThreadRegistry object of this
 * thread over the same table, so a lock built from its own registry object sees the join another
 * object did. A plain object field, read on the robust read-lock fast path without an Atomics op.
 */
export interface MemberRef {
  member: number;
}
const selves = new Map<number, MemberRef>();

function randomId(): number {
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Int32Array) => Int32Array } }).crypto;
  const a = new Int32Array(1);
  for (;;) {
    if (typeof c?.getRandomValues === 'function') c.getRandomValues(a);
    else a[0] = Math.floor(Math.random() * 2 ** 32) | 0;
    if (a[0] !== 0) return a[0]!;
  }
}

/**
 * The table of members — threads attached to a set of shared structures — and which of them died:
 * what makes the locks robust (a dead holder's lock is taken over) and lists robust read holds.
 */
export class ThreadRegistry {
  readonly i32: Int32Array;
  readonly index: number;
  readonly members: number;
  /** Word index of member 0's first word. */
  private readonly base: number;
  private readonly self: MemberRef;

  /** Words a registry of `members` members needs (header + one line per member). */
  static words(members: number): number {
    checkInt('ThreadRegistry members', members, 1, MAX_MEMBERS);
    return REGISTRY_HEADER_WORDS + members * MEMBER_WORDS;
  }

  /**
   * Lays out an empty table. Call once, before any thread constructs a ThreadRegistry over it (and
   * never while threads use it: it forgets every member and every read hold).
   */
  static init(i32: Int32Array, index: number, members: number): void {
    const words = ThreadRegistry.words(members);
    checkSharedWords('ThreadRegistry', i32, index, words);
    for (let w = 0; w < words; w++) Atomics.store(i32, index + w, 0);
    for (let m = 0; m < members; m++) Atomics.store(i32, index + REGISTRY_HEADER_WORDS + m * MEMBER_WORDS + M_THREAD, -1);
    Atomics.store(i32, index + H_MEMBERS, members);
    Atomics.store(i32, index + H_ID, randomId());
    Atomics.store(i32, index + H_MAGIC, MAGIC);
  }

  constructor(i32: Int32Array, index: number, members: number) {
    checkSharedWords('ThreadRegistry', i32, index, ThreadRegistry.words(members));
    if (Atomics.load(i32, index + H_MAGIC) !== MAGIC) {
      throw new ConfigError('ThreadRegistry', `no registry at word ${index}: call ThreadRegistry.init first`);
    }
    const laidOut = Atomics.load(i32, index + H_MEMBERS);
    if (laidOut !== members) {
      throw new ConfigError('ThreadRegistry members', `must match the table laid out at word ${index} (${laidOut}), got ${members}`);
    }
    this.i32 = i32;
    this.index = index;
    this.members = members;
    this.base = index + REGISTRY_HEADER_WORDS;
    const id = Atomics.load(i32, index + H_ID);
    let ref = selves.get(id);
    if (ref === undefined) {
      ref = { member: -1 };
      selves.set(id, ref);
    }
    this.self = ref;
  }

  private at(member: number, word: number): number {
    return this.base + member * MEMBER_WORDS + word;
  }

  private check(member: number): void {
    checkInt('member', member, 0, this.members - 1);
  }

  /**
   * Claims a free member for the calling thread: alive, with this thread's owner id (set it with
   * setOwnerId first if you change it), its thread id (default: this runtime's, -1 if none) and a new
   * epoch. It becomes this thread's member for robust read locks (`selfMember`). Returns -1 when full.
   *
   * Refuses (LockMisuseError) an owner id that a dead, not yet recovered member still has: death is
   * looked up by owner id, so a replacement thread with the dead one's id would have its own locks
   * taken over by waiters. Pools that reuse ids (setOwnerId(workerIndex)) finish recovery first.
   */
  join(options: { threadId?: number } = {}): number {
    const threadId = options.threadId ?? currentThreadId();
    checkInt('threadId', threadId, -1, 2 ** 31 - 1);
    const me = currentOwnerId();
    if (this.isOwnerDead(me)) {
      throw new LockMisuseError(`ThreadRegistry: join() by owner id ${me}, which dead member(s) ${this.membersOf(me).filter((m) => this.state(m) !== 'alive').join(', ')} still have ` +
        '(not yet recovered): waiters would take this thread\'s locks over as the dead owner\'s; finish recovery first, or use another id (setOwnerId)');
    }
    for (let m = 0; m < this.members; m++) {
      const s = this.at(m, M_STATE);
      if (Atomics.load(this.i32, s) !== FREE) continue;
      if (Atomics.compareExchange(this.i32, s, FREE, ALIVE) !== FREE) continue;
      // Alive before its fields are filled: a scan that sees it meanwhile reads the cleared fields of
      // a free member (owner 0, thread -1), which match no report of a death.
      Atomics.store(this.i32, this.at(m, M_OWNER), me);
      Atomics.store(this.i32, this.at(m, M_THREAD), threadId);
      Atomics.add(this.i32, this.at(m, M_EPOCH), 1);
      this.self.member = m;
      return m;
    }
    return -1;
  }

  /** The member this thread joined as (or adopted with useMember); -1 when none. */
  get selfMember(): number {
    return this.self.member;
  }

  /**
   * Makes `member` the one this thread's robust read locks list their holds in. For a thread that
   * acts for several members (tests that simulate threads in one); an ordinary thread joins once.
   */
  useMember(member: number): void {
    if (member !== -1) this.check(member);
    this.self.member = member;
  }

  /** @internal The shared "which member am I" cell (robust RwLocks read it on every read lock). */
  selfRef(): MemberRef {
    return this.self;
  }

  /** A live member gives its member back: alive → free. Its read-hold list must be empty. */
  leave(member: number): void {
    this.check(member);
    const st = this.state(member);
    if (st !== 'alive') throw new LockMisuseError(`ThreadRegistry member ${member}: leave() of a member that is ${st}, not alive`);
    const holds = this.readHoldsOf(member);
    if (holds.length > 0) {
      throw new LockMisuseError(`ThreadRegistry member ${member}: leave() while it still holds ${holds.length} read lock(s) (${describe(holds)}): unlock them first`);
    }
    this.clearFields(member);
    if (Atomics.compareExchange(this.i32, this.at(member, M_STATE), ALIVE, FREE) !== ALIVE) {
      throw new LockMisuseError(`ThreadRegistry member ${member}: leave() raced with a report of its death`);
    }
    if (this.self.member === member) this.self.member = -1;
  }

  private clearFields(member: number): void {
    Atomics.store(this.i32, this.at(member, M_OWNER), 0);
    Atomics.store(this.i32, this.at(member, M_THREAD), -1);
  }

  /** Reports that member's thread has stopped: alive → dead. False if it was not alive. */
  markDead(member: number): boolean {
    this.check(member);
    if (Atomics.compareExchange(this.i32, this.at(member, M_STATE), ALIVE, DEAD) !== ALIVE) return false;
    Atomics.add(this.i32, this.index + H_DEAD, 1);
    return true;
  }

  /** Every alive member whose thread id is `threadId` → dead (the Node spawner's report). */
  markThreadDead(threadId: number): number[] {
    checkInt('threadId', threadId, 0, 2 ** 31 - 1);
    return this.markWhere(M_THREAD, threadId);
  }

  /** Every alive member whose owner id is `ownerId` → dead. */
  markOwnerDead(ownerId: number): number[] {
    checkInt('ownerId', ownerId, 1, 2 ** 31 - 1);
    return this.markWhere(M_OWNER, ownerId);
  }

  private markWhere(word: number, value: number): number[] {
    const out: number[] = [];
    for (let m = 0; m < this.members; m++) {
      if (Atomics.load(this.i32, this.at(m, M_STATE)) !== ALIVE) continue;
      if (Atomics.load(this.i32, this.at(m, word)) !== value) continue;
      if (this.markDead(m)) out.push(m);
    }
    return out;
  }

  /** dead → recovering. A CAS: of several threads that try, exactly one gets true and recovers it. */
  beginRecovery(member: number): boolean {
    this.check(member);
    return Atomics.compareExchange(this.i32, this.at(member, M_STATE), DEAD, RECOVERING) === DEAD;
  }

  /**
   * recovering → free: the member can be joined again. Its read-hold list must be empty: release
   * each hold first with RwLockArray.recoverReadHolds (which takes every listed lock, so that what
   * is left in the list is provably not counted in any lock word) — otherwise this throws, since
   * forgetting a hold that is still counted would leave that lock read-held for ever.
   */
  finishRecovery(member: number): void {
    this.check(member);
    const st = this.state(member);
    if (st !== 'recovering') {
      throw new LockMisuseError(`ThreadRegistry member ${member}: finishRecovery() of a member that is ${st}, not recovering (call beginRecovery first)`);
    }
    const holds = this.readHoldsOf(member);
    if (holds.length > 0) {
      throw new LockMisuseError(`ThreadRegistry member ${member}: finishRecovery() while it still lists ${holds.length} read hold(s) (${describe(holds)}): ` +
        'release them with RwLockArray.recoverReadHolds first');
    }
    this.clearFields(member);
    if (Atomics.compareExchange(this.i32, this.at(member, M_STATE), RECOVERING, FREE) !== RECOVERING) {
      throw new LockMisuseError(`ThreadRegistry member ${member}: finishRecovery() raced with another state change`);
    }
    Atomics.sub(this.i32, this.index + H_DEAD, 1);
    if (this.self.member === member) this.self.member = -1;
  }

  /** Member `member`'s state now (free, alive, dead or recovering). */
  state(member: number): MemberState {
    this.check(member);
    return STATE_NAMES[Atomics.load(this.i32, this.at(member, M_STATE))] ?? 'free';
  }

  /** The owner id member `member`'s thread records in lock words (0 while free). */
  ownerOf(member: number): number {
    this.check(member);
    return Atomics.load(this.i32, this.at(member, M_OWNER));
  }

  /** The runtime thread id member `member` joined with (Node: worker.threadId); -1 if none or while free. */
  threadIdOf(member: number): number {
    this.check(member);
    return Atomics.load(this.i32, this.at(member, M_THREAD));
  }

  /** Joins of member `member` so far: tells a reused member's new thread from the one before. */
  epochOf(member: number): number {
    this.check(member);
    return Atomics.load(this.i32, this.at(member, M_EPOCH));
  }

  /** Members (in any state but free) recorded with owner id `ownerId`. */
  membersOf(ownerId: number): number[] {
    const out: number[] = [];
    for (let m = 0; m < this.members; m++) {
      if (Atomics.load(this.i32, this.at(m, M_STATE)) === FREE) continue;
      if (Atomics.load(this.i32, this.at(m, M_OWNER)) === ownerId) out.push(m);
    }
    return out;
  }

  /** Members now dead or recovering (for fsck: "dead, not yet recovered"). */
  deadMembers(): number[] {
    const out: number[] = [];
    if (Atomics.load(this.i32, this.index + H_DEAD) === 0) return out;
    for (let m = 0; m < this.members; m++) {
      const s = Atomics.load(this.i32, this.at(m, M_STATE));
      if (s === DEAD || s === RECOVERING) out.push(m);
    }
    return out;
  }

  /**
   * True when some member recorded with `ownerId` is dead or recovering: a lock word naming that
   * owner is held by a thread that will never release it. One load when nobody is dead.
   */
  isOwnerDead(ownerId: number): boolean {
    if (ownerId <= 0 || Atomics.load(this.i32, this.index + H_DEAD) === 0) return false;
    for (let m = 0; m < this.members; m++) {
      const s = Atomics.load(this.i32, this.at(m, M_STATE));
      if ((s === DEAD || s === RECOVERING) && Atomics.load(this.i32, this.at(m, M_OWNER)) === ownerId) return true;
    }
    return false;
  }

  /** The read holds member `member` still lists (what fsck and a recoverer need). */
  readHoldsOf(member: number): ReadHold[] {
    this.check(member);
    const out: ReadHold[] = [];
    for (let j = 0; j < READ_HOLD_ENTRIES; j++) {
      const e = Atomics.load(this.i32, this.at(member, READ_HOLDS_AT + j));
      if (e !== 0) out.push({ domain: (e >>> 24) - 1, index: e & MAX_ROBUST_LOCK_INDEX });
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------
  // The robust RwLock's side (rwlock.ts explains the protocol these serve).

  /** @internal Word index of member `member`'s first read-hold entry. */
  holdsAt(member: number): number {
    return this.at(member, READ_HOLDS_AT);
  }

  /** @internal Does any member in the given condition (dead/recovering, or alive) list `entry`? */
  listedBy(entry: number, dead: boolean): boolean {
    if (dead && Atomics.load(this.i32, this.index + H_DEAD) === 0) return false;
    for (let m = 0; m < this.members; m++) {
      const s = Atomics.load(this.i32, this.at(m, M_STATE));
      if (dead ? s !== DEAD && s !== RECOVERING : s !== ALIVE) continue;
      const h = this.at(m, READ_HOLDS_AT);
      for (let j = 0; j < READ_HOLD_ENTRIES; j++) {
        if (Atomics.load(this.i32, h + j) === entry) return true;
      }
    }
    return false;
  }

  /** @internal Clears `entry` from every dead or recovering member's list; returns how many. */
  clearDeadEntries(entry: number): number {
    let n = 0;
    if (Atomics.load(this.i32, this.index + H_DEAD) === 0) return n;
    for (let m = 0; m < this.members; m++) {
      const s = Atomics.load(this.i32, this.at(m, M_STATE));
      if (s !== DEAD && s !== RECOVERING) continue;
      const h = this.at(m, READ_HOLDS_AT);
      for (let j = 0; j < READ_HOLD_ENTRIES; j++) {
        if (Atomics.compareExchange(this.i32, h + j, entry, 0) === entry) n++;
      }
    }
    return n;
  }

  /**
   * @internal Takes the registry's reclaim lock for `entry` without waiting: free, or held by a dead
   * owner (taken over: a reclaimer that died leaves nothing to repair here, see rwlock.ts). Sets the
   * target after taking it, so "target = entry" implies "the holder is reclaiming entry".
   */
  tryBeginReclaim(entry: number): boolean {
    const me = currentOwnerId();
    const w = this.index + H_RECLAIM;
    const c = Atomics.compareExchange(this.i32, w, 0, me);
    if (c !== 0) {
      if (c === me || !this.isOwnerDead(c) || Atomics.compareExchange(this.i32, w, c, me) !== c) return false;
    }
    Atomics.store(this.i32, this.index + H_TARGET, entry);
    return true;
  }

  /** @internal Clears the target, then releases the reclaim lock (the reverse order of taking it). */
  endReclaim(): void {
    Atomics.store(this.i32, this.index + H_TARGET, 0);
    Atomics.compareExchange(this.i32, this.index + H_RECLAIM, currentOwnerId(), 0);
  }

  /**
   * @internal A RECLAIM bit found on the lock of `entry` belongs to a reclaim in progress only while
   * a live owner holds the reclaim lock with that target; otherwise its setter died or finished.
   */
  reclaimOrphaned(entry: number): boolean {
    const holder = Atomics.load(this.i32, this.index + H_RECLAIM);
    if (holder === 0) return true;
    if (Atomics.load(this.i32, this.index + H_TARGET) !== entry) return true;
    return this.isOwnerDead(holder);
  }
}

function describe(holds: ReadHold[]): string {
  return holds.map((h) => `domain ${h.domain} lock ${h.index}`).join(', ');
}
