/**
 * Lock micro-benchmarks: `npm run bench:locks [-- --quick] [-- --json PATH]`.
 *
 * 1. Uncontended cost on the main thread (tinybench): lock()+unlock() of every lock, a 4-word
 *    SeqLock read, and — in the same run, as the unit everything is priced in — one
 *    Atomics.compareExchange and one Atomics.load. One op is far below the timer's resolution, so
 *    each sample runs INNER ops and reports the median sample divided by INNER.
 * 2. Contended throughput: 1, 2 and 4 workers sharing one lock (lock; plain increment; unlock), for
 *    SpinLock, Mutex and RwLock (write). Workers are started once per lock kind and parked on a
 *    StartBarrier before each timed run, so start-up is never timed. Configurations are interleaved
 *    in rounds (A B C A B C …) and reported as median with min–max: on these shared machines two
 *    identical runs can differ by 2×, and a single pair of runs proves nothing.
 *
 * Targets are reported, not asserted (speed is never asserted in tests). Results also go to JSON
 * (default results/bench-locks.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { Bench } from 'tinybench';
import Table from 'cli-table3';
import { max, median, min } from 'simple-statistics';
import { createRegion } from '../src/shared/region.js';
import { StartBarrier } from '../src/shared/barrier.js';
import { WorkerPool } from '../src/shared/worker-pool.js';
import { Mutex, RwLock, SeqLock, SpinLock } from '../src/locks/index.js';
import { BENCH_RUN_SPEC, type ContendedKind } from './locks-common.js';
import type { LocksBenchApi } from './locks-worker.js';

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  quick: boolean;
  json: string;
}

function usage(message: string): never {
  process.stderr.write(`bench:locks: ${message}\nusage: node dist/bench/locks.js [--quick] [--json PATH]\n`);
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  const options: Options = { quick: false, json: 'results/bench-locks.json' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') options.quick = true;
    else if (a === '--json') {
      const path = argv[++i];
      if (path === undefined || path.startsWith('--')) usage('--json needs a PATH');
      options.json = path;
    } else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: node dist/bench/locks.js [--quick] [--json PATH]\n  --quick      short runs, for a smoke test\n  --json PATH  where to write the results (default results/bench-locks.json)\n');
      process.exit(0);
    } else usage(`unknown option ${a}`);
  }
  return options;
}

// ---------------------------------------------------------------------------------------------
// 1. Uncontended

/** Ops per tinybench sample: a sample must be far above timer resolution and overhead. */
const INNER = 1000;

interface Uncontended {
  name: string;
  nsPerOp: number;
  /** Cost in units of the op it is priced against (CAS or load). */
  inUnits: number;
  unit: 'CAS' | 'load';
  samples: number;
}

let sink = 0;

async function uncontended(quick: boolean): Promise<{ rows: Uncontended[]; casNs: number; loadNs: number }> {
  const words = new Int32Array(new SharedArrayBuffer(64 * 8));
  // Each lock on its own cache line, as it would be in a region.
  const spin = new SpinLock(words, 0);
  const mutex = new Mutex(words, 16);
  const seq = new SeqLock(words, 32);
  const rw = new RwLock(words, 48);
  const data = new Int32Array(new SharedArrayBuffer(64));
  const bench = new Bench({ time: quick ? 150 : 700, warmupTime: quick ? 50 : 200, iterations: 20 });

  // Every task body is written out (no shared helper) so that each has its own, monomorphic call sites.
  bench.add('Atomics.compareExchange', () => {
    let v = Atomics.load(words, 100);
    for (let i = 0; i < INNER; i++) {
      Atomics.compareExchange(words, 100, v, v ^ 1);
      v ^= 1;
    }
  });
  bench.add('Atomics.load', () => {
    let s = 0;
    for (let i = 0; i < INNER; i++) s += Atomics.load(words, 101 + (i & 3));
    sink ^= s;
  });
  bench.add('SpinLock lock+unlock', () => {
    for (let i = 0; i < INNER; i++) {
      spin.lock();
      spin.unlock();
    }
  });
  bench.add('Mutex lock+unlock', () => {
    for (let i = 0; i < INNER; i++) {
      mutex.lock();
      mutex.unlock();
    }
  });
  bench.add('SeqLock writeLock+writeUnlock', () => {
    for (let i = 0; i < INNER; i++) {
      seq.writeLock();
      seq.writeUnlock();
    }
  });
  bench.add('RwLock readLock+readUnlock', () => {
    for (let i = 0; i < INNER; i++) {
      rw.readLock();
      rw.readUnlock();
    }
  });
  bench.add('RwLock writeLock+writeUnlock', () => {
    for (let i = 0; i < INNER; i++) {
      rw.writeLock();
      rw.writeUnlock();
    }
  });
  bench.add('SeqLock 4-word read', () => {
    let s = 0;
    for (let i = 0; i < INNER; i++) {
      let a: number, b: number, c: number, d: number, q: number;
      do {
        q = seq.readBegin();
        a = Atomics.load(data, 0);
        b = Atomics.load(data, 1);
        c = Atomics.load(data, 2);
        d = Atomics.load(data, 3);
      } while (seq.readRetry(q));
      s += a + b + c + d;
    }
    sink ^= s;
  });

  await bench.run();
  const ns = new Map<string, { ns: number; samples: number }>();
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`benchmark task ${task.name} ${r.state}${'error' in r ? `: ${r.error.message}` : ''}`);
    ns.set(task.name, { ns: (r.latency.p50 * 1e6) / INNER, samples: r.latency.samplesCount });
  }
  const casNs = ns.get('Atomics.compareExchange')!.ns;
  const loadNs = ns.get('Atomics.load')!.ns;
  const rows = [...ns.entries()].map(([name, v]) => {
    const unit = name.includes('read') && name.startsWith('SeqLock') || name === 'Atomics.load' ? 'load' as const : 'CAS' as const;
    return { name, nsPerOp: v.ns, inUnits: v.ns / (unit === 'load' ? loadNs : casNs), unit, samples: v.samples };
  });
  return { rows, casNs, loadNs };
}

// ---------------------------------------------------------------------------------------------
// 2. Contended

const KINDS: ContendedKind[] = ['spin', 'mutex', 'rwlock-write'];
const WORKER_COUNTS = [1, 2, 4];

interface ContendedCell {
  kind: ContendedKind;
  workers: number;
  /** lock+unlock pairs per second, one per round. */
  rounds: number[];
  median: number;
  min: number;
  max: number;
  parksPerPair: number;
  /** Median over rounds of the busiest worker's share of the pairs: 1/workers is perfectly fair. */
  topShare: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function contended(quick: boolean): Promise<ContendedCell[]> {
  const rounds = quick ? 2 : 5;
  const runMs = quick ? 80 : 300;
  const maxWorkers = Math.max(...WORKER_COUNTS);
  const url = new URL('./locks-worker.js', import.meta.url);
  // One pool per lock kind: a worker that only ever runs one kind keeps its loop monomorphic.
  const pools = new Map<ContendedKind, WorkerPool<LocksBenchApi>>();
  const cells = new Map<string, ContendedCell & { parks: number; pairs: number; shares: number[] }>();
  try {
    for (const kind of KINDS) {
      pools.set(kind, await WorkerPool.start<LocksBenchApi>({ url, count: maxWorkers, workerData: () => null }));
    }
    for (let round = 0; round < rounds; round++) {
      for (const kind of KINDS) {
        for (const workers of WORKER_COUNTS) {
          const pool = pools.get(kind)!;
          const region = createRegion(BENCH_RUN_SPEC);
          const barrier = new StartBarrier(region.i32('control'), 0);
          const calls = Array.from({ length: workers }, (_, i) => pool.call(i, (r) => r.run(region.handle, kind, runMs * 20), runMs * 20 + 30_000));
          const all = Promise.all(calls);
          all.catch(() => {});
          // Start-up and the RPC round trip happen here, before the clock: workers park on the barrier.
          await barrier.releaseWhenArrived(workers, 20_000, all);
          await sleep(runMs);
          barrier.requestStop();
          const results = await all;
          const pairs = results.reduce((n, r) => n + r.pairs, 0);
          const counted = Atomics.load(region.i32('data'), 0);
          if (counted !== (pairs | 0)) {
            throw new Error(`${kind} × ${workers}: the lock lost updates during the benchmark (${counted} of ${pairs})`);
          }
          const elapsedMs = Math.max(...results.map((r) => r.endedAt)) - Math.min(...results.map((r) => r.startedAt));
          const key = `${kind}/${workers}`;
          const cell = cells.get(key) ?? { kind, workers, rounds: [], median: 0, min: 0, max: 0, parksPerPair: 0, topShare: 0, parks: 0, pairs: 0, shares: [] };
          cell.rounds.push((pairs / elapsedMs) * 1000);
          cell.shares.push(Math.max(...results.map((r) => r.pairs)) / pairs);
          cell.parks += results.reduce((n, r) => n + (r.stats.parks ?? 0), 0);
          cell.pairs += pairs;
          cells.set(key, cell);
        }
      }
    }
  } finally {
    await Promise.all([...pools.values()].map((p) => p.terminate()));
  }
  return [...cells.values()].map(({ parks, pairs, shares, ...c }) => ({
    ...c,
    topShare: median(shares),
    median: median(c.rounds),
    min: min(c.rounds),
    max: max(c.rounds),
    parksPerPair: pairs > 0 ? parks / pairs : 0,
  }));
}

// ---------------------------------------------------------------------------------------------
// Targets and report

interface Target {
  target: string;
  measured: string;
  pass: boolean;
  note: string;
}

const fmtNs = (ns: number): string => `${ns.toFixed(1)} ns`;
const fmtRate = (r: number): string => (r >= 1e6 ? `${(r / 1e6).toFixed(2)} M/s` : `${(r / 1e3).toFixed(0)} k/s`);

/** Why a lock costs what it does in Atomics operations: the reason printed for a miss. */
const LOCK_ATOMICS: Record<string, string> = {
  'SpinLock lock+unlock': 'lock is one compareExchange, unlock one compareExchange',
  'Mutex lock+unlock': 'lock is one compareExchange, unlock one compareExchange',
  'SeqLock writeLock+writeUnlock': 'a seqlock write is 4 read-modify-writes (writer lock CAS, 2 sequence adds, unlock CAS) plus an owner load',
  'RwLock readLock+readUnlock': 'lock is one compareExchange (guessing a free word), unlock one compareExchange (guessing the only reader)',
  'RwLock writeLock+writeUnlock': 'lock is one compareExchange, unlock one compareExchange',
};

function targets(unc: Awaited<ReturnType<typeof uncontended>>, cont: ContendedCell[]): Target[] {
  const out: Target[] = [];
  const limit = 1.5 * 2 * unc.casNs;
  for (const row of unc.rows) {
    if (!(row.name in LOCK_ATOMICS)) continue;
    const pass = row.nsPerOp <= limit;
    out.push({
      target: `${row.name} ≤ 1.5 × 2 CAS (${fmtNs(limit)})`,
      measured: `${fmtNs(row.nsPerOp)} (≈ ${row.inUnits.toFixed(1)} CAS)`,
      pass,
      note: pass ? '' : LOCK_ATOMICS[row.name]!,
    });
  }
  const read = unc.rows.find((r) => r.name === 'SeqLock 4-word read')!;
  const readLimit = 1.5 * 6 * unc.loadNs;
  out.push({
    target: `SeqLock 4-word read ≤ 1.5 × 6 loads (${fmtNs(readLimit)})`,
    measured: `${fmtNs(read.nsPerOp)} (≈ ${read.inUnits.toFixed(1)} loads)`,
    pass: read.nsPerOp <= readLimit,
    note: read.nsPerOp <= readLimit ? '' : 'readBegin and readRetry are a load each plus a call; a loop that cannot inline them pays the calls',
  });
  for (const kind of ['spin', 'mutex'] as const) {
    const two = cont.find((c) => c.kind === kind && c.workers === 2)!;
    const four = cont.find((c) => c.kind === kind && c.workers === 4)!;
    const ratio = four.median / two.median;
    const pass = ratio >= 0.6;
    out.push({
      target: `${kind}: 4-worker throughput ≥ 60% of 2-worker`,
      measured: `${(ratio * 100).toFixed(0)}% (${fmtRate(four.median)} vs ${fmtRate(two.median)})`,
      pass,
      note: pass ? '' : `4 workers on ${availableParallelism()} cores: a holder descheduled mid-section stalls every waiter until it runs again; rounds spread ${fmtRate(four.min)}–${fmtRate(four.max)} (4) and ${fmtRate(two.min)}–${fmtRate(two.max)} (2), so compare with other runs before tuning`,
    });
  }
  return out;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = Date.now();
  const header = `node ${process.version}, ${availableParallelism()} cores, ${new Date().toISOString().slice(0, 10)}${options.quick ? ', --quick' : ''}`;
  process.stdout.write(`bench:locks — ${header}\n`);

  const unc = await uncontended(options.quick);
  const t1 = new Table({ head: ['uncontended (main thread)', 'ns/op', '≈ Atomics ops'] });
  for (const r of unc.rows) t1.push([r.name, r.nsPerOp.toFixed(2), `${r.inUnits.toFixed(1)} ${r.unit}${r.inUnits >= 1.05 || r.inUnits < 0.95 ? 's' : ''}`]);
  process.stdout.write(`${t1.toString()}\n`);

  const cont = await contended(options.quick);
  const t2 = new Table({ head: ['contended', 'workers', 'pairs/s median', 'min – max', 'parks/pair', 'busiest worker'] });
  for (const c of cont) {
    t2.push([c.kind, c.workers, fmtRate(c.median), `${fmtRate(c.min)} – ${fmtRate(c.max)}`, c.parksPerPair.toFixed(4), `${(c.topShare * 100).toFixed(0)}%`]);
  }
  process.stdout.write(`${t2.toString()}\n`);

  const tg = targets(unc, cont);
  const t3 = new Table({ head: ['target', 'measured', 'verdict', 'reason if missed'], colWidths: [46, 34, 9, 60], wordWrap: true });
  for (const t of tg) t3.push([t.target, t.measured, t.pass ? 'PASS' : 'MISS', t.note]);
  process.stdout.write(`${t3.toString()}\n`);

  const json = {
    node: process.version,
    cores: availableParallelism(),
    date: new Date().toISOString(),
    quick: options.quick,
    innerOpsPerSample: INNER,
    uncontended: unc.rows,
    casNs: unc.casNs,
    loadNs: unc.loadNs,
    contended: cont,
    targets: tg,
    wallSeconds: (Date.now() - started) / 1000,
  };
  const path = resolve(options.json);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`results written to ${path} (${json.wallSeconds.toFixed(1)} s)\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:locks failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
