// Two worker threads increment one counter in shared memory under a Mutex.
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { Mutex, attachRegion, createRegion } from '../dist/src/index.js';

// One section of two int32 words: [0] the Mutex word, [1] the counter it protects.
const spec = { kind: 'example', version: 1, sections: [{ name: 'words', type: 'i32', length: 2 }] };
const N = 100_000;

if (isMainThread) {
  const region = createRegion(spec);
  // The handle (buffers + layout) is structured-cloneable: the SharedArrayBuffer travels by reference.
  const workers = [0, 1].map(() => new Worker(new URL(import.meta.url), { workerData: region.handle }));
  await Promise.all(workers.map((w) => new Promise((resolve, reject) => w.on('exit', resolve).on('error', reject))));
  console.log(`counter = ${region.i32('words')[1]} (expected ${2 * N})`);
} else {
  // attachRegion validates the header (magic, kind, version, layout) before handing out views.
  const words = attachRegion(workerData, { kind: 'example', version: 1, spec }).i32('words');
  const mutex = new Mutex(words, 0);
  for (let i = 0; i < N; i++) {
    mutex.lock();
    words[1]++; // plain access is fine under the lock
    mutex.unlock();
  }
}
