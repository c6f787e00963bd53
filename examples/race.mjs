// The 2023 race, replayed step by step with two real workers, then the allocator as a library.
import { createFilesystem, reproduceReportedRace } from '../dist/src/index.js';

// Task 1 reads bucket K (free) and is parked; Task 2 opens K, writes, commits and releases it;
// Task 1 resumes. Unfixed, it opens K a second time; each fix makes it skip K.
for (const fix of ['none', 'seqlock', 'keylock']) {
  const r = await reproduceReportedRace({ allocator: 'early', fix });
  const kinds = [...new Set(r.errors.map((e) => e.kind))].join(', ') || 'none';
  console.log(`fix ${fix}: Task 2 got bucket ${r.tasks[1].bucket}, Task 1 got bucket ${r.tasks[0].bucket}; errors: ${kinds}`);
}

// One thread: allocate a bucket, write an extent, release the bucket, free the extent, discard.
const fs = createFilesystem({ buckets: 64, bucketSectors: 16, fix: 'keylock', cursorFix: true });
const ob = fs.allocBucket({ dataType: 'user' });
const extent = fs.write(ob, 4); // { bucket, gen, offset: 0, sectors: 4, dataType: 'user', ... }
fs.put(ob);
fs.free(extent); // the bucket is empty again: it waits in need_discard
console.log(`bucket ${extent.bucket}: ${fs.stats().buckets.need_discard} need_discard; discarded ${fs.discard()}; fsck ok: ${fs.fsck().ok}`);
