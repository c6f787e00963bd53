/**
 * `sab-alloc bench`: the benchmark suite (micro, scaling, race-rate and size sweeps) with a JSON
 * result, a Markdown report and SVG charts under --out; or `--compare A.json B.json` to set two
 * results side by side. Registered by the dispatcher (src/cli.ts) through registerBenchCommand.
 *
 * Bad flags throw commander's InvalidArgumentError from their parsers, so the message names the flag
 * and the dispatcher exits with code 2.
 */
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { intArg } from './args.js';
import { makePlan, machineInfo, runBenchSuite, estimateSeconds, SECTIONS, type PlanKind, type Section } from '../bench/suite.js';
import { writeReport, cycleTableRows, CYCLE_HEADERS, priceRowsMd, PRICE_HEADERS, machineLine, sizeTable } from '../bench/report.js';
import { compareResults, formatCompareRows, loadResult } from '../bench/compare.js';
import { cliTable } from '../bench/tables.js';

interface BenchFlags {
  quick?: boolean;
  tiny?: boolean;
  out: string;
  json?: string;
  only?: Section[];
  seed?: number;
  compare?: string[];
}

export function sectionsArg(value: string): Section[] {
  const parts = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const bad = parts.filter((p) => !(SECTIONS as readonly string[]).includes(p));
  if (parts.length === 0 || bad.length > 0) {
    throw new InvalidArgumentError(`must be a comma-separated list of ${SECTIONS.join(', ')}${bad.length > 0 ? `; unknown: ${bad.join(', ')}` : ''}`);
  }
  return [...new Set(parts)] as Section[];
}

function pathArg(what: string): (value: string) => string {
  return (value) => {
    if (value.trim() === '') throw new InvalidArgumentError(`must be a ${what}, got an empty string`);
    return value;
  };
}

export function duration(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

async function runCompare(files: string[], cmd: Command): Promise<void> {
  if (files.length !== 2) cmd.error(`error: option '--compare <files...>' needs exactly two result files (A.json B.json), got ${files.length}`, { exitCode: 2, code: 'sab-alloc.compareArgs' });
  let a;
  let b;
  try {
    a = loadResult(files[0]!);
    b = loadResult(files[1]!);
  } catch (e) {
    cmd.error(`error: option '--compare <files...>': ${(e as Error).message}`, { exitCode: 2, code: 'sab-alloc.compareFile' });
  }
  const rows = compareResults(a!, b!);
  process.stdout.write(`A: ${files[0]} — ${machineLine(a!.machine)}\nB: ${files[1]} — ${machineLine(b!.machine)}\n`);
  process.stdout.write(cliTable(['figure', 'unit', 'A median', 'B median', 'B / A', 'change'], formatCompareRows(rows)));
  const flagged = rows.filter((r) => r.flagged);
  process.stdout.write(`${rows.length} figures in both; ${flagged.length} changed beyond the measured spread `
    + `(B's median outside A's min–max and A's outside B's)${flagged.length > 0 ? `: ${flagged.filter((r) => r.verdict === 'worse').length} worse, ${flagged.filter((r) => r.verdict === 'better').length} better` : ''}.\n`);
}

async function runBench(flags: BenchFlags): Promise<void> {
  const kind: PlanKind = flags.tiny ? 'tiny' : flags.quick ? 'quick' : 'full';
  const plan = makePlan(kind, flags.only ?? SECTIONS);
  const m = machineInfo();
  const est = estimateSeconds(plan);
  process.stderr.write(`sab-alloc bench (${kind}): ${plan.sections.join(', ')} on ${m.cpuModel}, ${m.cores} cores, Node ${m.node}\n`
    + `expected duration ≈ ${duration(est)}${kind === 'full' ? ' (use --quick for a short run)' : ''}\n`);
  const tty = process.stderr.isTTY === true;
  const bar = tty ? new cliProgress.SingleBar({
    format: '{bar} {percentage}% | {label}', barsize: 30, hideCursor: true, clearOnComplete: true, etaBuffer: 50,
  }, cliProgress.Presets.shades_classic) : null;
  bar?.start(Math.max(1, Math.round(est * 10)), 0, { label: 'starting' });
  const t0 = performance.now();
  let result;
  try {
    result = await runBenchSuite({ plan, ...(flags.seed !== undefined ? { seed: flags.seed } : {}) }, {
      onProgress: (done, _total, label) => bar?.update(Math.round(done * 10), { label }),
      onSection: (s, e) => { if (!tty) process.stderr.write(`  ${s} (≈ ${duration(e)}) …\n`); },
    });
  } finally {
    bar?.stop();
  }
  const outDir = resolve(flags.out);
  const files = await writeReport(result, outDir, flags.json !== undefined ? resolve(flags.json) : undefined);
  const o: string[] = [];
  if (result.prices && result.prices.scaling.length > 0) {
    const key = result.prices.scaling.filter((r) => r.target !== null);
    o.push(cliTable(PRICE_HEADERS, priceRowsMd(key), 'Price of each fix (scaling sweep; price = throughput lost vs early/none, same rounds)'));
  }
  if (result.micro) {
    o.push(cliTable(CYCLE_HEADERS, cycleTableRows(result.micro, result.prices?.cycle ?? []), 'Allocation cycle, one thread (ns per cycle, median (min–max) over rounds)'));
  }
  if (result.size) {
    const t = sizeTable(result.size);
    o.push(cliTable(t.headers, t.rows, `Cycle cost vs device size (ns per cycle median (min–max) · Atomics ops), first ${Math.round(result.size.fill * 100)}% full`));
  }
  process.stdout.write(o.join('\n'));
  process.stdout.write(`took ${duration((performance.now() - t0) / 1000)} (estimated ${duration(est)}); seed ${result.seed}\n`
    + `wrote ${files.json}\n      ${files.report}\n${files.charts.map((c) => `      ${c}\n`).join('')}`);
}

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('benchmarks: micro costs in Atomics ops, throughput vs workers, race rate vs delay, scan cost vs device size, the price of each fix; JSON + Markdown report + SVG charts')
    .option('--quick', 'fewer rounds, worker counts and device sizes, shorter runs (about 30 s on 2 cores)')
    .option('--out <dir>', 'directory for bench.json, bench-report.md and bench-charts/', pathArg('directory'), 'results')
    .option('--json <file>', 'where to write the JSON result (default <out>/bench.json)', pathArg('file path'))
    .option('--only <sections>', `run only these sections: comma-separated ${SECTIONS.join(',')}`, sectionsArg)
    .option('--seed <n>', 'seed for the round order and race-hook streams (default random, recorded in the JSON)', intArg(0, 0xffffffff))
    .addOption(new Option('--compare <files...>', 'compare two result files (A.json B.json): ratio of each figure, flagged beyond the measured spread')
      .conflicts(['quick', 'only', 'tiny', 'seed']))
    // Internal: the smallest run that still writes every file (the test suite's smoke run).
    .addOption(new Option('--tiny').hideHelp())
    .action(async (flags: BenchFlags, cmd: Command) => {
      if (flags.compare !== undefined) await runCompare(flags.compare, cmd);
      else await runBench(flags);
    });
}
