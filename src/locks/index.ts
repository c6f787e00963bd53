export * from './common.js';
export { OwnerWordLock, type LockOptions } from './owner-word.js';
export { SpinLock } from './spinlock.js';
export { Mutex } from './mutex.js';
export {
  SeqCount, SeqLock, SeqWriteAbandonedError, type SeqOptions, type SeqReadOptions, type SeqRepairInfo,
} from './seqlock.js';
export { RwLock, RwLockArray, type RwLockOptions } from './rwlock.js';
export {
  MAX_DOMAIN, MAX_MEMBERS, MAX_ROBUST_LOCK_INDEX, MEMBER_WORDS, READ_HOLD_ENTRIES, READ_HOLDS_AT, REGISTRY_HEADER_WORDS,
  ThreadRegistry, type MemberState, type ReadHold,
} from './thread-registry.js';
export {
  NAP_MAX_MS, NAP_START_MS, hasWaitAsync, lockAsync, readLockAsync, seqReadAsync, seqWriteLockAsync, writeLockAsync,
  type AsyncLockOptions,
} from './async.js';
