/**
 * Per-worker counter blocks: padded to whole cache lines, disjoint, summed by total().
 */
import { describe, expect, it } from 'vitest';
import { CACHE_LINE_WORDS, CounterBlocks, counterStride, counterWords } from '../src/shared/counters.js';
import { ConfigError } from '../src/shared/validate.js';

const NAMES = ['ops', 'retries', 'fails'] as const;

function blocks(slots: number, names: readonly string[] = NAMES): CounterBlocks<string> {
  return new CounterBlocks(new Int32Array(new SharedArrayBuffer(counterWords(names.length, slots) * 4)), names, slots);
}

describe('counter blocks', () => {
  it('have a stride that is a whole number of 64-byte lines (a multiple of 16 words)', () => {
    expect(CACHE_LINE_WORDS).toBe(16);
    for (let n = 0; n <= 70; n++) {
      const stride = counterStride(n);
      expect(stride % 16).toBe(0);
      // n counters plus the claim flag, and never a whole spare line.
      expect(stride).toBeGreaterThanOrEqual(n + 1);
      expect(stride - (n + 1)).toBeLessThan(16);
    }
    expect(counterWords(17, 3)).toBe(32 * 3);
    expect(counterWords(15, 3)).toBe(16 * 3);
    expect(counterWords(16, 3)).toBe(32 * 3);
  });

  it('hand out each block to one claimant at a time, and take it back', () => {
    const c = blocks(3);
    expect([c.claimMember(), c.claimMember(), c.claimMember(), c.claimMember()]).toEqual([0, 1, 2, -1]);
    c.add(1, NAMES[0]!, 5);
    c.releaseMember(1);
    expect(() => c.releaseMember(1)).toThrow(/member: counter block 1 is not claimed/);
    expect(c.claimMember()).toBe(1);
    // The former names (still called by src/alloc) do the same.
    c.releaseSlot(1);
    expect(c.claimSlot()).toBe(1);
    // A block's counts survive its release, so totals stay exact.
    expect(c.total()[NAMES[0]!]).toBe(5);
  });

  it('do not overlap: bumping one member block changes no other', () => {
    const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
    const c = blocks(5, names);
    expect(c.stride).toBe(32);
    for (let s = 0; s < 5; s++) {
      expect(c.base(s)).toBe(s * 32);
      expect(c.base(s) % 16).toBe(0);
    }
    for (const name of names) c.add(2, name, 7);
    for (let s = 0; s < 5; s++) {
      const values = Object.values(c.read(s));
      expect(values).toEqual(new Array(20).fill(s === 2 ? 7 : 0));
    }
    // Every word of member 2's counters lies inside [base(2), base(3)).
    const raw = c.raw;
    const touched = Array.from(raw.keys()).filter((i) => raw[i] !== 0);
    expect(Math.min(...touched)).toBeGreaterThanOrEqual(c.base(2));
    expect(Math.max(...touched)).toBeLessThan(c.base(3));
  });

  it('total() sums each counter over every block; reset() clears one member', () => {
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

  it('reject too few words and out-of-range members, naming the parameter', () => {
    expect(() => new CounterBlocks(new Int32Array(new SharedArrayBuffer(4 * 16)), NAMES, 2)).toThrow(ConfigError);
    expect(() => new CounterBlocks(new Int32Array(new SharedArrayBuffer(4 * 16)), NAMES, 2)).toThrow('counter words: need 32 words for 2 members of 3 counters, got 16');
    expect(() => blocks(0)).toThrow(/members: must be an integer in \[1, 1048576\], got 0/);
    const c = blocks(2);
    expect(() => c.base(2)).toThrow('member: must be an integer in [0, 1], got 2');
    expect(() => c.add(-1, 'ops')).toThrow(/member/);
  });
});
