export * from './common.js';
export { OwnerWordLock, type LockOptions } from './owner-word.js';
export { SpinLock } from './spinlock.js';
export { Mutex } from './mutex.js';
export { SeqCount, SeqLock, type SeqOptions, type SeqReadOptions } from './seqlock.js';
export { RwLock, RwLockArray, type RwLockOptions } from './rwlock.js';
