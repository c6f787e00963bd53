// A torture run whose workers get the Node flags and heap limit chosen here, not this process's.
import { runTorture } from '../dist/src/index.js';

const r = await runTorture({
  workers: 2, ops: 500, fix: 'keylock', seed: 1,
  workerOptions: { execArgv: ['--enable-source-maps'], resourceLimits: { maxOldGenerationSizeMb: 256 } },
});
console.log(`${r.verdict}: ${r.allocations} allocations, fsck ${r.fsck.ok ? 'clean' : 'not clean'}`);
