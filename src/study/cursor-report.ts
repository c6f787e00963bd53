/**
 * The cursor study's report: tables for the terminal and for Markdown, the chart (ratio cursor /
 * no cursor by condition, both measures, log scale), and a reading generated from the numbers —
 * which conditions the cursor fix helps, which it hurts, where the data cannot tell.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { loadCharts } from '../bench/report.js';
import { formatRate } from '../torture/rates.js';
import { count } from '../torture/format.js';
import { fmt } from '../bench/stats.js';
import { rateRatio, type ConditionResult, type CursorStudyResult, type FirstDuplicateArm, type Pooled, type Ratio } from './cursor-study.js';

export const STUDY_JSON = 'cursor-study.json';
export const STUDY_MD = 'cursor-study.md';
export const STUDY_CHART = 'cursor-ratio.svg';

/** "0.56 (0.24–1.31)", or why there is no ratio. */
export function fmtRatio(r: Ratio): string {
  if (r.method === 'none') return 'no duplicates either way';
  const hi = r.high < 1e300 ? fmt(r.high, 2) : '∞';
  return `${fmt(r.value, 2)} (${fmt(r.low, 2)}–${hi})${r.method === 'zero-corrected' ? ' ⁰' : ''}`;
}

/** Which way the interval points. */
export function verdictOf(r: Ratio): 'fewer with cursor' | 'more with cursor' | 'no clear difference' | 'no duplicates' {
  if (r.method === 'none') return 'no duplicates';
  if (r.high < 1) return 'fewer with cursor';
  if (r.low > 1) return 'more with cursor';
  return 'no clear difference';
}

/** The condition as it differs from its baseline: "baseline", "fill 90%", "8 workers", … */
export function shortLabel(c: ConditionResult): string {
  const k = c.condition;
  switch (c.varied) {
    case 'fill': return `fill ${Math.round(k.fill * 100)}%`;
    case 'device size': return `${k.buckets} buckets`;
    case 'workers': return `${k.workers} workers`;
    case 'delay': return k.delayNs === 0 ? 'no delay' : `${k.delayNs / 1000} µs delay`;
    case 'discard': return `discard ${k.discard ? 'on' : 'off'}`;
    default: return 'baseline';
  }
}

const perMillion = (p: Pooled): string => formatRate(p.rate);

function mech(p: Pooled): string {
  const m = p.mech;
  const same = m.candidateReads > 0 ? `${fmt((100 * m.sameCandidate) / m.candidateReads, 2)}%` : 'n/a';
  const stale = m.staleRescued + m.stalePublished;
  const windows = p.allocations > 0 ? fmt((1000 * stale) / p.allocations, 2) : 'n/a';
  const rescued = stale > 0 ? `${fmt((100 * m.staleRescued) / stale, 2)}%` : 'n/a';
  const lag = p.reuseLag.medianBin === null ? 'n/a' : `${p.reuseLag.medianBin[0]}–${p.reuseLag.medianBin[1]}`;
  return `same candidate ${same}; stale windows ${windows}‰, ${rescued} rescued; reuse lag ${lag} (mean ${fmt(p.reuseLag.mean, 3)}); scan ${fmt(p.scanLength, 3)}`;
}

function conseq(p: Pooled): string {
  const c = p.consequences;
  const parts = Object.entries(c).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`);
  return parts.length > 0 ? parts.join(', ') : '—';
}

function arm(a: FirstDuplicateArm): string {
  const q = a.quartiles.allocations;
  const t = a.quartiles.ms;
  return `${a.events}/${a.runs} runs; hazard ${formatRate(a.hazard)}; allocations to first: ${q === null ? 'n/a' : `median ${count(q[1])} (IQR ${count(q[0])}–${count(q[2])})`}; ms: ${t === null ? 'n/a' : `median ${fmt(t[1], 3)} (IQR ${fmt(t[0], 3)}–${fmt(t[2], 3)})`}`;
}

/** The reading: what the numbers say, one sentence per finding. */
export function reading(r: CursorStudyResult): string[] {
  const out: string[] = [];
  const list = (xs: string[]): string => xs.join(', ') || 'no condition';
  for (const shape of ['cycle', 'torture'] as const) {
    const rows = r.conditions.filter((c) => c.condition.shape === shape);
    for (const [measure, pick] of [
      ['first duplicate (cascade-free hazard)', (c: ConditionResult): Ratio => c.first.ratio],
      ['long-run rate (race and cascade)', (c: ConditionResult): Ratio => c.ratio],
    ] as const) {
      const by = (v: string): string[] => rows.filter((c) => verdictOf(pick(c)) === v).map(shortLabel);
      const none = by('no duplicates');
      out.push(`${shape}, ${measure}: fewer with the cursor fix under ${list(by('fewer with cursor'))}; more under ${list(by('more with cursor'))}; `
        + `no clear difference under ${list(by('no clear difference'))}${none.length > 0 ? `; no duplicates either way under ${none.join(', ')}` : ''}.`);
    }
    const base = rows.find((c) => c.varied === 'baseline');
    if (base !== undefined) {
      const a = base.noCursor;
      const b = base.cursor;
      const lag = (p: Pooled): string => (p.reuseLag.medianBin === null ? 'n/a' : `${p.reuseLag.medianBin[0]}–${p.reuseLag.medianBin[1]}`);
      out.push(`${shape} baseline mechanism, no cursor → cursor: reuse lag ${lag(a)} → ${lag(b)} allocations; same-candidate reads `
        + `${pctOf(a.mech.sameCandidate, a.mech.candidateReads)} → ${pctOf(b.mech.sameCandidate, b.mech.candidateReads)}; stale windows rescued by the is-open check `
        + `${pctOf(a.mech.staleRescued, a.mech.staleRescued + a.mech.stalePublished)} → ${pctOf(b.mech.staleRescued, b.mech.staleRescued + b.mech.stalePublished)}; `
        + `scan ${fmt(a.scanLength, 3)} → ${fmt(b.scanLength, 3)} buckets.`);
    }
  }
  return out;
}

function pctOf(x: number, n: number): string {
  return n > 0 ? `${fmt((100 * x) / n, 2)}%` : 'n/a';
}

export function mdTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [`| ${headers.map(esc).join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`, ...rows.map((x) => `| ${x.map(esc).join(' | ')} |`)].join('\n');
}

export function studyMarkdown(r: CursorStudyResult, chartFile = STUDY_CHART): string {
  const p = r.params;
  const lines: string[] = [
    '# Cursor study',
    '',
    `${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}, ${r.machine.date}; seed ${p.seed}${p.quick ? ' (quick mode)' : ''}.`,
    `First duplicate: ${p.firstRuns} runs per condition and setting, at most ${p.firstMaxMs} ms each; long-run: ${p.rounds} rounds × ${p.durationMs} ms; all interleaved.`,
    `Delay: a spin at the candidate read with probability ${p.delayProbability} per read. Rates: duplicate allocations (the oracle) per allocation, 95% Wilson intervals. Ratios: first duplicate, Katz log interval on the Poisson counts (⁰: a zero count, 0.5 added); long-run, bootstrap over rounds (a run's duplicates are not independent).`,
    '',
    `![ratio cursor / no cursor by condition](${chartFile})`,
    '',
    '## Reading',
    '',
    ...reading(r).map((s) => `* ${s}`),
    '',
    '## First duplicate from a fresh device (cascade-free)',
    '',
    'Each run starts on a freshly made and filled device and stops at its first duplicate allocation; a run without one counts every allocation it made (censored). Hazard = first duplicates ÷ allocations at risk.',
    '',
    mdTable(['shape', 'condition', 'no cursor', 'cursor', 'hazard ratio (95%)'],
      r.conditions.map((c) => [c.condition.shape, shortLabel(c), arm(c.first.noCursor), arm(c.first.cursor), fmtRatio(c.first.ratio)])),
    '',
    '## Long-run rate (race and cascade)',
    '',
    mdTable(['shape', 'condition', 'no cursor: duplicates / allocations', 'rate', 'cursor: duplicates / allocations', 'rate', 'ratio (95%)', 'per-round ratios'],
      r.conditions.map((c) => [
        c.condition.shape, shortLabel(c),
        `${count(c.noCursor.duplicates)} / ${count(c.noCursor.allocations)}`, perMillion(c.noCursor),
        `${count(c.cursor.duplicates)} / ${count(c.cursor.allocations)}`, perMillion(c.cursor),
        fmtRatio(c.ratio), c.roundRatios.map((x) => fmt(x, 2)).join(' ') || '—',
      ])),
    '',
    '## Mechanism (long-run runs)',
    '',
    'Same candidate: candidate reads of a bucket another in-flight scan held. Stale windows: candidates whose record changed between the read and the freelist lock (per thousand allocations), and the share the is-open check rescued (the rest were published: duplicates). Reuse lag: allocations between two publishes of one bucket (median bin). Scan: buckets looked at per allocation.',
    '',
    mdTable(['shape', 'condition', 'no cursor', 'cursor', 'what the duplicates broke (no cursor / cursor)'],
      r.conditions.map((c) => [c.condition.shape, shortLabel(c), mech(c.noCursor), mech(c.cursor), `${conseq(c.noCursor)} / ${conseq(c.cursor)}`])),
    '',
  ];
  return lines.join('\n');
}

/** Ratio by condition, both measures, with intervals, on a log axis; a rule at 1. */
export function ratioSpec(r: CursorStudyResult): TopLevelSpec {
  const clamp = (x: number): number => Math.min(100, Math.max(0.01, x));
  const values = r.conditions.flatMap((c) => [
    { measure: 'first duplicate (cascade-free)', ratio: c.first.ratio },
    { measure: 'long-run rate', ratio: c.ratio },
  ].filter((m) => m.ratio.method !== 'none').map((m) => ({
    shape: c.condition.shape, condition: shortLabel(c), measure: m.measure, ratio: clamp(m.ratio.value), low: clamp(m.ratio.low), high: clamp(m.ratio.high),
  })));
  const order = ['baseline', 'fill 50%', 'fill 90%', '4096 buckets', '2 workers', '8 workers', 'no delay', '1 µs delay', 'discard on', 'discard off'];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Cursor fix: race rate with / without', subtitle: 'ratio cursor / no cursor (log scale; < 1: the cursor fix races less); bars: 95% interval' },
    data: { values },
    facet: { row: { field: 'shape', type: 'nominal', title: 'workload' } },
    spec: {
      width: 380,
      height: { step: 16 },
      layer: [
        { mark: { type: 'rule', color: '#999', strokeDash: [4, 3] }, encoding: { x: { datum: 1, type: 'quantitative' } } },
        {
          mark: { type: 'rule' },
          encoding: {
            y: { field: 'condition', type: 'nominal', sort: order, title: null },
            yOffset: { field: 'measure', type: 'nominal' },
            x: { field: 'low', type: 'quantitative', scale: { type: 'log', domain: [0.01, 100] }, title: 'cursor / no cursor' },
            x2: { field: 'high' },
            color: { field: 'measure', type: 'nominal', title: null, scale: { scheme: 'category10' } },
          },
        },
        {
          mark: { type: 'point', filled: true, size: 40 },
          encoding: {
            y: { field: 'condition', type: 'nominal', sort: order },
            yOffset: { field: 'measure', type: 'nominal' },
            x: { field: 'ratio', type: 'quantitative' },
            color: { field: 'measure', type: 'nominal' },
          },
        },
      ],
    },
    config: { font: 'sans-serif', view: { stroke: '#ddd' }, axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 200 }, legend: { labelFontSize: 11, labelLimit: 260, orient: 'bottom' } },
  } as TopLevelSpec;
}

export interface StudyFiles {
  json: string;
  report: string;
  /** null when the optional chart renderer (vega, vega-lite) is not installed. */
  chart: string | null;
}

/** Writes the JSON (every sample), the Markdown report and the chart into `outDir`. */
export async function writeStudy(r: CursorStudyResult, outDir: string, jsonPath?: string): Promise<StudyFiles> {
  mkdirSync(outDir, { recursive: true });
  const json = jsonPath ?? join(outDir, STUDY_JSON);
  writeFileSync(json, `${JSON.stringify(r, null, 1)}\n`);
  // The chart renderer is an optional dependency: loaded only here, and skipped when absent.
  const charts = await loadCharts();
  const chart = charts === null ? null : join(outDir, STUDY_CHART);
  if (charts !== null && chart !== null) writeFileSync(chart, await charts.renderSvg(ratioSpec(r)));
  const report = join(outDir, STUDY_MD);
  writeFileSync(report, `${studyMarkdown(r)}\n`);
  return { json, report, chart };
}

/** Terminal lines: one per condition and measure, then the reading. */
export function studyLines(r: CursorStudyResult): string[] {
  const out: string[] = [];
  out.push('ratio cursor / no cursor (95%): first duplicate from a fresh device (cascade-free hazard) | long-run duplicate rate');
  for (const c of r.conditions) {
    out.push(`  ${c.condition.shape.padEnd(8)} ${shortLabel(c).padEnd(14)} first ${fmtRatio(c.first.ratio).padEnd(24)} ${verdictOf(c.first.ratio).padEnd(20)} | long-run ${fmtRatio(c.ratio).padEnd(22)} ${verdictOf(c.ratio)}`);
  }
  out.push('');
  for (const s of reading(r)) out.push(s);
  return out;
}

/**
 * Several study runs side by side: each condition's first-duplicate ratio in each run, the ratio
 * from their pooled counts (runs are independent, so first duplicates and exposures add), and each
 * run's long-run ratio. Whether a direction holds up across runs on a shared machine is the test a
 * single run's interval cannot pass for it.
 */
export function combineLines(results: readonly CursorStudyResult[]): string[] {
  const first = results[0];
  if (first === undefined) return [];
  const head = ['shape', 'condition', ...results.map((_, i) => `first dup, run ${i + 1}`), 'first dup, pooled', ...results.map((_, i) => `long-run, run ${i + 1}`)];
  const rows = first.conditions.map((c, i) => {
    const same = results.map((r) => r.conditions[i]);
    if (same.some((x) => x === undefined || x.label !== c.label)) throw new Error(`combine: the runs did not measure the same conditions (condition ${i + 1}: ${c.label})`);
    const xs = same as ConditionResult[];
    const sum = (f: (x: ConditionResult) => number): number => xs.reduce((a, x) => a + f(x), 0);
    const pooled = rateRatio(sum((x) => x.first.cursor.events), sum((x) => x.first.cursor.exposure), sum((x) => x.first.noCursor.events), sum((x) => x.first.noCursor.exposure), true);
    return [c.condition.shape, shortLabel(c), ...xs.map((x) => fmtRatio(x.first.ratio)), fmtRatio(pooled), ...xs.map((x) => fmtRatio(x.ratio))];
  });
  return mdTable(head, rows).split('\n');
}
