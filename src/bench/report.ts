/**
 * The benchmark report: the JSON result (every sample), a Markdown report, and SVG charts, all
 * under one output directory. `buildReport` is pure (result in, text out) so it can be tested on a
 * synthetic result; `writeReport` puts the files on disk.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { raceRate, formatRate } from '../torture/rates.js';
import { count } from '../torture/format.js';
import { fmt, fmtPct, fmtPctRange, fmtSummary, pct, workersLabel } from './stats.js';
import { fmtAtomics } from './atomics-count.js';
import { atomicsNs, type MicroResult } from './micro.js';
import { configLabel } from './cycle.js';
import { delayLabel, type RaceResult } from './race-sweep.js';
import { FLAT_TARGET, type SizeResult } from './size-sweep.js';
import type { ScalingResult } from './scaling.js';
import type { PriceRow } from './prices.js';
import type { BenchResult, MachineInfo } from './suite.js';
import { pricesSpec, raceSpec, renderSvg, scalingSpec, sizeSpec } from './charts.js';

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
  const rows = m.entries.filter((e) => e.group !== 'cycle').map((e) => [
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

export const CYCLE_HEADERS = ['configuration', 'ns/cycle median (min–max)', 'Atomics ops alloc / write / put / free', 'Atomics ops total', '≈ Atomics ns', 'price vs early/none (same cursor)'];

function cycleSection(m: MicroResult, prices: readonly PriceRow[]): string {
  const f = m.cycleFs;
  return [
    '## Allocation cycle, one thread, every configuration', '',
    `allocate + write ${f.writeSectors} sectors + put + free on a ${f.buckets}-bucket device (${f.bucketSectors} sectors/bucket), `
    + 'discard off: a freed bucket is free again at once (gen + 1), so the device is the same after every cycle and nothing piles up in need_discard. '
    + 'No race hook. Price: time per cycle relative to early/none with the same cursor setting, round by round.', '',
    mdTable(CYCLE_HEADERS, cycleTableRows(m, prices)), '',
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

function raceSection(r: RaceResult, chart: string | null): string {
  const rows = r.points.map((p) => [
    p.label, String(p.workers), delayLabel(p.delayNs), count(p.allocations), String(p.duplicates), formatRate(p.rate), String(p.racy),
    `${p.errors.duplicate_backpointer} / ${p.errors.data_type_mismatch} / ${p.errors.gen_mismatch}`,
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
    + '(what the writers saw); the error log\'s counts by kind (duplicate backpointer / data-type mismatch / gen mismatch) are '
    + 'beside them — one racy allocation can log more than one. With discard off a freed bucket goes straight back to free with gen + 1, so a stale '
    + `second opener usually shows up as a gen mismatch rather than a duplicate backpointer. Delay: a spin of the given length at `
    + `the candidateRead race point with probability ${r.probability} per pass, not scaled by workers. ${r.rounds} round(s) of `
    + `${r.durationMs} ms per setting, pooled; every run's filesystem fsck'd afterwards (clean even after racy runs: each cycle `
    + 'frees what it wrote, so a race is caught at its commit and undone by the frees; the torture runner, which keeps data live, '
    + 'is where fsck sees it). Zero counts carry the rule-of-three 95% upper bound.', '',
    mdTable(['configuration', 'workers', 'delay', 'allocations', 'duplicates', 'rate', 'racy', 'errors dup / type / gen', 'fsck'], rows), '',
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
}

/** Markdown and SVGs for a result; `chartDir` is how the Markdown refers to the chart directory. */
export async function buildReport(r: BenchResult, chartDir = CHART_DIR): Promise<BuiltReport> {
  const charts: Record<string, string> = {};
  const ref = (name: string): string => `${chartDir}/${name}`;
  if (r.scaling) charts['scaling.svg'] = await renderSvg(scalingSpec(r.scaling));
  if (r.race) charts['race.svg'] = await renderSvg(raceSpec(r.race));
  if (r.size) charts['size.svg'] = await renderSvg(sizeSpec(r.size));
  if (r.prices && (r.prices.scaling.length > 0 || r.prices.cycle.length > 0)) {
    const ws = r.scaling ? r.scaling.workers.filter((w) => w === 1 || w === 4) : [];
    charts['prices.svg'] = await renderSvg(pricesSpec(r.prices, ws.length > 0 ? ws : (r.scaling?.workers ?? [])));
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
  ];
  if (r.prices && (r.prices.scaling.length > 0 || r.prices.cycle.length > 0)) md.push(pricesSection(r, charts['prices.svg'] ? ref('prices.svg') : null));
  if (r.micro) md.push(microSection(r.micro), cycleSection(r.micro, r.prices?.cycle ?? []));
  if (r.scaling) md.push(scalingSection(r.scaling, ref('scaling.svg')));
  if (r.race) md.push(raceSection(r.race, ref('race.svg')));
  if (r.size) md.push(sizeSection(r.size, ref('size.svg')));
  return { markdown: md.join('\n'), charts };
}

export interface WrittenFiles {
  json: string;
  report: string;
  charts: string[];
}

/** Writes the JSON (default <out>/bench.json), the Markdown report and the charts. */
export async function writeReport(r: BenchResult, outDir: string, jsonPath?: string): Promise<WrittenFiles> {
  const json = jsonPath ?? join(outDir, JSON_FILE);
  mkdirSync(outDir, { recursive: true });
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, `${JSON.stringify(r, null, 1)}\n`);
  const chartDir = join(outDir, CHART_DIR);
  const built = await buildReport(r, relative(outDir, chartDir) || CHART_DIR);
  mkdirSync(chartDir, { recursive: true });
  const charts = Object.entries(built.charts).map(([name, svg]) => {
    const p = join(chartDir, name);
    writeFileSync(p, svg);
    return p;
  });
  const report = join(outDir, REPORT_FILE);
  writeFileSync(report, `${built.markdown}\n`);
  return { json, report, charts };
}
