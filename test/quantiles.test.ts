/**
 * The report's median and quantiles (src/torture/quantiles.ts) against values worked out by hand
 * with linear interpolation between order statistics (type 7: numpy's and R's default).
 */
import { describe, expect, it } from 'vitest';
import { max, median, min, quantileSorted } from '../src/torture/quantiles.js';

describe('quantiles', () => {
  it('median: the middle value, or the mean of the middle two', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it('quantileSorted interpolates between order statistics', () => {
    const xs = [1, 2, 3, 4, 5];
    expect(quantileSorted(xs, 0)).toBe(1);
    expect(quantileSorted(xs, 1)).toBe(5);
    expect(quantileSorted(xs, 0.25)).toBe(2);
    expect(quantileSorted([10, 20, 30, 40], 0.25)).toBeCloseTo(17.5, 12);
    expect(quantileSorted([10, 20, 30, 40], 0.75)).toBeCloseTo(32.5, 12);
    expect(() => quantileSorted(xs, 1.5)).toThrow(/p: must be a number in \[0, 1\]/);
  });

  it('min and max without spreading (no argument-count limit)', () => {
    const many = Array.from({ length: 200_000 }, (_, i) => i - 7);
    expect(min(many)).toBe(-7);
    expect(max(many)).toBe(199_992);
    expect(min([])).toBeNaN();
  });
});
