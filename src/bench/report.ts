/**
 * The benchmark report: the JSON result (every sample), a Markdown report, and SVG charts, all
 * under one output directory. `buildReport` is pure (result in, text out) so it can be tested on a
 * synthetic result; `writeReport` puts the files on disk.
 *
 * The charts need vega and vega-lite, optional peer dependencies (most of the install size, and
 * nothing a library user needs): charts.ts is loaded only when a report is built, and without them
 * the report is written with a line saying how to get the charts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { raceRate, formatRate } from '../torture/rates.js';
import { count } from '../torture/format.js';
import { fmt, fmtPct, fmtPctRange, fmtSummary, pct, summarize, workersLabel } from './stats.js';
import { fmtAtomics } from './atomics-count.js';
import type { ContendedResult } from './contended.js';
import type { LockTarget } from './lock-targets.js';
import { atomicsNs, type MicroResult } from './micro.js';
import { configLabel } from './cycle.js';
import { delayLabel, type RaceResult } from './race-sweep.js';
import { ERROR_KIND_NAMES, type ErrorKindName } from '../alloc/types.js';
import { FLAT_TARGET, type SizeResult } from './size-sweep.js';
import type { ScalingResult } from './scaling.js';
import type { PriceRow } from './prices.js';
import type { BenchResult, MachineInfo } from './suite.js';

type ChartsModule = typeof import('./charts.js');

/** What to run so that `sab-alloc bench` renders charts. */
export const CHARTS_INSTALL_HINT = 'npm install vega@6 vega-lite@6';

/**
 * The chart renderer, or null when vega / vega-lite are not installed (any other failure to load
 * it is a bug and is thrown).
 */
export async function loadCharts(): Promise<ChartsModule | null> {
  try {
    return await import('./charts.js');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException)?.code === 'ERR_MODULE_NOT_FOUND' && /['"]vega(-lite)?['"]/.test((e as Error).message);
    if (missing) return null;
    throw e;
  }
}

export const CHART_DIR = 'bench-charts';
export const REPORT_FILE = 'bench-report.md';
export const JSON_FILE = 'bench.json';

export function mdTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    `| ${headers.map(esc).join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export function machineLine(m: MachineInfo): string {
  return `${m.cpuModel}, ${m.cores} cores (available parallelism ${m.availableParallelism}), Node ${m.node}, ${m.platform} ${m.release} ${m.arch}, ${m.totalMemGiB} GiB; ${m.date}`;
}

const kops = (x: number): string => `${fmt(x / 1000, 3)}k`;

function microSection(m: MicroResult): string {
  const raw = m.raw;
  const out: string[] = ['## Micro benchmarks (one thread)', ''];
  out.push(`Raw cost of one operation in this run: Atomics.load ${fmt(raw.load)} ns, Atomics.store ${fmt(raw.store)} ns, `
    + `Atomics.add ${fmt(raw.add)} ns, Atomics.compareExchange ${fmt(raw.compareExchange)} ns, plain typed-array read ${fmt(raw.plainRead)} ns; `
    + `calling an empty task function costs ${fmt(raw.emptyCall)} ns (included in every figure below the raw ones). `
    + '"≈ Atomics ns" prices a path\'s counted Atomics operations at those raw costs.', '');
  // Lock and read figures have their own section (Locks); the cycle its own.
  const rows = m.entries.filter((e) => e.group === 'raw' || e.group === 'alloc').map((e) => [
    e.name, e.what, fmtSummary(e.ns), e.atomics ? `${fmt(e.atomics.total)} (${fmtAtomics(e.atomics)})` : '1 (by definition)',
    e.atomics ? fmt(atomicsNs(e.atomics, raw)) : '',
  ]);
  out.push(mdTable(['benchmark', 'one operation', 'ns/op median (min–max)', 'Atomics ops', '≈ Atomics ns'], rows), '');
  return out.join('\n');
}

export function cycleTableRows(m: MicroResult, prices: readonly PriceRow[]): string[][] {
  return m.entries.filter((e) => e.group === 'cycle').map((e) => {
    const label = configLabel(e.config!);
    const ph = e.phases ?? {};
    const price = prices.find((p) => p.label === label && p.baseline.startsWith('early/none'));
    return [
      label, fmtSummary(e.ns),
      ['alloc', 'write', 'put', 'free'].map((k) => fmt(ph[k]?.total ?? NaN)).join(' / '),
      fmt(e.atomics?.total ?? NaN),
      e.atomics ? fmt(atomicsNs(e.atomics, m.raw)) : '',
      price ? fmtPct(price.price) : '(baseline)',
    ];
  });
}

export const ORACLE_HEADERS = ['configuration', 'ns/cycle, oracle on', 'ns/cycle, oracle off', 'price of the oracle: on ÷ off (IQR)', 'Atomics ops on / off'];

/**
 * The allocation oracle's price: each 'oracle' entry (the cycle with the oracle off) against the
 * same configuration's cycle entry (on), round by round — both were timed in the same rounds.
 */
export function oracleTableRows(m: MicroResult): string[][] {
  return m.entries.filter((e) => e.group === 'oracle').flatMap((off) => {
    const label = configLabel(off.config!);
    const on = m.entries.find((e) => e.group === 'cycle' && configLabel(e.config!) === label);
    if (on === undefined) return [];
    const ratio = summarize(on.ns.samples.map((x, i) => x / off.ns.samples[i]!));
    return [[
      label, fmtSummary(on.ns), fmtSummary(off.ns),
      `${pct(ratio.median - 1)} (${fmtPctRange(ratio.q1 - 1, ratio.q3 - 1)})`,
      `${fmt(on.atomics?.total ?? NaN)} / ${fmt(off.atomics?.total ?? NaN)}`,
    ]];
  });
}

/** Uncontended lock costs (micro's lock and read groups), in ns and in the unit each is priced in. */
export function lockCostRows(m: MicroResult): string[][] {
  return m.entries.filter((e) => e.group === 'lock' || e.group === 'read').map((e) => {
    const unit = e.group === 'read' ? { name: 'loads', ns: m.raw.load } : { name: 'CAS', ns: m.raw.compareExchange };
    return [e.name, fmtSummary(e.ns), e.atomics ? `${fmt(e.atomics.total)} (${fmtAtomics(e.atomics)})` : '', `${fmt(e.ns.median / unit.ns, 2)} ${unit.name}`];
  });
}

export const LOCK_COST_HEADERS = ['uncontended, one thread', 'ns/op median (min–max)', 'Atomics ops', '≈ in CAS / loads of this run'];

const rate = (r: number): string => (r >= 1e6 ? `${fmt(r / 1e6, 3)} M/s` : `${fmt(r / 1e3, 3)} k/s`);

export function contendedRows(c: ContendedResult): string[][] {
  return c.cells.map((x) => [
    x.kind, String(x.workers), rate(x.pairsPerSec.median), `${rate(x.pairsPerSec.min)} – ${rate(x.pairsPerSec.max)}`,
    fmt(x.parksPerPair, 2), `${Math.round(x.topShare * 100)}%`,
  ]);
}

export const CONTENDED_HEADERS = ['contended: lock; increment; unlock', 'workers', 'pairs/s median', 'min – max', 'parks/pair', 'busiest worker'];

export function lockTargetRows(t: readonly LockTarget[]): string[][] {
  return t.map((x) => [x.target, x.measured, x.met ? 'PASS' : 'MISS', x.note]);
}

export const LOCK_TARGET_HEADERS = ['target (reported, not asserted)', 'measured', 'verdict', 'reason if missed'];

function locksSection(r: BenchResult): string {
  const out = ['## Locks', ''];
  if (r.micro && r.micro.entries.some((e) => e.group === 'lock' || e.group === 'read')) {
    out.push('Uncontended, on the main thread, in the micro section\'s rounds; priced in the compareExchange and load of the same run.', '',
      mdTable(LOCK_COST_HEADERS, lockCostRows(r.micro)), '');
  }
  if (r.contended) {
    const c = r.contended;
    out.push(`Contended: ${c.workers.map(workersLabel).join(', ')} sharing one lock (lock; increment a shared word; unlock), `
      + `${c.rounds} interleaved round(s) of ${c.runMs} ms; workers started once per lock kind and released together by a start barrier. `
      + '"Busiest worker" is the largest share of the pairs one worker got (1/workers is an even split): none of these locks queues its waiters.', '',
      mdTable(CONTENDED_HEADERS, contendedRows(c)), '');
  }
  if (r.lockTargets && r.lockTargets.length > 0) out.push(mdTable(LOCK_TARGET_HEADERS, lockTargetRows(r.lockTargets)), '');
  return out.join('\n');
}

export const CYCLE_HEADERS = ['configuration', 'ns/cycle median (min–max)', 'Atomics ops alloc / write / put / free', 'Atomics ops total', '≈ Atomics ns', 'price vs early/none (same cursor)'];

function cycleSection(m: MicroResult, prices: readonly PriceRow[]): string {
  const f = m.cycleFs;
  return [
    '## Allocation cycle, one thread, every configuration', '',
    `allocate + write ${f.writeSectors} sectors + put + free on a ${f.buckets}-bucket device (${f.bucketSectors} sectors/bucket), `
    + 'discard off: a freed bucket is free again at once (gen + 1), so the device is the same after every cycle and nothing piles up in need_discard. '
    + 'No race hook. Price: time per cycle relative to early/none with the same cursor setting, round by round.', '',
    mdTable(CYCLE_HEADERS, cycleTableRows(m, prices)), '',
    ...(m.entries.some((e) => e.group === 'oracle') ? [
      'The allocation oracle\'s price: the same cycle with `oracle: false`, timed in the same rounds; the ratio is computed round by round. '
      + 'Off, the allocation skips the oracle\'s load (one Atomics op fewer) and nothing else remains of it but a branch on a configuration flag.', '',
      mdTable(ORACLE_HEADERS, oracleTableRows(m)), '',
    ] : []),
  ].join('\n');
}

export function priceRowsMd(rows: readonly PriceRow[]): string[][] {
  return rows.map((r) => [
    r.label, r.baseline, String(r.workers), fmtSummary(r.ratio), pct(r.price.median),
    r.price.n === 0 ? 'n/a' : fmtPctRange(r.price.q1, r.price.q3), r.price.n === 0 ? 'n/a' : fmtPctRange(r.price.min, r.price.max),
    r.target === null ? '' : `≤ ${Math.round(r.target * 100)}%`,
    r.met === null ? '' : r.met ? 'yes' : 'no',
  ]);
}

export const PRICE_HEADERS = ['configuration', 'baseline', 'workers', 'throughput ratio median (min–max)', 'price median', 'price IQR', 'price min … max', 'target', 'met'];

function pricesSection(r: BenchResult, chart: string | null): string {
  const p = r.prices!;
  const out = ['## Price of each fix', ''];
  out.push('Price = 1 − (throughput ÷ baseline throughput), computed round by round from runs in the same round; '
    + 'median, interquartile range and min … max over rounds. "met" compares the median with the target; a target '
    + 'inside the IQR is not a measured difference either way. At one worker this is pure overhead. At several workers the unfixed early '
    + 'path corrupts (its racy allocations change the workload), so the fixes are also priced against the other correct '
    + 'variants (seqlock vs keylock; each vs freelist/none, whose locked lookup is the same shape as the key lock).', '');
  const key = p.scaling.filter((x) => x.label.startsWith('early/') && (x.workers === 1 || x.workers === 4));
  if (key.length > 0) {
    out.push('### Targets (scaling sweep, 1 and 4 workers)', '', mdTable(PRICE_HEADERS, priceRowsMd(key.filter((x) => x.target !== null))), '');
    out.push('### The correct variants against each other', '', mdTable(PRICE_HEADERS, priceRowsMd(key.filter((x) => !x.baseline.startsWith('early/none')))), '');
  }
  if (chart) out.push(`![fix prices](${chart})`, '');
  if (p.scaling.length > 0) {
    out.push('<details><summary>Every configuration against early/none, every worker count</summary>', '',
      mdTable(PRICE_HEADERS, priceRowsMd(p.scaling.filter((x) => x.baseline.startsWith('early/none')))), '', '</details>', '');
  }
  if (p.cycle.length > 0) {
    out.push('### One thread, in-process (micro cycle figures)', '', mdTable(PRICE_HEADERS, priceRowsMd(p.cycle)), '');
  }
  return out.join('\n');
}

function scalingSection(s: ScalingResult, chart: string | null): string {
  const labels = [...new Set(s.points.map((p) => p.label))];
  const rows = labels.map((label) => [label, ...s.workers.map((w) => {
    const p = s.points.find((x) => x.label === label && x.workers === w)!;
    return `${kops(p.throughput.median)} (${kops(p.throughput.min)}–${kops(p.throughput.max)})${p.racy > 0 ? ` ⚠ ${p.racy} racy` : ''}`;
  })]);
  return [
    '## Scaling: allocation throughput', '',
    `Cycles per second, all workers together (each worker's cycles over its own running time, summed). ${s.rounds} rounds of `
    + `${s.durationMs} ms per configuration, interleaved; workers started once and released together by a start barrier each round, `
    + `start-up never timed; a fresh ${s.buckets}-bucket filesystem per run; no race hook. ⚠ marks runs with racy allocations `
    + '(the unfixed path corrupting: its throughput is not a clean baseline).', '',
    mdTable(['configuration', ...s.workers.map(workersLabel)], rows), '',
    ...(chart ? [`![throughput vs workers](${chart})`, ''] : []),
  ].join('\n');
}

const SHORT_KIND: Record<ErrorKindName, string> = {
  duplicate_backpointer: 'backpointer', extent_overlap: 'overlap', data_type_mismatch: 'type', gen_mismatch: 'gen',
  write_after_empty: 'after empty', foreign_allocation: 'foreign',
};

/** "1,383: gen 664, foreign 719": the total, then each kind that occurred. */
function errorKinds(e: Record<ErrorKindName, number> & { total: number }): string {
  if (e.total === 0) return '0';
  const kinds = ERROR_KIND_NAMES.filter((k) => (e[k] ?? 0) > 0).map((k) => `${SHORT_KIND[k]} ${count(e[k])}`);
  return `${count(e.total)}: ${kinds.join(', ')}`;
}

function raceSection(r: RaceResult, chart: string | null): string {
  const rows = r.points.map((p) => [
    p.label, String(p.workers), delayLabel(p.delayNs), count(p.allocations), String(p.duplicates), formatRate(p.rate), String(p.racy),
    errorKinds(p.errors),
    p.fsckFailures === 0 ? 'clean' : `${p.fsckFailures} of ${p.runs} runs failed`,
  ]);
  const labels = [...new Set(r.points.map((p) => p.label))];
  const pooled = labels.map((label) => {
    const ps = r.points.filter((p) => p.label === label);
    const n = ps.reduce((a, p) => a + p.allocations, 0);
    const k = ps.reduce((a, p) => a + p.duplicates, 0);
    return [label, count(n), String(k), formatRate(raceRate(k, n))];
  });
  return [
    '## Race rate: the shape of the window', '',
    '"Duplicates" = duplicate allocations as the allocation oracle counts them: every publish of a bucket that was not, in '
    + 'truth, free at the gen published, once each; the rate is theirs. "Racy" = allocations whose own commit hit an AllocError '
    + '(what the writers saw); the commit errors are beside them, by kind (backpointer: a duplicate backpointer; overlap; type: '
    + 'a data-type mismatch; gen: a gen mismatch; after empty: a write into a bucket emptied and not discarded; foreign: a write '
    + 'beside another allocation\'s data) — one racy allocation can log more than one. With discard off a freed bucket goes straight '
    + `back to free with gen + 1, so a stale second opener mostly shows up as a gen mismatch or a foreign allocation. Delay: a spin of the given length at `
    + `the candidateRead race point with probability ${r.probability} per pass, not scaled by workers. ${r.rounds} round(s) of `
    + `${r.durationMs} ms per setting, pooled; every run's filesystem fsck'd afterwards (clean even after racy runs: each cycle `
    + 'frees what it wrote, so a race is caught at its commit and undone by the frees; the torture runner, which keeps data live, '
    + 'is where fsck sees it). Zero counts carry the rule-of-three 95% upper bound.', '',
    mdTable(['configuration', 'workers', 'delay', 'allocations', 'duplicates', 'rate', 'racy', 'commit errors', 'fsck'], rows), '',
    '### Pooled over every delay and worker count', '',
    mdTable(['configuration', 'allocations', 'duplicates', 'rate'], pooled), '',
    ...(chart ? [`![race rate vs delay](${chart})`, ''] : []),
  ].join('\n');
}

/** The scan-cost table (report, `sab-alloc bench`, bench:alloc): a row per configuration, a column per size. */
export function sizeTable(z: SizeResult): { headers: string[]; rows: string[][] } {
  return {
    headers: ['configuration', ...z.sizes.map((n) => `${count(n)} buckets`), 'growth', `≤ ${FLAT_TARGET}×`],
    rows: z.rows.map((row) => [row.label, ...z.sizes.map((n) => {
      const p = z.points.find((x) => x.label === row.label && x.buckets === n)!;
      return `${fmtSummary(p.ns)} · ${fmt(p.atomics.total)} ops`;
    }), `${fmt(row.growth)}×`, row.flat ? 'yes' : 'no']),
  };
}

function sizeSection(z: SizeResult, chart: string | null): string {
  const table = sizeTable(z);
  return [
    '## Scan cost vs device size (one thread)', '',
    `ns per cycle (median (min–max)) · Atomics ops per cycle, with the first ${Math.round(z.fill * 100)}% of the device full of data, `
    + `${z.bucketSectors} sectors per bucket. Target (reported, not asserted): with the cursor fix or the freelist allocator a cycle costs `
    + `the same within ${FLAT_TARGET}× from the smallest to the largest device. Every size was measured in the same interleaved rounds `
    + `(resident memory with all of them built: ${z.rssMiB ?? '?'} MiB).`, '',
    mdTable(table.headers, table.rows), '',
    ...(chart ? [`![cycle cost vs buckets](${chart})`, ''] : []),
  ].join('\n');
}

export interface BuiltReport {
  markdown: string;
  /** file name (inside the chart directory) → SVG text */
  charts: Record<string, string>;
  /** Whether charts were left out because the renderer is not installed. */
  chartsMissing: boolean;
}

/**
 * Markdown and SVGs for a result; `chartDir` is how the Markdown refers to the chart directory.
 * `charts` is the renderer (default: loaded if installed; null: none).
 */
export async function buildReport(r: BenchResult, chartDir = CHART_DIR, charts?: ChartsModule | null): Promise<BuiltReport> {
  const renderer = charts === undefined ? await loadCharts() : charts;
  const svgs: Record<string, string> = {};
  const ref = (name: string): string | null => (svgs[name] !== undefined ? `${chartDir}/${name}` : null);
  if (renderer !== null) {
    const { pricesSpec, raceSpec, renderSvg, scalingSpec, sizeSpec } = renderer;
    if (r.scaling) svgs['scaling.svg'] = await renderSvg(scalingSpec(r.scaling));
    if (r.race) svgs['race.svg'] = await renderSvg(raceSpec(r.race));
    if (r.size) svgs['size.svg'] = await renderSvg(sizeSpec(r.size));
    if (r.prices && (r.prices.scaling.length > 0 || r.prices.cycle.length > 0)) {
      const ws = r.scaling ? r.scaling.workers.filter((w) => w === 1 || w === 4) : [];
      svgs['prices.svg'] = await renderSvg(pricesSpec(r.prices, ws.length > 0 ? ws : (r.scaling?.workers ?? [])));
    }
  }
  const md: string[] = [
    '# sab-alloc benchmark report', '',
    `Machine: ${machineLine(r.machine)}.`, '',
    `Plan: ${r.plan.kind} (${r.plan.sections.join(', ')}); seed ${r.seed}; took ${fmt(r.durationMs / 1000)} s (estimated ${fmt(r.estimatedSeconds)} s). `
    + `Load average (1 min) ${fmt(r.machine.loadAvgStart ?? NaN)} at the start, ${fmt(r.loadAvgEnd ?? NaN)} at the end`
    + `${Math.max(r.machine.loadAvgStart ?? 0, r.loadAvgEnd ?? 0) > r.machine.cores
      ? ` — above the ${r.machine.cores} cores: other work shared the machine, so read the spreads, not just the medians.` : '.'}`, '',
    'Every figure is the median over interleaved rounds (each round measures every configuration once, in a shuffled order) '
    + 'with its min–max across rounds; the JSON file holds every sample. Speed is measured here, never asserted in tests.', '',
    ...(renderer === null ? [`No charts: the chart renderer (vega, vega-lite) is not installed; \`${CHARTS_INSTALL_HINT}\` and rerun to get them.`, ''] : []),
  ];
  if (r.prices && (r.prices.scaling.length > 0 || r.prices.cycle.length > 0)) md.push(pricesSection(r, ref('prices.svg')));
  if (r.micro) md.push(microSection(r.micro));
  if ((r.micro && r.micro.entries.some((e) => e.group === 'lock' || e.group === 'read')) || r.contended) md.push(locksSection(r));
  if (r.micro && r.micro.entries.some((e) => e.group === 'cycle')) md.push(cycleSection(r.micro, r.prices?.cycle ?? []));
  if (r.scaling) md.push(scalingSection(r.scaling, ref('scaling.svg')));
  if (r.race) md.push(raceSection(r.race, ref('race.svg')));
  if (r.size) md.push(sizeSection(r.size, ref('size.svg')));
  return { markdown: md.join('\n'), charts: svgs, chartsMissing: renderer === null };
}

export interface WrittenFiles {
  json: string;
  report: string;
  charts: string[];
  /** Charts were left out: the renderer is not installed. */
  chartsMissing: boolean;
}

/** The result as the JSON file holds it. */
export function resultJson(r: BenchResult): string {
  return `${JSON.stringify(r, null, 1)}\n`;
}

/** Writes the JSON (default <out>/bench.json), the Markdown report and the charts (when the renderer is installed). */
export async function writeReport(r: BenchResult, outDir: string, jsonPath?: string): Promise<WrittenFiles> {
  const json = jsonPath ?? join(outDir, JSON_FILE);
  mkdirSync(outDir, { recursive: true });
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, resultJson(r));
  const chartDir = join(outDir, CHART_DIR);
  const built = await buildReport(r, relative(outDir, chartDir) || CHART_DIR);
  const charts = Object.entries(built.charts).map(([name, svg]) => {
    mkdirSync(chartDir, { recursive: true });
    const p = join(chartDir, name);
    writeFileSync(p, svg);
    return p;
  });
  const report = join(outDir, REPORT_FILE);
  writeFileSync(report, `${built.markdown}\n`);
  return { json, report, charts, chartsMissing: built.chartsMissing };
}
