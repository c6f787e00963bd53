/**
 * Seeded streams: reproducible, independent per stream, seeds derived by hashing (never seed + i),
 * and roughly uniform.
 */
import { describe, expect, it } from 'vitest';
import { Rng, deriveSeed, mix32, randomSeed, streamRng } from '../src/shared/prng.js';
import { ConfigError } from '../src/shared/validate.js';

function take(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.u32());
}

/** Pearson's chi-square statistic of `counts` against a uniform expectation. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((x, c) => x + (c - expected) ** 2 / expected, 0);
}

describe('streamRng', () => {
  it('gives the same sequence for the same seed and stream', () => {
    for (const seed of [0, 1, 42, 0xffffffff]) {
      for (const stream of [0, 1, 7, 1000]) {
        expect(take(streamRng(seed, stream), 64)).toEqual(take(streamRng(seed, stream), 64));
      }
    }
  });

  it('gives different sequences for different streams and different seeds', () => {
    const seen = new Set<string>();
    for (let stream = 0; stream < 64; stream++) seen.add(take(streamRng(42, stream), 8).join(','));
    for (let seed = 100; seed < 164; seed++) seen.add(take(streamRng(seed, 0), 8).join(','));
    expect(seen.size).toBe(128);
    // No shared outputs at all between two neighbouring streams over a long stretch.
    const a = new Set(take(streamRng(7, 0), 10_000));
    const b = take(streamRng(7, 1), 10_000);
    expect(b.filter((x) => a.has(x)).length).toBeLessThan(3);
  });

  it('derives stream seeds by hashing, not by adding', () => {
    const seed = 1234;
    const derived = Array.from({ length: 16 }, (_, i) => deriveSeed(seed, i));
    expect(derived).not.toContain(seed);
    for (let i = 0; i < 16; i++) expect(derived[i]).not.toBe(seed + i);
    const steps = new Set(derived.slice(1).map((d, i) => (d - derived[i]!) >>> 0));
    expect(steps.size).toBe(15);
    // Stream 1 of seed s is not stream 0 of seed s + 1 (which `seed + stream` would make it).
    expect(take(streamRng(seed, 1), 16)).not.toEqual(take(streamRng(seed + 1, 0), 16));
    expect(deriveSeed(seed, 1)).not.toBe(deriveSeed(seed + 1, 0));
  });

  it('is roughly uniform: chi-square over 64 buckets, 200k draws', () => {
    const rng = streamRng(99, 3);
    const buckets = new Array(64).fill(0);
    for (let i = 0; i < 200_000; i++) buckets[rng.below(64)]++;
    // 63 degrees of freedom: mean 63, sd ≈ 11.2. 150 is ~8 sd out: generous, never flaky.
    expect(chiSquare(buckets)).toBeLessThan(150);
    const bits = new Array(32).fill(0);
    for (let i = 0; i < 20_000; i++) {
      const x = rng.u32();
      for (let b = 0; b < 32; b++) bits[b] += (x >>> b) & 1;
    }
    for (const ones of bits) expect(Math.abs(ones - 10_000)).toBeLessThan(700);
  });

  it('keeps helpers in range', () => {
    const rng = streamRng(5, 5);
    for (let i = 0; i < 10_000; i++) {
      const f = rng.float();
      expect(f >= 0 && f < 1).toBe(true);
      const b = rng.between(-3, 3);
      expect(b >= -3 && b <= 3 && Number.isInteger(b)).toBe(true);
    }
    expect(rng.chance(0)).toBe(false);
    expect(rng.chance(1)).toBe(true);
    expect(['a', 'b', 'c']).toContain(rng.pick(['a', 'b', 'c']));
  });

  it('replays from a saved state', () => {
    const rng = streamRng(11, 2);
    take(rng, 100);
    const state = rng.state();
    const next = take(rng, 50);
    rng.restore(state);
    expect(take(rng, 50)).toEqual(next);
  });

  it('rejects bad seeds and streams naming the parameter and range', () => {
    expect(() => streamRng(-1, 0)).toThrow(ConfigError);
    expect(() => streamRng(-1, 0)).toThrow('seed: must be an integer in [0, 4294967295], got -1');
    expect(() => streamRng(1, 0.5)).toThrow('stream: must be an integer in [0, 4294967295], got 0.5');
    expect(() => new Rng(2 ** 32)).toThrow(/seed/);
  });
});

describe('mix32 and randomSeed', () => {
  it('mix32 is a bijection-like avalanche: distinct inputs give distinct unsigned outputs', () => {
    const out = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const m = mix32(i);
      expect(m >= 0 && m <= 0xffffffff).toBe(true);
      out.add(m);
    }
    expect(out.size).toBe(10_000);
  });

  it('randomSeed is a valid seed', () => {
    const s = randomSeed();
    expect(Number.isInteger(s) && s >= 0 && s <= 0xffffffff).toBe(true);
    expect(() => streamRng(s, 0)).not.toThrow();
  });
});
