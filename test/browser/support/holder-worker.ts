/**
 * A worker that holds a lock for the main-thread tests: on {take: kind, words} it takes the lock,
 * answers 'held', waits (bounded) until the main thread sets `release` to 1, unlocks and answers
 * 'released'. Its owner id is fixed so the main thread's messages can name it.
 */
import { Mutex, RwLock, SeqLock, SpinLock, setOwnerId } from '../../../src/locks/index.js';

export const HOLDER_OWNER = 77;
setOwnerId(HOLDER_OWNER);

self.onmessage = (ev: MessageEvent<{ kind: 'mutex' | 'spin' | 'seqlock' | 'rwlock'; words: Int32Array; release: Int32Array; name: string }>) => {
  const { kind, words, release, name } = ev.data;
  const lock = kind === 'mutex' ? new Mutex(words, 0, { name }) : kind === 'spin' ? new SpinLock(words, 0, { name })
    : kind === 'seqlock' ? new SeqLock(words, 0, { name }) : new RwLock(words, 0, { name });
  if (lock instanceof SeqLock) lock.writeLock(5_000);
  else if (lock instanceof RwLock) lock.writeLock(5_000);
  else lock.lock(5_000);
  postMessage('held');
  for (let i = 0; i < 100 && Atomics.load(release, 0) === 0; i++) Atomics.wait(release, 0, 0, 100);
  if (lock instanceof SeqLock) lock.writeUnlock();
  else if (lock instanceof RwLock) lock.writeUnlock();
  else lock.unlock();
  postMessage('released');
};
