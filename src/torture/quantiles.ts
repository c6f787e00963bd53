/**
 * Median and quantiles for the reports (demo, benchmarks). Quantiles interpolate linearly between
 * order statistics (Hyndman & Fan type 7, numpy's and R's default), so a median of an even count is
 * the mean of the middle two. Written out instead of a statistics package: these few lines were
 * all of it the project used, and the library entry point should not load a 170 KB module for them.
 */

/** The p-quantile (0 ≤ p ≤ 1) of values already sorted ascending; NaN when there are none. */
export function quantileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`p: must be a number in [0, 1], got ${p}`);
  const at = (sorted.length - 1) * p;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (at - lo) * (sorted[hi]! - sorted[lo]!);
}

/** The median of values in any order; NaN when there are none. */
export function median(values: readonly number[]): number {
  return quantileSorted([...values].sort((a, b) => a - b), 0.5);
}

/** The smallest value; NaN when there are none. */
export function min(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => (b < a ? b : a));
}

/** The largest value; NaN when there are none. */
export function max(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => (b > a ? b : a));
}
