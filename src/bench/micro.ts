/**
 * Single-thread micro benchmarks (one thread, no workers): the raw cost of one Atomics operation,
 * lock + unlock per lock type, a seqlock read, the open-bucket lookup, one allocation per allocator
 * and fix, and the full allocate + write + put + free cycle per configuration — and again with the
 * allocation oracle off, for the configurations without the cursor fix, to price it. Every figure comes
 * with the Atomics operations its path performs (counted in a separate pass after all timing, see
 * atomics-count.ts), so "≈ N Atomics ops × the raw cost" can be read off the same run.
 *
 * No race hook is installed here, nor in the scaling sweep's workers: these are the allocator's own
 * costs. (A hook at policy none would still add an Atomics.load at every race point a cycle passes.)
 */
import { lockLoops } from '../browser/lock-bench.js';
import { createFilesystem, type Filesystem, type OpenBucket } from '../alloc/filesystem.js';
import { ALLOCATORS, FIXES } from '../alloc/types.js';
import { addCounts, countAtomics, countAtomicsPhases, type AtomicsCount, type AtomicsMethod } from './atomics-count.js';
import { timeRounds, type RoundOptions, type TimedTask } from './timing.js';
import { summarize, type Summary } from './stats.js';
import { ALL_CONFIGS, CycleRunner, configLabel, createCycleFs, type AllocConfig } from './cycle.js';

export type MicroGroup = 'raw' | 'lock' | 'read' | 'alloc' | 'cycle' | 'oracle';
export const MICRO_GROUPS: readonly MicroGroup[] = ['raw', 'lock', 'read', 'alloc', 'cycle', 'oracle'];

/** The configurations whose cycle is timed again with the oracle off (the cursor fix does not touch it). */
export const ORACLE_CONFIGS: readonly AllocConfig[] = ALL_CONFIGS.filter((c) => !c.cursorFix);

export interface MicroEntry {
  name: string;
  group: MicroGroup;
  /** What one operation is, in words (the table's description column). */
  what: string;
  /** ns per operation: median over rounds, with spread and every round's value. */
  ns: Summary;
  /** Atomics operations per operation (null for the raw-cost entries, which are one by definition). */
  atomics: AtomicsCount | null;
  /** Cycle entries: the count per phase (alloc, write, put, free). */
  phases?: Record<string, AtomicsCount>;
  config?: AllocConfig;
  /** false on the 'oracle' group's entries: the same cycle with the allocation oracle off. */
  oracle?: boolean;
}

/** Raw costs of one operation, ns (medians), for pricing a path by its Atomics count. */
export interface RawCosts {
  load: number;
  store: number;
  add: number;
  compareExchange: number;
  plainRead: number;
  emptyCall: number;
}

export interface MicroResult {
  entries: MicroEntry[];
  raw: RawCosts;
  /** Settings of the cycle entries' filesystems. */
  cycleFs: { buckets: number; bucketSectors: number; writeSectors: number; discard: false; fill: number };
}

export interface MicroOptions {
  rounds: number;
  timeMs: number;
  warmupMs: number;
  seed: number;
  /** Calls per Atomics counting pass. */
  countCalls: number;
  groups?: readonly MicroGroup[];
  onTask?: RoundOptions['onTask'];
}

export const CYCLE_FS = { buckets: 1024, bucketSectors: 8, writeSectors: 4, fill: 0 } as const;

interface Planned {
  task: TimedTask;
  group: MicroGroup;
  what: string;
  count: (() => { atomics: AtomicsCount | null; phases?: Record<string, AtomicsCount> }) | null;
  config?: AllocConfig;
  oracle?: false;
}

let sink = 0;
const RAW_LOOP = 100;
const LOOP = 10;

function rawTasks(): Planned[] {
  const a = new Int32Array(new SharedArrayBuffer(64));
  const plain = new Int32Array(16);
  const raw = (name: string, what: string, fn: () => unknown, opsPerCall = RAW_LOOP): Planned =>
    ({ task: { name, fn, opsPerCall }, group: 'raw', what, count: null });
  return [
    raw('Atomics.load', 'one Atomics.load (loop of 100, per op)', () => {
      let s = 0;
      for (let i = 0; i < RAW_LOOP; i++) s = (s + Atomics.load(a, i & 7)) | 0;
      sink ^= s;
    }),
    raw('Atomics.store', 'one Atomics.store', () => {
      for (let i = 0; i < RAW_LOOP; i++) Atomics.store(a, i & 7, i);
    }),
    raw('Atomics.add', 'one Atomics.add (read-modify-write)', () => {
      let s = 0;
      for (let i = 0; i < RAW_LOOP; i++) s = (s + Atomics.add(a, 8 + (i & 7), 1)) | 0;
      sink ^= s;
    }),
    raw('Atomics.compareExchange', 'one successful Atomics.compareExchange', () => {
      let x = Atomics.load(a, 0);
      for (let i = 0; i < RAW_LOOP; i++) x = Atomics.compareExchange(a, 0, x, x ^ 1) ^ 1;
      sink ^= x;
    }),
    raw('plain Int32Array read', 'one non-atomic typed-array read', () => {
      let s = 0;
      for (let i = 0; i < RAW_LOOP; i++) s = (s + plain[i & 15]!) | 0;
      sink ^= s;
    }),
    raw('empty call', 'calling an empty task function (harness overhead in every non-raw figure)', () => {}, 1),
  ];
}

/** What each lock operation is, in the table's words. */
const LOCK_WHAT: Record<string, string> = {
  'Mutex lock+unlock': 'uncontended futex mutex: lock then unlock',
  'SpinLock lock+unlock': 'uncontended TTAS spinlock: lock then unlock',
  'SeqLock writer lock+unlock': 'seqlock write side: writeLock (spinlock + seq odd) then writeUnlock',
  'RwLock read lock+unlock': 'shared/exclusive lock taken shared',
  'RwLock write lock+unlock': 'shared/exclusive lock taken exclusive',
  'SeqLock 4-word read': 'readBegin, four Atomics.load, readRetry (no writer)',
};

/**
 * The lock operations, defined once for Node and the browser (src/browser/lock-bench.ts). Each task
 * runs LOOP operations per call, so the harness's call into the task is amortised.
 */
function lockTasks(): Planned[] {
  return lockLoops().map((l): Planned => ({
    task: { name: l.name, fn: () => l.loop(LOOP), opsPerCall: LOOP },
    group: l.group,
    what: LOCK_WHAT[l.name]!,
    count: () => ({ atomics: countAtomics(l.one) }),
  }));
}

/** fs.open.isOpen over a table holding 64 open buckets: half the probes hit, half miss. */
function lookupTask(): Planned {
  const fs = createFilesystem({ buckets: 1024, bucketSectors: 8, cursorFix: true, discard: false });
  for (let i = 0; i < 64; i++) fs.allocBucket();
  const open = fs.open;
  let b = 0;
  const one = (): void => {
    if (open.isOpen(b)) sink++;
    b = (b + 1) & 127;
  };
  const fn = (): void => {
    let hits = 0;
    for (let i = 0; i < LOOP; i++) {
      if (open.isOpen(b)) hits++;
      b = (b + 1) & 127;
    }
    sink ^= hits;
  };
  return {
    task: { name: 'fs.open.isOpen(b)', fn, opsPerCall: LOOP }, group: 'read',
    what: 'lock-free open-bucket hash lookup (64 open; half the probes hit)', count: () => ({ atomics: countAtomics(one, 1024) }),
  };
}

/**
 * One allocation (allocBucket alone) per allocator and fix. The buckets a batch opens are put back
 * outside the timed part. With the cursor fix, so the open buckets a batch leaves behind do not
 * lengthen the next allocation's scan (without it every scan restarts at bucket 0 and would walk
 * over them: that cost is the cycle and size figures' business).
 */
function allocTasks(): Planned[] {
  const CHUNK = 64;
  return ALLOCATORS.flatMap((allocator) => FIXES.map((fix): Planned => {
    const config: AllocConfig = { allocator, fix, cursorFix: true };
    const fs = createCycleFs(config, { buckets: CYCLE_FS.buckets, bucketSectors: CYCLE_FS.bucketSectors });
    const held: OpenBucket[] = [];
    const timeBatch = (n: number): number => {
      let charged = 0;
      for (let done = 0; done < n;) {
        const k = Math.min(CHUNK, n - done);
        const t0 = performance.now();
        for (let i = 0; i < k; i++) held.push(fs.allocBucket()!);
        charged += performance.now() - t0;
        for (const ob of held) fs.put(ob);
        held.length = 0;
        done += k;
      }
      return charged;
    };
    const name = `alloc ${allocator}/${fix}`;
    return {
      task: { name, fn: () => timeBatch(1), timeBatch },
      group: 'alloc',
      what: `allocBucket alone (${allocator} allocator, fix ${fix}, cursor fix on), empty device`,
      config,
      count: () => {
        let ob: OpenBucket | null = null;
        const c = countAtomicsPhases({ alloc: () => { ob = fs.allocBucket(); }, put: () => fs.put(ob!) }, 1000);
        return { atomics: c.alloc! };
      },
    };
  }));
}

function cycleTasks(countCalls: number, oracle: boolean): Planned[] {
  return (oracle ? ALL_CONFIGS : ORACLE_CONFIGS).map((config): Planned => {
    const fs: Filesystem = createCycleFs(config, { buckets: CYCLE_FS.buckets, bucketSectors: CYCLE_FS.bucketSectors, fill: CYCLE_FS.fill, oracle });
    const runner = new CycleRunner(fs, CYCLE_FS.writeSectors);
    const fn = (): void => runner.cycle();
    return {
      task: { name: `cycle ${configLabel(config)}${oracle ? '' : ', oracle off'}`, fn },
      group: oracle ? 'cycle' : 'oracle',
      what: `allocate + write ${CYCLE_FS.writeSectors} sectors + put + free, ${CYCLE_FS.buckets} buckets, discard off${oracle ? '' : ', oracle off'}`,
      config,
      ...(oracle ? {} : { oracle: false }),
      count: () => {
        const phases = countAtomicsPhases(runner.phases(), countCalls);
        return { atomics: addCounts(Object.values(phases)), phases };
      },
    };
  });
}

/** Tasks each group times per round (the suite's time estimate). */
const GROUP_TASKS: Record<MicroGroup, number> = {
  raw: 6, lock: 5, read: 2, alloc: ALLOCATORS.length * FIXES.length, cycle: ALL_CONFIGS.length, oracle: ORACLE_CONFIGS.length,
};

/** Tasks per round for these groups (raw is always timed: every other figure is read against it). */
export function microTaskCount(groups: readonly MicroGroup[]): number {
  return MICRO_GROUPS.filter((g) => g === 'raw' || groups.includes(g)).reduce((n, g) => n + GROUP_TASKS[g], 0);
}

/** Tasks per round with every group. */
export const MICRO_TASKS = microTaskCount(MICRO_GROUPS);

function planMicroTasks(groups: readonly MicroGroup[], countCalls: number): Planned[] {
  const out: Planned[] = [];
  if (groups.includes('raw')) out.push(...rawTasks());
  if (groups.includes('lock') || groups.includes('read')) {
    out.push(...lockTasks().filter((p) => groups.includes(p.group)));
  }
  if (groups.includes('read')) out.push(lookupTask());
  if (groups.includes('alloc')) out.push(...allocTasks());
  if (groups.includes('cycle')) out.push(...cycleTasks(countCalls, true));
  if (groups.includes('oracle')) out.push(...cycleTasks(countCalls, false));
  return out;
}

export function runMicro(o: MicroOptions): MicroResult {
  const groups = o.groups ?? MICRO_GROUPS;
  // The raw costs are always measured: every other figure is read against them.
  const planned = planMicroTasks(groups.includes('raw') ? groups : ['raw', ...groups], o.countCalls);
  const times = timeRounds(planned.map((p) => p.task), {
    rounds: o.rounds, timeMs: o.timeMs, warmupMs: o.warmupMs, seed: o.seed, ...(o.onTask ? { onTask: o.onTask } : {}),
  });
  // Counting after every timing pass: the counting wrappers deoptimise the code they count.
  const entries: MicroEntry[] = planned.map((p) => {
    const counted = p.count?.() ?? { atomics: null };
    return {
      name: p.task.name,
      group: p.group,
      what: p.what,
      ns: summarize(times.get(p.task.name)!),
      atomics: counted.atomics,
      ...(counted.phases ? { phases: counted.phases } : {}),
      ...(p.config ? { config: p.config } : {}),
      ...(p.oracle === false ? { oracle: false } : {}),
    };
  });
  const med = (name: string): number => entries.find((e) => e.name === name)!.ns.median;
  return {
    entries,
    raw: {
      load: med('Atomics.load'),
      store: med('Atomics.store'),
      add: med('Atomics.add'),
      compareExchange: med('Atomics.compareExchange'),
      plainRead: med('plain Int32Array read'),
      emptyCall: med('empty call'),
    },
    cycleFs: { ...CYCLE_FS, discard: false },
  };
}

/**
 * What a path's Atomics operations alone would cost at the measured raw prices: loads at the load
 * price, stores at the store price, compareExchange at its price, other read-modify-writes at the
 * add price; wait/notify are not priced (they are syscalls, and absent from uncontended paths).
 */
export function atomicsNs(c: AtomicsCount, raw: RawCosts): number {
  let ns = 0;
  for (const [m, n] of Object.entries(c.byMethod) as [AtomicsMethod, number][]) {
    if (m === 'load') ns += n * raw.load;
    else if (m === 'store') ns += n * raw.store;
    else if (m === 'compareExchange') ns += n * raw.compareExchange;
    else if (m !== 'wait' && m !== 'notify' && m !== 'waitAsync') ns += n * raw.add;
  }
  return ns;
}
