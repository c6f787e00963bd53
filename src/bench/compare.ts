/**
 * `sab-alloc bench --compare A.json B.json`: every figure both results share, B's median over A's,
 * flagged when the change is beyond the measured spread — when B's median lies outside A's min–max
 * AND A's median outside B's (the two runs' rounds do not even overlap at the centre). A figure with
 * a single round has no spread; it is shown but never flagged, and says so.
 */
import { readFileSync } from 'node:fs';
import { fmt, type Summary } from './stats.js';
import { RESULT_SCHEMA, type BenchResult } from './suite.js';
import { delayLabel } from './race-sweep.js';

export interface Figure {
  key: string;
  unit: string;
  /** Which way is better (for the verdict column). */
  better: 'lower' | 'higher';
  s: Summary;
}

export function figures(r: BenchResult): Figure[] {
  const out: Figure[] = [];
  for (const e of r.micro?.entries ?? []) out.push({ key: `micro: ${e.name}`, unit: 'ns', better: 'lower', s: e.ns });
  for (const p of r.size?.points ?? []) out.push({ key: `size: ${p.label} @ ${p.buckets} buckets`, unit: 'ns/cycle', better: 'lower', s: p.ns });
  for (const p of r.scaling?.points ?? []) out.push({ key: `scaling: ${p.label} × ${p.workers}`, unit: 'cycles/s', better: 'higher', s: p.throughput });
  for (const p of r.prices?.scaling ?? []) {
    out.push({ key: `price: ${p.label} vs ${p.baseline} × ${p.workers}`, unit: 'ratio', better: 'higher', s: p.ratio });
  }
  for (const p of r.race?.points ?? []) {
    // A rate has no round spread; its interval plays that role.
    const x = p.rate.rate * 1e6;
    out.push({ key: `race: ${p.label} × ${p.workers}, delay ${delayLabel(p.delayNs)}`, unit: 'per million', better: 'lower',
      s: { median: x, min: p.rate.low * 1e6, max: p.rate.high * 1e6, q1: x, q3: x, n: 2, samples: [x] } });
  }
  return out;
}

export interface CompareRow {
  key: string;
  unit: string;
  a: number;
  b: number;
  /** b / a */
  ratio: number;
  flagged: boolean;
  /** 'better' / 'worse' when flagged, 'no spread' when a side has one round, else 'within spread'. */
  verdict: 'better' | 'worse' | 'within spread' | 'no spread';
}

export function compareResults(a: BenchResult, b: BenchResult): CompareRow[] {
  const fb = new Map(figures(b).map((f) => [f.key, f]));
  const rows: CompareRow[] = [];
  for (const fa of figures(a)) {
    const g = fb.get(fa.key);
    if (g === undefined) continue;
    const A = fa.s;
    const B = g.s;
    const noSpread = A.n < 2 || B.n < 2;
    const beyond = !noSpread && (B.median < A.min || B.median > A.max) && (A.median < B.min || A.median > B.max);
    const up = B.median > A.median;
    const verdict: CompareRow['verdict'] = noSpread ? 'no spread' : !beyond ? 'within spread'
      : (up === (fa.better === 'higher')) ? 'better' : 'worse';
    rows.push({ key: fa.key, unit: fa.unit, a: A.median, b: B.median, ratio: B.median / A.median, flagged: beyond, verdict });
  }
  return rows;
}

/** Reads and checks a result file; errors name the file. */
export function loadResult(path: string): BenchResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not JSON (${(e as Error).message})`);
  }
  if (typeof r !== 'object' || r === null || (r as { schema?: unknown }).schema !== RESULT_SCHEMA) {
    throw new Error(`${path}: not a sab-alloc bench result (expected "schema": "${RESULT_SCHEMA}"; write one with \`sab-alloc bench\`)`);
  }
  return r as BenchResult;
}

export function formatCompareRows(rows: readonly CompareRow[]): string[][] {
  return rows.map((r) => [
    r.key, r.unit, fmt(r.a), fmt(r.b), Number.isFinite(r.ratio) ? `${fmt(r.ratio)}×` : 'n/a',
    r.flagged ? `⚑ ${r.verdict}` : r.verdict,
  ]);
}
