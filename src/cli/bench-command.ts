/**
 * `sab-alloc bench`: the one benchmark harness (src/bench/suite.ts). Every section by default, or
 * `--only` some of them (or the shorthands `locks` and `alloc`, which `npm run bench:locks` and
 * `npm run bench:alloc` run); tables on stdout, the JSON result, and — unless `--no-report` — a
 * Markdown report and SVG charts under --out. `--compare A.json B.json` sets two results side by
 * side instead.
 *
 * Where the files go is printed before the run starts and checked then (a long run must not end in
 * a lost result), and listed again at the end.
 */
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import {
  OutputError, UsageError, checkOutputDir, checkOutputFile, exitAfterOutputFailure, exitForError, given, intArg, pathArg, writeOutputFile, type FlagNames,
} from './args.js';
import { makePlan, machineInfo, runBenchSuite, estimateSeconds, ONLY_NAMES, SECTIONS, SHORTHANDS, type BenchResult, type PlanKind } from '../bench/suite.js';
import {
  writeReport, cycleTableRows, CYCLE_HEADERS, oracleTableRows, ORACLE_HEADERS, priceRowsMd, PRICE_HEADERS, machineLine, sizeTable, lockCostRows, LOCK_COST_HEADERS,
  contendedRows, CONTENDED_HEADERS, lockTargetRows, LOCK_TARGET_HEADERS, loadCharts, resultJson, CHARTS_INSTALL_HINT, JSON_FILE,
} from '../bench/report.js';
import { compareResults, formatCompareRows, loadResult } from '../bench/compare.js';
import { cliTable } from '../bench/tables.js';
import { fmt } from '../bench/stats.js';
import { FLAT_TARGET } from '../bench/size-sweep.js';
import { runAgainst, type Ratio } from '../bench/against.js';

/** Library option → flag. */
const FLAGS: FlagNames = { only: '--only', seed: '--seed' };

interface BenchFlags {
  quick?: boolean;
  tiny?: boolean;
  out: string;
  json?: string;
  report: boolean;
  only?: string[];
  seed?: number;
  compare?: string[];
  against?: string;
}

/** `--only`: sections and shorthands, comma-separated, no empty entries. */
export function sectionsArg(value: string): string[] {
  const parts = value.split(',').map((s) => s.trim());
  const empty = parts.some((p) => p.length === 0);
  const bad = parts.filter((p) => p.length > 0 && !ONLY_NAMES.includes(p));
  if (empty || bad.length > 0) {
    throw new InvalidArgumentError(`must be a comma-separated list of ${ONLY_NAMES.join(', ')}${bad.length > 0 ? `; unknown: ${bad.join(', ')}` : '; no empty entries'}`);
  }
  return [...new Set(parts)];
}

export function duration(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

async function runCompare(files: string[]): Promise<number> {
  if (files.length !== 2) throw new UsageError('--compare', `needs exactly two result files (A.json B.json), got ${files.length}`);
  let a;
  let b;
  try {
    a = loadResult(files[0]!);
    b = loadResult(files[1]!);
  } catch (e) {
    throw new UsageError('--compare', (e as Error).message);
  }
  const rows = compareResults(a, b);
  process.stdout.write(`A: ${files[0]} — ${machineLine(a.machine)}\nB: ${files[1]} — ${machineLine(b.machine)}\n`);
  process.stdout.write(cliTable(['figure', 'unit', 'A median', 'B median', 'B / A', 'change'], formatCompareRows(rows)));
  const flagged = rows.filter((r) => r.flagged);
  process.stdout.write(`${rows.length} figures in both; ${flagged.length} changed beyond the measured spread `
    + `(B's median outside A's min–max and A's outside B's)${flagged.length > 0 ? `: ${flagged.filter((r) => r.verdict === 'worse').length} worse, ${flagged.filter((r) => r.verdict === 'better').length} better` : ''}.\n`);
  return 0;
}

/** The tables for whatever sections ran, in the order the report has them. */
export function benchTables(result: BenchResult): string {
  const o: string[] = [];
  if (result.prices && result.prices.scaling.length > 0) {
    const key = result.prices.scaling.filter((r) => r.target !== null);
    o.push(cliTable(PRICE_HEADERS, priceRowsMd(key), 'Price of each fix (scaling sweep; price = throughput lost vs early/none, same rounds)'));
  }
  const m = result.micro;
  if (m) {
    const r = m.raw;
    o.push(`Raw cost of one operation (same run): Atomics.load ${fmt(r.load)} ns · Atomics.store ${fmt(r.store)} ns · Atomics.add ${fmt(r.add)} ns · `
      + `Atomics.compareExchange ${fmt(r.compareExchange)} ns · plain read ${fmt(r.plainRead)} ns\n`);
    if (m.entries.some((e) => e.group === 'lock' || e.group === 'read')) o.push(cliTable(LOCK_COST_HEADERS, lockCostRows(m), 'Locks, uncontended (ns per operation, median (min–max) over rounds)'));
  }
  if (result.contended) o.push(cliTable(CONTENDED_HEADERS, contendedRows(result.contended), `Locks, contended (${result.contended.rounds} round(s) of ${result.contended.runMs} ms)`));
  if (result.lockTargets && result.lockTargets.length > 0) o.push(cliTable(LOCK_TARGET_HEADERS, lockTargetRows(result.lockTargets)));
  if (m && m.entries.some((e) => e.group === 'cycle')) {
    o.push(cliTable(CYCLE_HEADERS, cycleTableRows(m, result.prices?.cycle ?? []),
      `Allocation cycle, one thread: allocate + write ${m.cycleFs.writeSectors} sectors + put + free, ${m.cycleFs.buckets} buckets, discard off `
      + '(ns per cycle, median (min–max) over rounds)'));
    if (m.entries.some((e) => e.group === 'oracle')) {
      o.push(cliTable(ORACLE_HEADERS, oracleTableRows(m), 'Price of the allocation oracle, one thread (the same cycle with oracle: false, same rounds)'));
    }
    const single = (result.prices?.cycle ?? []).filter((p) => p.target !== null);
    if (single.length > 0) o.push(cliTable(PRICE_HEADERS, priceRowsMd(single), 'Single-thread price of each fix (time per cycle vs early/none, same rounds)'));
  }
  if (result.size) {
    const t = sizeTable(result.size);
    o.push(cliTable(t.headers, t.rows, `Scan cost vs device size (ns per cycle median (min–max) · Atomics ops), first ${Math.round(result.size.fill * 100)}% full (growth ≤ ${FLAT_TARGET}× is the target)`));
  }
  return o.join('\n');
}

async function runBench(flags: BenchFlags): Promise<number> {
  const kind: PlanKind = flags.tiny ? 'tiny' : flags.quick ? 'quick' : 'full';
  const plan = makePlan(kind, flags.only ?? SECTIONS);
  const outDir = resolve(flags.out);
  const jsonPath = resolve(flags.json ?? resolve(outDir, JSON_FILE));
  if (flags.report) checkOutputDir('--out', outDir);
  checkOutputFile('--json', jsonPath);
  const m = machineInfo();
  const est = estimateSeconds(plan);
  process.stderr.write(`sab-alloc bench (${kind}): ${plan.sections.join(', ')}${plan.sections.includes('micro') && plan.micro.groups.length < 5 ? ` (micro: ${plan.micro.groups.join(', ')})` : ''} `
    + `on ${m.cpuModel}, ${m.cores} cores, Node ${m.node}\n`
    + `expected duration ≈ ${duration(est)}${kind === 'full' ? ' (use --quick for a short run)' : ''}\n`
    + `writing ${jsonPath}${flags.report ? ` and the report under ${outDir}` : ''}\n`);
  if (flags.report && await loadCharts() === null) {
    process.stderr.write(`charts: skipped — the chart renderer (vega, vega-lite; optional) is not installed; \`${CHARTS_INSTALL_HINT}\` to get them\n`);
  }
  const tty = process.stderr.isTTY === true;
  const bar = tty ? new cliProgress.SingleBar({
    format: '{bar} {percentage}% | {label}', barsize: 30, hideCursor: true, clearOnComplete: true, etaBuffer: 50,
  }, cliProgress.Presets.shades_classic) : null;
  bar?.start(Math.max(1, Math.round(est * 10)), 0, { label: 'starting' });
  const t0 = performance.now();
  let result: BenchResult;
  try {
    result = await runBenchSuite({ plan, ...(flags.seed !== undefined ? { seed: flags.seed } : {}) }, {
      onProgress: (done, _total, label) => bar?.update(Math.round(done * 10), { label }),
      onSection: (s, e) => { if (!tty) process.stderr.write(`  ${s} (≈ ${duration(e)}) …\n`); },
    });
  } finally {
    bar?.stop();
  }
  process.stdout.write(benchTables(result));
  process.stdout.write(`took ${duration((performance.now() - t0) / 1000)} (estimated ${duration(est)}); seed ${result.seed}; `
    + `load average (1 min) ${fmt(result.machine.loadAvgStart)} → ${fmt(result.loadAvgEnd)}\n`);
  try {
    if (flags.report) {
      const files = await writeReport(result, outDir, jsonPath);
      process.stdout.write(`wrote ${files.json}\n      ${files.report}\n${files.charts.map((c) => `      ${c}\n`).join('')}`);
    } else {
      process.stdout.write(`wrote ${writeOutputFile('--json', jsonPath, resultJson(result))}\n`);
    }
  } catch (e) {
    // writeReport's file-system failures carry a syscall; anything else is a bug and keeps its stack.
    const failed = e instanceof OutputError || (e as NodeJS.ErrnoException)?.syscall === undefined ? e : new OutputError('--out', outDir, e);
    return exitAfterOutputFailure(failed, 0, FLAGS);
  }
  return 0;
}

/** `--against DIR`: this build's cycle against another build's, in the same interleaved rounds. */
async function runAgainstBuild(flags: BenchFlags, dir: string): Promise<number> {
  const kind: PlanKind = flags.tiny ? 'tiny' : flags.quick ? 'quick' : 'full';
  const plan = kind === 'tiny' ? { rounds: 2, timeMs: 2, warmupMs: 2 } : kind === 'quick' ? { rounds: 12, timeMs: 8, warmupMs: 20 } : { rounds: 40, timeMs: 10, warmupMs: 50 };
  const jsonPath = resolve(flags.json ?? resolve(resolve(flags.out), 'against.json'));
  checkOutputFile('--json', jsonPath);
  const m = machineInfo();
  process.stderr.write(`sab-alloc bench --against ${dir}: the one-thread cycle of this build, this build with the oracle off, and that build, `
    + `${plan.rounds} interleaved rounds of ${plan.timeMs} ms each on ${m.cpuModel}, ${m.cores} cores, Node ${m.node}\n`);
  const seed = flags.seed ?? (Date.now() >>> 0);
  const r = await runAgainst({ dir, ...plan, seed });
  const pctOf = (x: number): string => `${x >= 1 ? '+' : '−'}${(Math.abs(x - 1) * 100).toFixed(1)}%`;
  const span = (s: Ratio): string => `${pctOf(s.median)} (IQR ${pctOf(s.q1)} … ${pctOf(s.q3)})`;
  process.stdout.write(cliTable(['configuration', 'this build ns', 'that build ns', 'this ÷ that', 'oracle off ns', 'oracle on ÷ off'],
    r.rows.map((row) => [row.label, fmt(row.ns.current), fmt(row.ns.other), span(row.vsOther), fmt(row.ns.oracleOff), span(row.oracle)]),
    'One-thread cycle (allocate + write 4 + put + free, discard off): ns per cycle, median over rounds; ratios round by round'));
  process.stdout.write(`wrote ${writeOutputFile('--json', jsonPath, `${JSON.stringify({ schema: 'sab-alloc/against@1', machine: m, seed, ...r }, null, 1)}\n`)}\n`);
  return 0;
}

/** Options --compare does not use: refused beside it rather than ignored. */
const NOT_WITH_COMPARE = [['quick', '--quick'], ['only', '--only'], ['tiny', '--tiny'], ['seed', '--seed'], ['out', '--out'], ['json', '--json'], ['report', '--no-report']] as const;

export function registerBenchCommand(program: Command): void {
  const shorthands = Object.entries(SHORTHANDS).map(([name, s]) => `${name} = ${s.what}`).join('; ');
  program
    .command('bench')
    .description('benchmarks: lock and allocator costs in ns and Atomics ops, lock and allocator throughput vs workers, race rate vs delay, scan cost vs device size, the price of each fix; tables, JSON, Markdown report, SVG charts')
    .option('--quick', 'fewer rounds, worker counts and device sizes, shorter runs (everything in about 45 s on 2 cores)')
    .option('--only <sections>', `run only these, comma-separated: sections ${SECTIONS.join(', ')}, or ${shorthands}`, sectionsArg)
    .option('--out <dir>', `directory for ${JSON_FILE}, bench-report.md and bench-charts/ (relative to the current directory)`, pathArg('directory'), 'results')
    .option('--json <file>', `where to write the JSON result (default <out>/${JSON_FILE})`, pathArg('file path'))
    .option('--no-report', 'write only the JSON result: no Markdown report, no charts')
    .option('--seed <n>', 'seed for the round order and race-hook streams (default random, recorded in the JSON)', intArg(0, 0xffffffff))
    .addOption(new Option('--compare <files...>', 'compare two result files (A.json B.json): ratio of each figure, flagged beyond the measured spread'))
    .option('--against <dir>', 'price a change: the one-thread cycle of this build against the build in another checkout (its dist/ built, e.g. the previous commit in a git worktree), in the same interleaved rounds; writes <out>/against.json', pathArg('directory'))
    // Internal: the smallest run that still writes every file (the test suite's smoke run).
    .addOption(new Option('--tiny').hideHelp())
    .action(async (flags: BenchFlags, cmd: Command) => {
      try {
        if (flags.compare !== undefined) {
          const clash = NOT_WITH_COMPARE.find(([attr]) => given(cmd, attr));
          if (clash !== undefined) throw new UsageError(clash[1], 'has no effect with --compare, which only reads two result files; give one or the other');
          process.exitCode = await runCompare(flags.compare);
          return;
        }
        if (flags.against !== undefined) {
          const clash = [['only', '--only'], ['report', '--no-report']].find(([attr]) => given(cmd, attr!));
          if (clash !== undefined) throw new UsageError(clash[1]!, 'has no effect with --against, which times only the allocation cycle; give one or the other');
          process.exitCode = await runAgainstBuild(flags, flags.against);
          return;
        }
        if (!flags.report && given(cmd, 'out')) throw new UsageError('--out', 'has no effect with --no-report (only --json is written)');
        if (flags.quick && flags.tiny) throw new UsageError('--quick', 'cannot be combined with --tiny');
        process.exitCode = await runBench(flags);
      } catch (e) {
        process.exitCode = exitForError(e, FLAGS);
      }
    });
}
