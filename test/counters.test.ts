/**
 * Per-member counter blocks: 64-bit counters padded to whole cache lines, disjoint, summed by
 * total(), and exact past 2^31 and 2^32 (an int32 counter would wrap there).
 */
import { describe, expect, it } from 'vitest';
import { CACHE_LINE_DOUBLES, CounterBlocks, counterStride, counterWords } from '../src/shared/counters.js';
import { ConfigError } from '../src/shared/validate.js';

const NAMES = ['ops', 'retries', 'fails'] as const;

function blocks(members: number, names: readonly string[] = NAMES): CounterBlocks<string> {
  return new CounterBlocks(new Float64Array(new SharedArrayBuffer(counterWords(names.length, members) * 8)), names, members);
}

describe('counter blocks', () => {
  it('have a stride that is a whole number of 64-byte lines (a multiple of 8 doubles)', () => {
    expect(CACHE_LINE_DOUBLES).toBe(8);
    for (let n = 1; n <= 70; n++) {
      const stride = counterStride(n);
      expect(stride % 8).toBe(0);
      expect(stride).toBeGreaterThanOrEqual(n);
      expect(stride - n).toBeLessThan(8);
    }
    expect(counterWords(9, 3)).toBe(16 * 3);
    expect(counterWords(8, 3)).toBe(8 * 3);
  });

  it('do not overlap: bumping one member changes no other member', () => {
    const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
    const c = blocks(5, names);
    expect(c.stride).toBe(24);
    for (let s = 0; s < 5; s++) {
      expect(c.base(s)).toBe(s * 24);
      expect((c.base(s) * 8) % 64).toBe(0);
    }
    for (const name of names) c.add(2, name, 7);
    for (let s = 0; s < 5; s++) {
      expect(Object.values(c.read(s))).toEqual(new Array(20).fill(s === 2 ? 7 : 0));
    }
    const raw = c.raw;
    const touched = Array.from(raw.keys()).filter((i) => raw[i] !== 0);
    expect(Math.min(...touched)).toBeGreaterThanOrEqual(c.base(2));
    expect(Math.max(...touched)).toBeLessThan(c.base(3));
  });

  it('total() sums each counter over every member; reset() clears one member', () => {
    const c = blocks(4);
    for (let s = 0; s < 4; s++) {
      c.add(s, 'ops', s + 1);
      c.add(s, 'retries');
    }
    c.raw[c.base(3) + c.offsetOf('fails')]! += 5;
    expect(c.total()).toEqual({ ops: 10, retries: 4, fails: 5 });
    expect(c.read(3)).toEqual({ ops: 4, retries: 1, fails: 5 });
    c.reset(3);
    expect(c.read(3)).toEqual({ ops: 0, retries: 0, fails: 0 });
    expect(c.total()).toEqual({ ops: 6, retries: 3, fails: 0 });
  });

  it('count exactly across 2^31 and 2^32 (where an int32 counter goes negative, then wraps to 0)', () => {
    const c = blocks(2);
    const at = c.base(1) + c.offsetOf('ops');
    for (const edge of [2 ** 31, 2 ** 32]) {
      c.raw[at] = edge - 2;
      for (let i = 0; i < 4; i++) c.raw[at]!++;
      expect(c.read(1).ops).toBe(edge + 2);
      c.add(0, 'ops', edge);
      expect(c.total().ops).toBe(2 * edge + 2);
      c.reset(0);
    }
  });

  it('reject a non-float buffer, too few doubles and out-of-range members, naming the parameter', () => {
    expect(() => new CounterBlocks(new Int32Array(new SharedArrayBuffer(4 * 64)) as unknown as Float64Array, NAMES, 2))
      .toThrow('counter words: must be a Float64Array');
    expect(() => new CounterBlocks(new Float64Array(new SharedArrayBuffer(8 * 8)), NAMES, 2)).toThrow(ConfigError);
    expect(() => new CounterBlocks(new Float64Array(new SharedArrayBuffer(8 * 8)), NAMES, 2)).toThrow('counter words: need 16 doubles for 2 members of 3 counters, got 8');
    expect(() => blocks(0)).toThrow(/members: must be an integer in \[1, 1048576\], got 0/);
    const c = blocks(2);
    expect(() => c.base(2)).toThrow('member: must be an integer in [0, 1], got 2');
    expect(() => c.add(-1, 'ops')).toThrow(/member/);
    expect(() => c.offsetOf('nope')).toThrow(/unknown counter/);
  });
});
