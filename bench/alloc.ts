/**
 * `npm run bench:alloc [-- --quick] [-- --json PATH] [-- --seed N]`: the allocator on one thread.
 *
 * 1. One allocate + write + put + free cycle for every allocator × fix × cursor setting: ns per cycle
 *    (median and min–max over interleaved rounds) and the Atomics operations per cycle by phase,
 *    next to the raw cost of one Atomics.load / store / add / compareExchange measured in the same run.
 * 2. Scan cost as the device grows (1K, 64K, 1M buckets, first half full of data): early with and
 *    without the cursor fix, and freelist with and without it.
 *
 * The code lives in src/bench (micro.ts, size-sweep.ts), shared with `sab-alloc bench`. Prints tables
 * and writes results/bench-alloc.json. Targets are reported, never asserted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { randomSeed } from '../src/shared/prng.js';
import { runMicro } from '../src/bench/micro.js';
import { runSizeSweep, FLAT_TARGET } from '../src/bench/size-sweep.js';
import { pricesFromCycles } from '../src/bench/prices.js';
import { machineInfo } from '../src/bench/suite.js';
import { cycleTableRows, CYCLE_HEADERS, PRICE_HEADERS, priceRowsMd, machineLine, sizeTable } from '../src/bench/report.js';
import { cliTable } from '../src/bench/tables.js';
import { fmt } from '../src/bench/stats.js';
import { count } from '../src/torture/format.js';

const USAGE = 'usage: node dist/bench/alloc.js [--quick] [--json PATH] [--seed N]';

function options(): { quick: boolean; json: string; seed: number } {
  let parsed;
  try {
    parsed = parseArgs({
      options: { quick: { type: 'boolean' }, json: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }).values;
  } catch (e) {
    process.stderr.write(`bench:alloc: ${(e as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n  --quick      short rounds (a smoke run)\n  --json PATH  where to write the results (default results/bench-alloc.json)\n  --seed N     round-order seed (default random)\n`);
    process.exit(0);
  }
  let seed = randomSeed();
  if (parsed.seed !== undefined) {
    const n = Number(parsed.seed);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
      process.stderr.write(`bench:alloc: --seed must be an integer in [0, 4294967295], got "${parsed.seed}"\n${USAGE}\n`);
      process.exit(2);
    }
    seed = n;
  }
  if (parsed.json !== undefined && parsed.json.trim() === '') {
    process.stderr.write(`bench:alloc: --json needs a PATH\n${USAGE}\n`);
    process.exit(2);
  }
  return { quick: parsed.quick ?? false, json: parsed.json ?? 'results/bench-alloc.json', seed };
}

const o = options();
const machine = machineInfo();
const plan = o.quick
  ? { micro: { rounds: 10, timeMs: 8, warmupMs: 20, countCalls: 300 }, size: { rounds: 8, timeMs: 20, warmupMs: 10 } }
  : { micro: { rounds: 50, timeMs: 10, warmupMs: 50, countCalls: 1000 }, size: { rounds: 15, timeMs: 30, warmupMs: 30 } };
const sizes = [1 << 10, 1 << 16, 1 << 20];
process.stderr.write(`bench:alloc${o.quick ? ' (quick)' : ''} on ${machineLine(machine)}\n`
  + `expected ≈ ${o.quick ? '15' : '25'} s; seed ${o.seed}\n`);

const t0 = performance.now();
const micro = runMicro({ ...plan.micro, seed: o.seed, groups: ['raw', 'cycle'] });
process.stderr.write(`  cycles done (${fmt((performance.now() - t0) / 1000)} s); size sweep …\n`);
const size = runSizeSweep({
  ...plan.size, sizes, seed: o.seed,
  onSize: (n) => process.stderr.write(`  ${count(n)} buckets (filling half) …\n`),
});
const prices = pricesFromCycles(micro);

const raw = micro.raw;
const out: string[] = [];
out.push(`Raw cost of one operation (same run): Atomics.load ${fmt(raw.load)} ns · Atomics.store ${fmt(raw.store)} ns · `
  + `Atomics.add ${fmt(raw.add)} ns · Atomics.compareExchange ${fmt(raw.compareExchange)} ns · plain read ${fmt(raw.plainRead)} ns\n`);
out.push(cliTable(CYCLE_HEADERS, cycleTableRows(micro, prices),
  `Allocation cycle, one thread: allocate + write ${micro.cycleFs.writeSectors} sectors + put + free, ${micro.cycleFs.buckets} buckets, `
  + `discard off (a freed bucket is free again at once; nothing piles up in need_discard)`));
out.push(cliTable(PRICE_HEADERS, priceRowsMd(prices.filter((p) => p.target !== null)), 'Single-thread price of each fix (time per cycle vs early/none, same rounds)'));
const scan = sizeTable(size);
out.push(cliTable(scan.headers, scan.rows,
  `Scan cost: ns per cycle (median (min–max)) · Atomics ops per cycle, first half of the device full, ${size.bucketSectors} sectors/bucket (growth ≤ ${FLAT_TARGET}× is the target)`));
process.stdout.write(out.join('\n'));

const path = resolve(o.json);
mkdirSync(dirname(path), { recursive: true });
const loadAvgEnd = loadavg()[0]!;
writeFileSync(path, `${JSON.stringify({ schema: 'sab-alloc/bench-alloc@1', machine, seed: o.seed, plan, loadAvgEnd, micro, size, prices }, null, 1)}\n`);
process.stdout.write(`took ${fmt((performance.now() - t0) / 1000)} s; load average (1 min) ${fmt(machine.loadAvgStart)} → ${fmt(loadAvgEnd)}; `
  + `size sweep resident memory ${size.rssMiB} MiB; wrote ${path}\n`);
