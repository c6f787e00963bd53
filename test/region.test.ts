import { describe, expect, it } from 'vitest';
import { attachRegion, createRegion } from '../src/shared/region.js';

describe('region smoke', () => {
  it('round-trips a handle', () => {
    const spec = { kind: 't', version: 1, sections: [{ name: 'a', type: 'i32' as const, length: 4 }] };
    const r = createRegion(spec);
    r.i32('a')[2] = 7;
    const r2 = attachRegion(structuredClone(r.handle), { kind: 't', version: 1, spec });
    expect(r2.i32('a')[2]).toBe(7);
  });
});
