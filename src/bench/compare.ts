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
  for (const c of r.contended?.cells ?? []) out.push({ key: `contended: ${c.kind} × ${c.workers}`, unit: 'pairs/s', better: 'higher', s: c.pairsPerSec });
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

/**
 * What a comparison reads from a result, as a shape: a type name (a trailing '?' allows null: a
 * figure with no samples is NaN, which JSON writes as null), an object of fields, or a one-element
 * array for "array of". Optional sections are listed in OPTIONAL.
 */
type Shape = 'string' | 'number' | 'number?' | { readonly [field: string]: Shape } | readonly [Shape];

const SUMMARY: Shape = { median: 'number?', min: 'number?', max: 'number?', n: 'number' };
const MACHINE: Shape = {
  cpuModel: 'string', cores: 'number', availableParallelism: 'number', node: 'string', platform: 'string', release: 'string',
  arch: 'string', totalMemGiB: 'number', date: 'string',
};
const OPTIONAL: Readonly<Record<string, Shape>> = {
  micro: { entries: [{ name: 'string', ns: SUMMARY }] },
  size: { points: [{ label: 'string', buckets: 'number', ns: SUMMARY }] },
  scaling: { points: [{ label: 'string', workers: 'number', throughput: SUMMARY }] },
  prices: { scaling: [{ label: 'string', baseline: 'string', workers: 'number', ratio: SUMMARY }] },
  race: { points: [{ label: 'string', workers: 'number', delayNs: 'number', rate: { rate: 'number', low: 'number', high: 'number' } }] },
  contended: { cells: [{ kind: 'string', workers: 'number', pairsPerSec: SUMMARY }] },
};

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `a string ${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

function checkShape(v: unknown, shape: Shape, path: string, problems: string[]): void {
  if (problems.length >= 5) return;
  if (typeof shape === 'string') {
    const ok = shape === 'string' ? typeof v === 'string' : typeof v === 'number' || (shape === 'number?' && v === null);
    if (!ok) problems.push(`${path} must be ${shape === 'string' ? 'a string' : 'a number'}, got ${v === undefined ? 'nothing' : describe(v)}`);
    return;
  }
  if (Array.isArray(shape)) {
    if (!Array.isArray(v)) {
      problems.push(`${path} must be an array, got ${v === undefined ? 'nothing' : describe(v)}`);
      return;
    }
    v.forEach((item, i) => checkShape(item, shape[0]!, `${path}[${i}]`, problems));
    return;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    problems.push(`${path} must be an object, got ${v === undefined ? 'nothing' : describe(v)}`);
    return;
  }
  for (const [field, sub] of Object.entries(shape as Record<string, Shape>)) checkShape((v as Record<string, unknown>)[field], sub, `${path}.${field}`, problems);
}

/**
 * What is missing or malformed in a result that carries the schema tag (at most five, each with
 * its path), as far as a comparison reads it; empty when it can be compared.
 */
export function resultProblems(r: Record<string, unknown>): string[] {
  const problems: string[] = [];
  checkShape(r.machine, MACHINE, 'machine', problems);
  for (const [section, shape] of Object.entries(OPTIONAL)) {
    if (r[section] !== undefined) checkShape(r[section], shape, section, problems);
  }
  return problems;
}

/** Reads and checks a result file; errors name the file and what is missing. */
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
  const problems = resultProblems(r as Record<string, unknown>);
  if (problems.length > 0) throw new Error(`${path}: not a complete sab-alloc bench result: ${problems.join('; ')}`);
  return r as BenchResult;
}

export function formatCompareRows(rows: readonly CompareRow[]): string[][] {
  return rows.map((r) => [
    r.key, r.unit, fmt(r.a), fmt(r.b), Number.isFinite(r.ratio) ? `${fmt(r.ratio)}×` : 'n/a',
    r.flagged ? `⚑ ${r.verdict}` : r.verdict,
  ]);
}
