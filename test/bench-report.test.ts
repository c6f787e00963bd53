/**
 * The benchmark report builder, the comparison and the bench command's flags, on a small synthetic
 * result: no timing here, and no timing is asserted anywhere (speed is measured, not tested).
 */
import { describe, expect, it } from 'vitest';
import { Command, CommanderError } from 'commander';
import { summarize } from '../src/bench/stats.js';
import { ALL_CONFIGS, configLabel } from '../src/bench/cycle.js';
import { buildReport } from '../src/bench/report.js';
import { compareResults, figures } from '../src/bench/compare.js';
import { pricesFromCycles, pricesFromScaling } from '../src/bench/prices.js';
import { makePlan, RESULT_SCHEMA, type BenchResult } from '../src/bench/suite.js';
import { raceRate } from '../src/torture/rates.js';
import { registerBenchCommand } from '../src/cli/bench-command.js';
import { RACE_CONFIGS } from '../src/bench/race-sweep.js';
import { lockTargets } from '../src/bench/lock-targets.js';
import { resultProblems } from '../src/bench/compare.js';
import { SIZE_CONFIGS } from '../src/bench/size-sweep.js';
import type { ScalingResult } from '../src/bench/scaling.js';

/** Deterministic fake samples around `x` (±5%). */
const around = (x: number, n = 3): number[] => Array.from({ length: n }, (_, i) => x * (0.95 + 0.05 * i));

function synthetic(scale = 1): BenchResult {
  const workers = [1, 4];
  const scaling: ScalingResult = {
    workers, rounds: 3, durationMs: 100, buckets: 4096, bucketSectors: 8, writeSectors: 4,
    points: workers.flatMap((w) => ALL_CONFIGS.map((config, k) => ({
      config, label: configLabel(config), workers: w, throughput: summarize(around(scale * (300_000 - k * 5000) * Math.sqrt(w))),
      allocations: 1000, racy: config.allocator === 'early' && config.fix === 'none' && w > 1 ? 7 : 0,
    }))),
  };
  const raw = { load: 10, store: 10, add: 12, compareExchange: 12, plainRead: 0.7, emptyCall: 2 };
  const count = (n: number) => ({ total: n, byMethod: { load: n }, calls: 10 });
  const r: BenchResult = {
    schema: RESULT_SCHEMA,
    machine: { cpuModel: 'Test CPU', cores: 2, availableParallelism: 2, node: 'v20.0.0', platform: 'linux', release: 'x', arch: 'x64', totalMemGiB: 8, date: '2026-01-01T00:00:00.000Z', loadAvgStart: 0.5 },
    seed: 42,
    plan: makePlan('quick'),
    estimatedSeconds: 60,
    durationMs: 55_000,
    loadAvgEnd: 0.7,
    sectionMs: {},
    micro: {
      raw,
      cycleFs: { buckets: 1024, bucketSectors: 8, writeSectors: 4, discard: false, fill: 0 },
      entries: [
        { name: 'Atomics.load', group: 'raw', what: 'one load', ns: summarize(around(10)), atomics: null },
        { name: 'Mutex lock+unlock', group: 'lock', what: 'lock then unlock', ns: summarize(around(25)), atomics: count(2) },
        ...ALL_CONFIGS.map((config) => ({
          name: `cycle ${configLabel(config)}`, group: 'cycle' as const, what: 'a cycle', config, ns: summarize(around(1500 / scale)),
          atomics: count(100), phases: { alloc: count(25), write: count(32), put: count(16), free: count(27) },
        })),
      ],
    },
    size: {
      sizes: [1024, 1 << 20], fill: 0.5, bucketSectors: 8, writeSectors: 4, rssMiB: 100,
      points: SIZE_CONFIGS.flatMap((config) => [1024, 1 << 20].map((buckets) => ({
        config, label: configLabel(config), buckets, ns: summarize(around(config.cursorFix ? 1500 : buckets * 10)), atomics: count(100),
      }))),
      rows: SIZE_CONFIGS.map((config) => ({ label: configLabel(config), config, growth: config.cursorFix ? 1 : 1024, flat: config.cursorFix })),
    },
    scaling,
    race: {
      delaysNs: [0, 10_000, 1_000_000], workers, rounds: 1, durationMs: 100, probability: 1, buckets: 1024,
      points: RACE_CONFIGS.flatMap((config) => workers.flatMap((w) => [0, 10_000, 1_000_000].map((d) => {
        const racy = config.fix === 'none' && config.allocator === 'early' && w > 1 ? Math.round(d / 10_000) + 1 : 0;
        return {
          config, label: configLabel(config), workers: w, delayNs: d, allocations: 5000, duplicates: racy, racy,
          errors: { duplicate_backpointer: racy, extent_overlap: 0, data_type_mismatch: 0, gen_mismatch: 0, write_after_empty: 0, foreign_allocation: 0, total: racy },
          rate: raceRate(racy, 5000), fsckFailures: 0, runs: 1,
        };
      }))),
    },
  };
  r.contended = {
    kinds: ['spin', 'mutex', 'rwlock-write'], workers: [1, 2, 4], rounds: 3, runMs: 100,
    cells: (['spin', 'mutex', 'rwlock-write'] as const).flatMap((kind) => [1, 2, 4].map((w) => ({
      kind, workers: w, pairsPerSec: summarize(around(scale * 2e7 / w)), parksPerPair: 0.001, topShare: 1 / w,
    }))),
  };
  r.prices = { scaling: pricesFromScaling(scaling), cycle: pricesFromCycles(r.micro!) };
  r.lockTargets = lockTargets(r.micro, r.contended);
  return r;
}

/** Tag balance, one root <svg>, no stray '<': enough to catch a broken or truncated document. */
function assertWellFormedSvg(svg: string): void {
  expect(svg.startsWith('<svg')).toBe(true);
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"]*")*)\s*(\/?)>/g;
  let last = 0;
  let roots = 0;
  for (let m = tag.exec(svg); m !== null; m = tag.exec(svg)) {
    expect(svg.slice(last, m.index)).not.toMatch(/[<>]/);
    last = tag.lastIndex;
    const [, close, name, , selfClose] = m;
    if (close) expect(stack.pop()).toBe(name);
    else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(name!);
    } else if (stack.length === 0) roots++;
  }
  expect(svg.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
}

describe('bench report', () => {
  it('renders every chart as well-formed SVG naming its series', async () => {
    const r = synthetic();
    const { charts } = await buildReport(r);
    expect(Object.keys(charts).sort()).toEqual(['prices.svg', 'race.svg', 'scaling.svg', 'size.svg']);
    for (const svg of Object.values(charts)) assertWellFormedSvg(svg);
    for (const c of ALL_CONFIGS) expect(charts['scaling.svg']).toContain(`>${configLabel(c)}<`);
    for (const c of RACE_CONFIGS) expect(charts['race.svg']).toContain(`>${configLabel(c)}<`);
    expect(charts['race.svg']).toContain('>4 workers<');
    for (const c of SIZE_CONFIGS) expect(charts['size.svg']).toContain(`>${configLabel(c)}<`);
    expect(charts['prices.svg']).toContain('>early/seqlock<');
    expect(charts['prices.svg']).toContain('>early/keylock+cursor<');
    expect(charts['prices.svg']).toContain('>1 thread, in-process<');
    expect(charts['prices.svg']).toContain('>4 workers<');
  });

  it('writes a Markdown report with every configuration in its tables', async () => {
    const { markdown } = await buildReport(synthetic(), 'charts');
    expect(markdown).toContain('Test CPU, 2 cores');
    expect(markdown).toContain('Node v20.0.0');
    const section = (title: string): string => {
      const at = markdown.indexOf(title);
      expect(at, title).toBeGreaterThanOrEqual(0);
      const next = markdown.indexOf('\n## ', at + 1);
      return markdown.slice(at, next < 0 ? undefined : next);
    };
    const rowsOf = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('| ')).map((l) => l.split(' | ')[0]!.slice(2));
    const scaling = rowsOf(section('## Scaling'));
    const cycle = rowsOf(section('## Allocation cycle'));
    for (const c of ALL_CONFIGS) {
      expect(scaling).toContain(configLabel(c));
      expect(cycle).toContain(configLabel(c));
    }
    const race = rowsOf(section('## Race rate'));
    for (const c of RACE_CONFIGS) expect(race).toContain(configLabel(c));
    const size = rowsOf(section('## Scan cost'));
    for (const c of SIZE_CONFIGS) expect(size).toContain(configLabel(c));
    expect(markdown).toContain('![throughput vs workers](charts/scaling.svg)');
    // Zero racy allocations are reported with their rule-of-three bound, not as a bare zero.
    expect(section('## Race rate')).toContain('rule of three');
    // Targets are reported with a verdict.
    expect(section('## Price of each fix')).toMatch(/early\/seqlock \| early\/none \| 1 \| .* \| ≤ 3% \| (yes|no) \|/);
  });

  it('without the chart renderer, the report is written and says how to get the charts', async () => {
    const built = await buildReport(synthetic(), 'charts', null);
    expect(built.charts).toEqual({});
    expect(built.chartsMissing).toBe(true);
    expect(built.markdown).toContain('`npm install vega@6 vega-lite@6`');
    expect(built.markdown).not.toContain('](charts/');
    expect(built.markdown).toContain('## Scaling');
  });

  it('reports the locks: uncontended costs, contended throughput and the targets', async () => {
    const { markdown } = await buildReport(synthetic(), 'charts', null);
    const at = markdown.indexOf('## Locks');
    expect(at).toBeGreaterThan(0);
    const locks = markdown.slice(at, markdown.indexOf('\n## ', at + 1));
    expect(locks).toContain('| Mutex lock+unlock |');
    expect(locks).toMatch(/\| spin \| 4 \| .* M\/s \|/);
    // 4 workers at a quarter of 1 worker's rate, half of 2 workers': below the 60% target.
    expect(locks).toMatch(/\| spin: 4-worker throughput ≥ 60% of 2-worker \| 50% .* \| MISS \|/);
  });

  it('a result with the schema tag is checked for every field a comparison reads', () => {
    expect(resultProblems(synthetic() as unknown as Record<string, unknown>)).toEqual([]);
    const broken = { ...synthetic(), machine: { cpuModel: 'x' }, contended: { cells: [{ kind: 'spin' }] } } as unknown as Record<string, unknown>;
    const problems = resultProblems(broken);
    expect(problems[0]).toBe('machine.cores must be a number, got nothing');
    expect(problems.length).toBe(5);
    expect(resultProblems({ ...synthetic(), contended: { cells: [{ kind: 'spin', workers: 2 }] } } as unknown as Record<string, unknown>))
      .toEqual(['contended.cells[0].pairsPerSec must be an object, got nothing']);
  });

  it('prices a fix round by round against its baseline', () => {
    const r = synthetic();
    const row = r.prices!.scaling.find((p) => p.label === 'early/seqlock' && p.baseline === 'early/none' && p.workers === 1)!;
    // Synthetic throughputs: seqlock is config 1, none config 0, 5000 cycles/s apart in every round.
    expect(row.ratio.n).toBe(3);
    expect(row.ratio.median).toBeCloseTo(295_000 / 300_000, 6);
    expect(row.target).toBe(0.03);
    expect(row.met).toBe(true);
    expect(r.prices!.scaling.some((p) => p.label === 'early/seqlock' && p.baseline === 'early/keylock' && p.workers === 4)).toBe(true);
    expect(r.prices!.scaling.some((p) => p.label === 'early/keylock' && p.baseline === 'freelist/none' && p.workers === 4)).toBe(true);
  });

  it('compares two results and flags only changes beyond the measured spread', () => {
    const a = synthetic(1);
    const same = compareResults(a, synthetic(1));
    expect(same.length).toBe(figures(a).length);
    expect(same.filter((x) => x.flagged)).toEqual([]);
    const faster = compareResults(a, synthetic(2));
    const tp = faster.find((x) => x.key === 'scaling: early/none × 1')!;
    expect(tp.ratio).toBeCloseTo(2, 6);
    expect(tp.flagged).toBe(true);
    expect(tp.verdict).toBe('better');
    const cyc = faster.find((x) => x.key === 'micro: cycle early/none')!;
    expect(cyc.verdict).toBe('better');
    expect(faster.find((x) => x.key === 'contended: mutex × 2')!.verdict).toBe('better');
    // Within ±5% noise bands: a 1% change is not flagged.
    expect(compareResults(a, synthetic(1.01)).find((x) => x.key === 'scaling: early/none × 1')!.flagged).toBe(false);
  });
});

describe('sab-alloc bench flags', () => {
  async function parse(args: string[]): Promise<CommanderError> {
    const program = new Command('sab-alloc').exitOverride();
    registerBenchCommand(program);
    for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    try {
      await program.parseAsync(['node', 'sab-alloc', 'bench', ...args]);
    } catch (e) {
      expect(e).toBeInstanceOf(CommanderError);
      return e as CommanderError;
    }
    throw new Error(`bench ${args.join(' ')} was accepted`);
  }

  it('names the flag and the allowed values', async () => {
    const only = await parse(['--only', 'micro,bogus']);
    expect(only.message).toContain("'--only <sections>'");
    expect(only.message).toContain('micro, contended, scaling, race, size, locks, alloc');
    expect(only.message).toContain('unknown: bogus');
    expect((await parse(['--only', 'micro,'])).message).toContain('no empty entries');
    const seed = await parse(['--seed', 'x']);
    expect(seed.message).toContain("'--seed <n>'");
    expect((await parse(['--seed', '0x10'])).message).toContain('decimal integer');
    expect((await parse(['--frobnicate'])).message).toContain('--frobnicate');
  });
});
