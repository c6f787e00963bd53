/**
 * The locks a torture run can put around its critical section, behind one small interface, plus
 * BustedLock: a lock that does nothing (the kernel's locktorture calls it lock_busted). Running the
 * harness with it is the negative control: if the harness cannot see the busted lock lose updates,
 * a clean run of a real lock proves nothing.
 *
 * Lock words used at `index` of the lock section:
 *
 *   spin, mutex   1 word   owner word (see ../locks/owner-word.ts)
 *   rwlock        1 word   RwLock word, taken for write (see ../locks/rwlock.ts)
 *   seqlock       2 words  [index] sequence, [index+1] writer SpinLock; taken with writeLock
 *   busted        1 word   never touched
 *
 * With a ThreadRegistry (robust torture runs) every real lock is built robust; the busted lock has
 * nothing to be robust about.
 */
import { checkSharedWords } from '../shared/validate.js';
import { type LockResult, type LockStats, Mutex, RwLock, SeqLock, SpinLock, type ThreadRegistry } from '../locks/index.js';

/** Every lock a torture run can use, the busted (no-op) control included. */
export const LOCK_KINDS = ['spin', 'mutex', 'seqlock', 'rwlock', 'busted'] as const;
/** A lock's name in the tortures and on the command line. */
export type LockKind = (typeof LOCK_KINDS)[number];
/** The kinds that actually exclude; everything except the negative control. */
export const REAL_LOCK_KINDS = ['spin', 'mutex', 'seqlock', 'rwlock'] as const satisfies readonly LockKind[];

/** The exclusive side of each lock kind, as the torture loop uses it. */
export interface TortureLock {
  lock(timeoutMs?: number): LockResult;
  unlock(): void;
  /** After lock() answered 'owner-died' (robust locks only). */
  markConsistent(): void;
  /** Owner id recorded in the lock word (0 when free or unknown). */
  owner(): number;
}

/** Words the lock of `kind` occupies. */
export function lockWords(kind: LockKind): number {
  return kind === 'seqlock' ? SeqLock.WORDS : 1;
}

/** Does nothing: the negative control. */
export class BustedLock implements TortureLock {
  constructor(i32: Int32Array, index: number) {
    checkSharedWords('BustedLock', i32, index, 1);
  }
  lock(): LockResult { return 'acquired'; }
  unlock(): void {}
  markConsistent(): void {}
  owner(): number { return 0; }
}

/** Adapts the write side of a SeqLock (writer lock + sequence bump) to TortureLock. */
class SeqWriterLock implements TortureLock {
  private readonly seq: SeqLock;
  constructor(seq: SeqLock) { this.seq = seq; }
  lock(timeoutMs = Infinity): LockResult { return this.seq.writeLock(timeoutMs); }
  unlock(): void { this.seq.writeUnlock(); }
  markConsistent(): void { this.seq.markConsistent(); }
  owner(): number { return this.seq.writer.owner(); }
}

class RwWriteLock implements TortureLock {
  private readonly rw: RwLock;
  constructor(rw: RwLock) { this.rw = rw; }
  lock(timeoutMs = Infinity): LockResult { return this.rw.writeLock(timeoutMs); }
  unlock(): void { this.rw.writeUnlock(); }
  markConsistent(): void { this.rw.markConsistent(); }
  owner(): number { return this.rw.writer(); }
}

export function makeTortureLock(kind: LockKind, i32: Int32Array, index: number, stats?: LockStats, registry?: ThreadRegistry): TortureLock {
  const options = { ...(stats ? { stats } : {}), ...(registry ? { registry } : {}) };
  switch (kind) {
    case 'spin': return new SpinLock(i32, index, options);
    case 'mutex': return new Mutex(i32, index, options);
    case 'seqlock': return new SeqWriterLock(new SeqLock(i32, index, options));
    case 'rwlock': return new RwWriteLock(new RwLock(i32, index, options));
    case 'busted': return new BustedLock(i32, index);
  }
}
