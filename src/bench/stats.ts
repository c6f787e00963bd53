/**
 * How a benchmark figure is summarised: the median of its per-round values with their spread.
 * One round is one pass over every configuration (A B C … then A B C …), so a figure's rounds were
 * measured at different moments of a noisy shared machine; the min–max and IQR say how much that
 * moved it. A single pair of runs proves nothing on these machines (docs/benchmarks.md).
 */
import { max, median, min, quantileSorted } from '../torture/quantiles.js';
import { count } from '../torture/format.js';

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** Interquartile range bounds (25th and 75th percentiles); equal to min/max below 4 samples. */
  q1: number;
  q3: number;
  n: number;
  /** Every per-round value, in round order: the raw data behind the figure. */
  samples: number[];
}

export function summarize(samples: readonly number[]): Summary {
  const xs = samples.filter((x) => Number.isFinite(x));
  if (xs.length === 0) return { median: NaN, min: NaN, max: NaN, q1: NaN, q3: NaN, n: 0, samples: [...samples] };
  const sorted = [...xs].sort((a, b) => a - b);
  const small = sorted.length < 4;
  return {
    median: median(sorted),
    min: min(sorted),
    max: max(sorted),
    q1: small ? sorted[0]! : quantileSorted(sorted, 0.25),
    q3: small ? sorted[sorted.length - 1]! : quantileSorted(sorted, 0.75),
    n: sorted.length,
    samples: [...samples],
  };
}

/** "123 (110–140)": median and min–max, with sensible precision. */
export function fmtSummary(s: Summary, digits = 3, scale = 1): string {
  if (s.n === 0) return 'n/a';
  return `${fmt(s.median * scale, digits)} (${fmt(s.min * scale, digits)}–${fmt(s.max * scale, digits)})`;
}

export function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 10 ** digits) return count(x);
  if (a === 0) return '0';
  return Number(x.toPrecision(digits)).toString();
}

/** "1 worker", "4 workers": a worker count as tables and chart legends name it. */
export function workersLabel(w: number): string {
  return `${w} worker${w === 1 ? '' : 's'}`;
}

/** "+2.1%" for a fraction. */
export function pct(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  return `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}%`;
}

/** "+2.1% (−0.5 … +4.0%)" for a price expressed as a fraction: median (min … max). */
export function fmtPct(s: Summary): string {
  if (s.n === 0) return 'n/a';
  return `${pct(s.median)} (${pct(s.min)} … ${pct(s.max)})`;
}

/** "−0.5 … +4.0%": the interquartile range of a fraction. */
export function fmtPctRange(lo: number, hi: number): string {
  return `${pct(lo)} … ${pct(hi)}`;
}
